package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/wechat"
)

const (
	tplProgress = "TPL-PROGRESS" // repair progress and greetings share it in these tests
	tplNotice   = "TPL-NOTICE"
)

// fakeWechatServer is the WeChat API: tokens, and subscribe messages whose
// answer depends on the openid's mode ("" = ok, "43101", "40003", "503").
type fakeWechatServer struct {
	t       *testing.T
	srv     *httptest.Server
	fetches atomic.Int32

	mu    sync.Mutex
	modes map[string]string
	sent  []fakeWechatMsg
}

type fakeWechatMsg struct {
	ToUser     string                       `json:"touser"`
	TemplateID string                       `json:"template_id"`
	Page       string                       `json:"page"`
	Data       map[string]map[string]string `json:"data"`
	State      string                       `json:"miniprogram_state"`
	Lang       string                       `json:"lang"`
}

func newFakeWechatServer(t *testing.T) *fakeWechatServer {
	f := &fakeWechatServer{t: t, modes: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cgi-bin/token":
			n := f.fetches.Add(1)
			_, _ = fmt.Fprintf(w, `{"access_token":"tok%d","expires_in":7200}`, n)
		case "/cgi-bin/message/subscribe/send":
			if !strings.HasPrefix(r.URL.Query().Get("access_token"), "tok") {
				_, _ = w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential"}`))
				return
			}
			var m fakeWechatMsg
			if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
				t.Errorf("subscribe body: %v", err)
			}
			f.mu.Lock()
			mode := f.modes[m.ToUser]
			if mode == "" {
				f.sent = append(f.sent, m)
			}
			f.mu.Unlock()
			switch mode {
			case "":
				_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
			case "503":
				http.Error(w, "busy", http.StatusServiceUnavailable)
			default:
				_, _ = fmt.Fprintf(w, `{"errcode":%s,"errmsg":"fake"}`, mode)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWechatServer) setMode(openid, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes[openid] = mode
}

func (f *fakeWechatServer) messages() []fakeWechatMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeWechatMsg(nil), f.sent...)
}

type wechatFixture struct {
	db   *mongo.DB
	w    *Wechat
	fake *fakeWechatServer
}

func newWechatFixture(t *testing.T) *wechatFixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	fake := newFakeWechatServer(t)
	client := &wechat.Client{BaseURL: fake.srv.URL, AppID: "app", Secret: "sec"}
	w := NewWechat(client, wechat.NewAccessTokens(client, nil), db, WechatConfig{
		Templates: map[Kind]string{RepairProgress: tplProgress, FestivalGreeting: tplProgress, Announcement: tplNotice},
		Page:      "pages/inbox/index",
	}, slog.New(slog.DiscardHandler))
	return &wechatFixture{db: db, w: w, fake: fake}
}

// bind gives a person a mini-program binding, as identity does.
func (fx *wechatFixture) bind(t *testing.T, personID, openid string) {
	t.Helper()
	_, err := fx.db.Collection("wechat_bindings").InsertOne(context.Background(),
		bson.D{{Key: "_id", Value: openid}, {Key: "personId", Value: personID}, {Key: "boundAt", Value: time.Now().UTC()}})
	if err != nil {
		t.Fatal(err)
	}
}

func (fx *wechatFixture) accept(t *testing.T, personID string, results map[string]bool) {
	t.Helper()
	if err := fx.w.RecordSubscription(context.Background(), &access.Caller{Kind: auth.KindPerson, ID: personID}, results); err != nil {
		t.Fatalf("RecordSubscription: %v", err)
	}
}

func (fx *wechatFixture) grants(t *testing.T, personID string) map[string]int {
	t.Helper()
	g, err := fx.w.Grants(context.Background(), personID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func wxOut(delivery, person string, kind Kind) Outgoing {
	return Outgoing{
		DeliveryID: delivery, NotificationID: "n-" + delivery, RecipientKind: auth.KindPerson, RecipientID: person,
		Kind: kind, Priority: Specs[kind].Priority, Title: string(kind), Body: "body of " + delivery, Attempt: 1,
	}
}

func wantStatus(t *testing.T, res []Result, want map[string]string) {
	t.Helper()
	if len(res) != len(want) {
		t.Fatalf("results %+v; want %v", res, want)
	}
	for _, r := range res {
		if want[r.DeliveryID] != r.Status {
			t.Errorf("%s: %s (%s); want %s", r.DeliveryID, r.Status, r.Error, want[r.DeliveryID])
		}
	}
}

func TestWechatChannel(t *testing.T) {
	fx := newWechatFixture(t)
	var _ Sender = fx.w
	if fx.w.Channel() != ChannelWechat {
		t.Fatal(fx.w.Channel())
	}
}

func TestWechatGrantsCounted(t *testing.T) {
	fx := newWechatFixture(t)
	fx.accept(t, "p1", map[string]bool{tplProgress: true, tplNotice: false})
	fx.accept(t, "p1", map[string]bool{tplProgress: true, tplNotice: true})
	fx.accept(t, "p2", map[string]bool{tplNotice: true})
	if g := fx.grants(t, "p1"); len(g) != 2 || g[tplProgress] != 2 || g[tplNotice] != 1 {
		t.Fatalf("p1 grants %v", g)
	}
	if g := fx.grants(t, "p2"); len(g) != 1 || g[tplNotice] != 1 {
		t.Fatalf("p2 grants %v", g)
	}
	if g := fx.grants(t, "p3"); len(g) != 0 {
		t.Fatalf("p3 grants %v", g)
	}
}

func TestWechatRecordSubscriptionRejects(t *testing.T) {
	fx := newWechatFixture(t)
	ctx := context.Background()
	err := fx.w.RecordSubscription(ctx, &access.Caller{Kind: auth.KindPerson, ID: "p1"}, map[string]bool{tplProgress: true, "made-up": true})
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadUserInput || e.Field != "templateIds" {
		t.Fatalf("unknown template: %v; want BAD_USER_INPUT on templateIds", err)
	}
	if msg := apperr.Message(e, apperr.EN); !strings.Contains(msg, "made-up") {
		t.Errorf("message %q", msg)
	}
	if g := fx.grants(t, "p1"); len(g) != 0 {
		t.Fatalf("a rejected report stored grants: %v", g)
	}
	if err := fx.w.RecordSubscription(ctx, nil, map[string]bool{tplProgress: true}); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatalf("no caller: %v", err)
	}
	if err := fx.w.RecordSubscription(ctx, &access.Caller{Kind: auth.KindStaff, ID: "s1"}, map[string]bool{tplProgress: true}); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("staff: %v", err)
	}
}

func TestWechatOneGrantOneMessage(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	ctx := context.Background()

	o := wxOut("d1", "p1", RepairProgress)
	o.Title = "报修进度：维修师傅已上门处理"
	o.Body = "您的报修「厨房水龙头漏水，请尽快安排师傅上门维修」已经完成"
	wantStatus(t, fx.w.Send(ctx, []Outgoing{o}), map[string]string{"d1": StatusSent})
	msgs := fx.fake.messages()
	if len(msgs) != 1 {
		t.Fatalf("WeChat got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.ToUser != "open-p1" || m.TemplateID != tplProgress || m.Page != "pages/inbox/index?notificationId=n-d1" ||
		m.State != "formal" || m.Lang != "zh_CN" {
		t.Fatalf("message %+v", m)
	}
	if v := m.Data["thing1"]["value"]; v != "报修进度：维修师傅已上门处理" {
		t.Errorf("thing1 %q", v)
	}
	if v := m.Data["thing2"]["value"]; len([]rune(v)) != 20 || !strings.HasSuffix(v, "…") || !strings.HasPrefix(v, "您的报修「厨房水龙头漏水") {
		t.Errorf("thing2 %q; want the body cut to 20 characters", v)
	}
	if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
		t.Fatalf("grants after sending %v", g)
	}

	res := fx.w.Send(ctx, []Outgoing{wxOut("d2", "p1", RepairProgress)})
	wantStatus(t, res, map[string]string{"d2": StatusUndeliverable})
	if res[0].Error != "no subscription grant; inbox only" {
		t.Errorf("error %q", res[0].Error)
	}
	if n := len(fx.fake.messages()); n != 1 {
		t.Fatalf("WeChat got %d messages; want still 1", n)
	}
}

func TestWechatGrantGoesToMostImportant(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	// The greeting comes first in the batch; the repair notice still wins.
	batch := []Outgoing{wxOut("greet", "p1", FestivalGreeting), wxOut("repair", "p1", RepairProgress)}
	res := fx.w.Send(context.Background(), batch)
	wantStatus(t, res, map[string]string{"repair": StatusSent, "greet": StatusUndeliverable})
	msgs := fx.fake.messages()
	if len(msgs) != 1 || msgs[0].Data["thing1"]["value"] != "REPAIR_PROGRESS" {
		t.Fatalf("WeChat got %+v", msgs)
	}
}

func TestWechatPriorityAcrossUsersAndTemplates(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.bind(t, "p2", "open-p2")
	fx.accept(t, "p1", map[string]bool{tplProgress: true, tplNotice: true})
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	fx.accept(t, "p2", map[string]bool{tplProgress: true})
	batch := []Outgoing{
		wxOut("g1", "p1", FestivalGreeting), wxOut("g2", "p1", FestivalGreeting), wxOut("r1", "p1", RepairProgress),
		wxOut("a1", "p1", Announcement), wxOut("a2", "p1", Announcement),
		wxOut("g3", "p2", FestivalGreeting),
		wxOut("s1", "p1", SurveyInvitation), // no template configured
		wxOut("x1", "p9", RepairProgress),   // no mini program
		{DeliveryID: "staff", RecipientKind: auth.KindStaff, RecipientID: "p1", Kind: RepairProgress, Priority: 80},
	}
	res := fx.w.Send(context.Background(), batch)
	wantStatus(t, res, map[string]string{
		"r1": StatusSent, "g1": StatusSent, "g2": StatusUndeliverable,
		"a1": StatusSent, "a2": StatusUndeliverable, "g3": StatusSent,
		"s1": StatusUndeliverable, "x1": StatusUndeliverable, "staff": StatusUndeliverable,
	})
	errs := map[string]string{}
	for _, r := range res {
		errs[r.DeliveryID] = r.Error
	}
	if errs["s1"] != "no template" || errs["x1"] != "no mini program" || errs["staff"] != "no mini program" {
		t.Fatalf("errors %v", errs)
	}
	if n := len(fx.fake.messages()); n != 4 {
		t.Fatalf("WeChat got %d messages; want 4", n)
	}
	if g := fx.grants(t, "p1"); g[tplProgress]+g[tplNotice] != 0 {
		t.Fatalf("grants left %v", g)
	}
}

func TestWechatNoGrantAtWechatClearsGrants(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	for range 3 {
		fx.accept(t, "p1", map[string]bool{tplProgress: true, tplNotice: true})
	}
	fx.fake.setMode("open-p1", "43101")
	res := fx.w.Send(context.Background(), []Outgoing{wxOut("d1", "p1", RepairProgress)})
	wantStatus(t, res, map[string]string{"d1": StatusUndeliverable})
	if !strings.Contains(res[0].Error, "43101") {
		t.Errorf("error %q", res[0].Error)
	}
	g := fx.grants(t, "p1")
	if g[tplProgress] != 0 || g[tplNotice] != 3 {
		t.Fatalf("grants after 43101 = %v; want the template's cleared, others kept", g)
	}
}

func TestWechatUnavailableRetriesAndRestoresGrant(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	fx.fake.setMode("open-p1", "503")
	ctx := context.Background()
	res := fx.w.Send(ctx, []Outgoing{wxOut("d1", "p1", RepairProgress)})
	wantStatus(t, res, map[string]string{"d1": StatusRetry})
	if g := fx.grants(t, "p1"); g[tplProgress] != 1 {
		t.Fatalf("grants after 503 = %v; want the grant back", g)
	}
	fx.fake.setMode("open-p1", "")
	res = fx.w.Send(ctx, []Outgoing{wxOut("d1", "p1", RepairProgress)})
	wantStatus(t, res, map[string]string{"d1": StatusSent})
	if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
		t.Fatalf("grants after sending %v", g)
	}
}

func TestWechatBadOpenID(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	fx.fake.setMode("open-p1", "40003")
	wantStatus(t, fx.w.Send(context.Background(), []Outgoing{wxOut("d1", "p1", RepairProgress)}), map[string]string{"d1": StatusUndeliverable})
}

func TestWechatConcurrentSpendExactlyOnce(t *testing.T) {
	for round := range 5 {
		fx := newWechatFixture(t)
		fx.bind(t, "p1", "open-p1")
		fx.accept(t, "p1", map[string]bool{tplProgress: true})
		var wg sync.WaitGroup
		results := make([][]Result, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = fx.w.Send(context.Background(), []Outgoing{wxOut(fmt.Sprintf("d%d", i), "p1", RepairProgress)})
			}()
		}
		close(start)
		wg.Wait()
		sent := 0
		for _, rs := range results {
			if len(rs) != 1 {
				t.Fatalf("results %v", rs)
			}
			switch rs[0].Status {
			case StatusSent:
				sent++
			case StatusUndeliverable:
			default:
				t.Fatalf("round %d: unexpected %+v", round, rs[0])
			}
		}
		if sent != 1 || len(fx.fake.messages()) != 1 {
			t.Fatalf("round %d: %d SENT, WeChat got %d; want exactly one", round, sent, len(fx.fake.messages()))
		}
		if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
			t.Fatalf("grants left %v", g)
		}
	}
}

func TestWechatTokenCachedAcrossBatches(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	for range 3 {
		fx.accept(t, "p1", map[string]bool{tplProgress: true})
	}
	for i := range 3 {
		wantStatus(t, fx.w.Send(context.Background(), []Outgoing{wxOut(fmt.Sprint(i), "p1", RepairProgress)}), map[string]string{fmt.Sprint(i): StatusSent})
	}
	if n := fx.fake.fetches.Load(); n != 1 {
		t.Fatalf("token fetched %d times", n)
	}
}

func TestWechatThing(t *testing.T) {
	for in, want := range map[string]string{
		"":             "-",
		"  短 标题\n第二行 ": "短 标题 第二行",
		"一二三四五六七八九十一二三四五六七八九十":      "一二三四五六七八九十一二三四五六七八九十",
		"一二三四五六七八九十一二三四五六七八九十一":     "一二三四五六七八九十一二三四五六七八九…",
		"Repair update: on the way": "Repair update: on t…",
	} {
		if got := wechatThing(in); got != want {
			t.Errorf("wechatThing(%q) = %q; want %q", in, got, want)
		}
	}
}

// oldestGrant is the grant Send would pick first for a user and template.
func (fx *wechatFixture) oldestGrant(t *testing.T, personID, tpl string) string {
	t.Helper()
	var g wechatGrant
	err := fx.db.Collection(colWechatGrants).FindOne(context.Background(),
		bson.D{{Key: "userId", Value: personID}, {Key: "templateId", Value: tpl}},
		options.FindOne().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})).Decode(&g)
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// A grant another sender has claimed but not yet deleted (or whose sender
// died in between) is never spent again, and is cleaned up.
func TestWechatClaimedGrantNotSpentTwice(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	id := fx.oldestGrant(t, "p1", tplProgress)
	if _, err := fx.db.Collection(colWechatSpends).InsertOne(context.Background(), bson.D{{Key: "_id", Value: "spent:" + id}, {Key: "at", Value: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, fx.w.Send(context.Background(), []Outgoing{wxOut("d1", "p1", RepairProgress)}), map[string]string{"d1": StatusUndeliverable})
	if n := len(fx.fake.messages()); n != 0 {
		t.Fatalf("WeChat got %d messages", n)
	}
	if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
		t.Fatalf("the claimed grant is still counted: %v", g)
	}
}

// Losing the first grant to another sender: the next one is tried, and the
// grant won goes to the most important delivery even though a less important
// one's claim is the one that succeeded.
func TestWechatLostClaimKeepsPriority(t *testing.T) {
	fx := newWechatFixture(t)
	fx.bind(t, "p1", "open-p1")
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	id := fx.oldestGrant(t, "p1", tplProgress)
	if _, err := fx.db.Collection(colWechatSpends).InsertOne(context.Background(), bson.D{{Key: "_id", Value: "spent:" + id}, {Key: "at", Value: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	res := fx.w.Send(context.Background(), []Outgoing{wxOut("greet", "p1", FestivalGreeting), wxOut("repair", "p1", RepairProgress)})
	wantStatus(t, res, map[string]string{"repair": StatusSent, "greet": StatusUndeliverable})
	if msgs := fx.fake.messages(); len(msgs) != 1 || msgs[0].Data["thing1"]["value"] != "REPAIR_PROGRESS" {
		t.Fatalf("WeChat got %+v", msgs)
	}
	if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
		t.Fatalf("grants left %v", g)
	}
}

func TestWechatSweepSpends(t *testing.T) {
	fx := newWechatFixture(t)
	fx.accept(t, "p1", map[string]bool{tplProgress: true})
	id := fx.oldestGrant(t, "p1", tplProgress)
	ctx := context.Background()
	// A sender died between claiming the grant and deleting it.
	if _, err := fx.db.Collection(colWechatSpends).InsertOne(ctx, bson.D{{Key: "_id", Value: "spent:" + id}, {Key: "at", Value: time.Now().Add(-48 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := fx.w.SweepSpends(ctx, time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if g := fx.grants(t, "p1"); g[tplProgress] != 0 {
		t.Fatalf("grants %v; the orphaned grant must go with its claim", g)
	}
	if n, _ := fx.db.Collection(colWechatSpends).CountDocuments(ctx, bson.D{}); n != 0 {
		t.Fatalf("%d claims left", n)
	}
}
