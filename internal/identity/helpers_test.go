package identity

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/sms"
	"qinqing/internal/platform/wechat"
)

func TestMain(m *testing.M) {
	BcryptCost = bcrypt.MinCost
	os.Exit(mongo.RunTests(m))
}

// clock is a hand-moved time source shared by the service and the tokens.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeStaff stands in for the staff package.
type fakeStaff map[string]struct{ id, hash string }

func (f fakeStaff) StaffCredentials(_ context.Context, account string) (string, string, bool, error) {
	s, ok := f[account]
	return s.id, s.hash, ok, nil
}

// fakePeople stands in for the households package; tests may remove entries.
type fakePeople struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *fakePeople) PersonByPhone(_ context.Context, phone string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.m[phone]
	return id, ok, nil
}

func (f *fakePeople) InvitedPhone(context.Context, string) (bool, error) { return false, nil }

func (f *fakePeople) ClaimInvitedPhone(ctx context.Context, phone string) (string, bool, error) {
	return f.PersonByPhone(ctx, phone)
}

func (f *fakePeople) remove(phone string) { f.mu.Lock(); defer f.mu.Unlock(); delete(f.m, phone) }

// smsGateway is a fake SMS gateway behind the real sms.HTTPSender.
type smsGateway struct {
	mu   sync.Mutex
	msgs []struct{ Phone, Text string }
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/send" || r.Header.Get("Authorization") != "Bearer test-key" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var m struct{ Phone, Text string }
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.msgs = append(g.msgs, m)
	g.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (g *smsGateway) count() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.msgs) }

var codeInText = regexp.MustCompile(`^【亲情物业】您的登录验证码是 (\d{6})，5分钟内有效。如非本人操作请忽略。$`)

// lastCode returns the code of the last message to phone.
func (g *smsGateway) lastCode(t *testing.T, phone string) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.msgs) - 1; i >= 0; i-- {
		if g.msgs[i].Phone == phone {
			m := codeInText.FindStringSubmatch(g.msgs[i].Text)
			if m == nil {
				t.Fatalf("unexpected SMS text %q", g.msgs[i].Text)
			}
			return m[1]
		}
	}
	t.Fatalf("no SMS sent to %s", phone)
	return ""
}

// wechatServer is a fake jscode2session: codes map to openids; "used-code"
// is rejected as WeChat rejects a used code and "boom" fails with HTTP 500.
func wechatServer(t *testing.T, openids map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "wx-app" || q.Get("secret") != "wx-secret" ||
			q.Get("grant_type") != "authorization_code" {
			t.Errorf("unexpected wechat request %s", r.URL)
		}
		code := q.Get("js_code")
		switch {
		case code == "boom":
			http.Error(w, "internal", http.StatusInternalServerError)
		case code == "used-code":
			_, _ = w.Write([]byte(`{"errcode":40163,"errmsg":"code been used"}`))
		case openids[code] != "":
			_, _ = w.Write([]byte(`{"openid":"` + openids[code] + `","session_key":"sk"}`))
		default:
			_, _ = w.Write([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

type env struct {
	svc    *Service
	db     *mongo.DB
	clock  *clock
	sms    *smsGateway
	people *fakePeople
	tokens *auth.Tokens
	ctx    context.Context
}

const (
	ownerPhone   = "13800000001"
	ownerID      = "p-owner"
	staffAccount = "wang.butler"
	staffID      = "s-wang"
	staffPass    = "correct horse 1"
)

// wxCodes maps the codes the fake WeChat server accepts to openids.
var wxCodes = map[string]string{"code-bound": "openid-bound", "code-new": "openid-new", "code-new-2": "openid-new"}

func newEnv(t *testing.T, tweak ...func(*Config)) *env {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	clk := &clock{t: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
	tokens, err := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	gw := &smsGateway{}
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)
	wx := &wechat.Client{BaseURL: wechatServer(t, wxCodes).URL, AppID: "wx-app", Secret: "wx-secret"}
	hash, err := HashPassword(staffPass)
	if err != nil {
		t.Fatal(err)
	}
	people := &fakePeople{m: map[string]string{ownerPhone: ownerID, "13900000002": "p-second"}}
	cfg := DefaultConfig()
	cfg.CodeSecret = []byte("test code secret")
	for _, f := range tweak {
		f(&cfg)
	}
	svc := NewService(db, cfg, tokens,
		sms.HTTPSender{BaseURL: gwSrv.URL, APIKey: "test-key"}, wx,
		fakeStaff{staffAccount: {staffID, hash}}, people, nil, clk.now, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := db.Collection(colBindings).InsertOne(ctx, bindingDoc{OpenID: "openid-bound", PersonID: ownerID, BoundAt: clk.now()}); err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, db: db, clock: clk, sms: gw, people: people, tokens: tokens, ctx: ctx}
}

// wantErr checks err is the sentinel and carries the API code it maps to.
func wantErr(t *testing.T, err error, sentinel *apperr.Error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
	if e, _ := apperr.As(err); e.Code != sentinel.Code || e.Field != sentinel.Field {
		t.Fatalf("error = %#v, want code %s field %q", e, sentinel.Code, sentinel.Field)
	}
}

// checkSession verifies the access token says what the session says.
func (e *env) checkSession(t *testing.T, s *Session, kind auth.Kind, subject string) {
	t.Helper()
	if s == nil || s.Kind != kind || s.SubjectID != subject || s.RefreshToken == "" || s.FamilyID == "" {
		t.Fatalf("session = %+v, want %s %s", s, kind, subject)
	}
	c, err := e.tokens.Verify(s.AccessToken)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	if c.Kind != kind || c.Subject != subject || c.Session != s.FamilyID {
		t.Fatalf("claims = %+v", c)
	}
	if !s.AccessTokenExpiresAt.Equal(e.clock.now().Add(15*time.Minute)) || !s.RefreshTokenExpiresAt.Equal(e.clock.now().Add(30*24*time.Hour)) {
		t.Fatalf("expiry access %v refresh %v", s.AccessTokenExpiresAt, s.RefreshTokenExpiresAt)
	}
}

// loginOwner signs the owner in by SMS code.
func (e *env) loginOwner(t *testing.T) *Session {
	t.Helper()
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.LoginWithCode(e.ctx, ownerPhone, e.sms.lastCode(t, ownerPhone), "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// subscribe runs the real event spine for the service and returns the
// events of one type it publishes.
func (e *env) subscribe(t *testing.T, typ string) <-chan events.Event {
	t.Helper()
	bus := events.NewBus(e.db, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-bus.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("event bus not ready")
	}
	e.svc.bus = bus
	ch, _ := bus.Subscribe(func(ev events.Event) bool { return ev.Type == typ }, 16)
	return ch
}

func recvEvent(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event published")
		return events.Event{}
	}
}
