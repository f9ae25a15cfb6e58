package announce

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// cutSender passes messages to the real engine; while cut is set it sends
// only the first recipient and then fails, like a crash mid-fan-out.
type cutSender struct {
	engine *notify.Engine
	mu     sync.Mutex
	cut    bool
}

func (s *cutSender) Send(ctx context.Context, msg notify.Message) (int, error) {
	s.mu.Lock()
	cut := s.cut
	s.mu.Unlock()
	if cut && len(msg.Recipients) > 1 {
		msg.Recipients = msg.Recipients[:1]
		n, _ := s.engine.Send(ctx, msg)
		return n, errors.New("engine went away")
	}
	return s.engine.Send(ctx, msg)
}

// world: community X with building XB1 (HA: owner A and family FA, flagged
// ELDERLY_ALONE; HB: owner B, flagged HARDSHIP) and XB2 (HC: owner C, with
// owner A also a family member there); community Y with HY (owner Y).
type world struct {
	db     *mongo.DB
	svc    *Service
	clock  *clock
	sender *cutSender

	X, Y       *community.Community
	XB1, XB2   *community.Building
	HA, HB, HC *household.Household

	ownerA, familyA, ownerB, ownerC, ownerY                   *access.Caller
	butlerX, supervisorX, engineerX, securityX, admin, staffY *access.Caller
}

func staffCaller(id string, role access.Role, communities ...string) *access.Caller {
	return &access.Caller{Kind: auth.KindStaff, ID: id, Roles: []access.Role{role}, Communities: communities}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// 10:00 in Shanghai: outside default quiet hours.
	clk := &clock{t: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)}
	communities := community.NewService(db, "co", clk.Now)
	households := household.NewService(db, communities, nil, nil, clk.Now)
	engine := notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: clk.Now})
	w := &world{db: db, clock: clk, sender: &cutSender{engine: engine}}
	w.svc = NewService(db, households, communities, files.NewStore(db, clk.Now), w.sender, nil, clk.Now)
	w.admin = staffCaller("admin", access.Admin)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.X, err = communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "春晖苑"})
	must(err)
	w.Y, err = communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "桂香园"})
	must(err)
	w.XB1, err = communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.X.ID, Name: "1", Units: []string{"1"}})
	must(err)
	w.XB2, err = communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.X.ID, Name: "2", Units: []string{"1"}})
	must(err)
	yb, err := communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.Y.ID, Name: "1", Units: []string{"1"}})
	must(err)
	flat := func(b *community.Building, room string) *household.Household {
		h, err := households.Create(ctx, w.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		must(err)
		return h
	}
	add := func(h *household.Household, in household.AddMemberInput) string {
		in.HouseholdID = h.ID
		m, err := households.AddMember(ctx, w.admin, in)
		must(err)
		return m.PersonID
	}
	person := func(h *household.Household, name, phone string, role access.Role) string {
		return add(h, household.AddMemberInput{Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
	}
	w.HA, w.HB, w.HC = flat(w.XB1, "101"), flat(w.XB1, "102"), flat(w.XB2, "201")
	hy := flat(yb, "301")
	a := person(w.HA, "王建国", "13900000001", access.Owner)
	fa := person(w.HA, "王小红", "13900000011", access.Family)
	b := person(w.HB, "李秀英", "13900000002", access.Owner)
	c := person(w.HC, "赵小明", "13900000003", access.Owner)
	add(w.HC, household.AddMemberInput{PersonID: a, Role: access.Family})
	y := person(hy, "陈美兰", "13900000004", access.Owner)
	must(households.SetCareFlags(ctx, w.HA.ID, []string{string(archive.ElderlyAlone)}))
	must(households.SetCareFlags(ctx, w.HB.ID, []string{string(archive.Hardship)}))
	callerOf := func(id string) *access.Caller {
		c, err := households.Caller(ctx, id, "")
		must(err)
		return c
	}
	w.ownerA, w.familyA, w.ownerB, w.ownerC, w.ownerY = callerOf(a), callerOf(fa), callerOf(b), callerOf(c), callerOf(y)
	w.butlerX = staffCaller("butler-x", access.Butler, w.X.ID)
	w.butlerX.Buildings = []string{w.XB1.ID}
	w.supervisorX = staffCaller("supervisor-x", access.Supervisor, w.X.ID)
	w.engineerX = staffCaller("engineer-x", access.Engineer, w.X.ID)
	w.securityX = staffCaller("security-x", access.Security, w.X.ID)
	w.staffY = staffCaller("butler-y", access.Butler, w.Y.ID)
	return w
}

func (w *world) publish(t *testing.T, c *access.Caller, in Input) *Announcement {
	t.Helper()
	if in.CommunityID == "" {
		in.CommunityID = w.X.ID
	}
	if in.Title == "" {
		in.Title = "停水通知"
	}
	if in.Body == "" {
		in.Body = "因管道检修，明日 9:00-15:00 停水，请提前储水。"
	}
	if in.Kind == "" {
		in.Kind = Outage
	}
	a, err := w.svc.Publish(ctx, c, in)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return a
}

// got maps recipient id to the number of inbox entries with key.
func (w *world) got(t *testing.T, key string) map[string]int {
	t.Helper()
	cur, err := w.db.Collection("notifications").Find(ctx, bson.D{{Key: "key", Value: key}})
	if err != nil {
		t.Fatal(err)
	}
	var ns []notify.Notification
	if err := cur.All(ctx, &ns); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range ns {
		out[n.RecipientID]++
	}
	return out
}

func (w *world) wantRecipients(t *testing.T, key string, want ...*access.Caller) {
	t.Helper()
	got := w.got(t, key)
	if len(got) != len(want) {
		t.Errorf("%s reached %d persons, want %d: %v", key, len(got), len(want), got)
	}
	for _, c := range want {
		if got[c.ID] != 1 {
			t.Errorf("%s: person %s has %d messages, want 1", key, c.ID, got[c.ID])
		}
	}
}

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func field(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

func ids(as []*Announcement) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func (w *world) list(t *testing.T, c *access.Caller) []*Announcement {
	t.Helper()
	pg, err := w.svc.List(ctx, c, w.X.ID, page.Request{First: 50})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return pg.Items
}

func TestWholeCommunityReachesEveryPersonOnce(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{})
	// Owner A lives in HA and HC: still one message.
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerA, w.familyA, w.ownerB, w.ownerC)
	if a.Recipients != 4 || a.SendAt != w.clock.Now() || !a.Delivered {
		t.Errorf("recipients %d sendAt %v delivered %v", a.Recipients, a.SendAt, a.Delivered)
	}
	var n notify.Notification
	if err := w.db.Collection("notifications").FindOne(ctx, bson.D{{Key: "recipientId", Value: w.ownerB.ID}}).Decode(&n); err != nil {
		t.Fatal(err)
	}
	if n.Kind != notify.Announcement || n.Title != "停水通知" || !strings.Contains(n.Body, "停水") || n.Data["announcementId"] != a.ID {
		t.Errorf("notification %+v", n)
	}
	for _, c := range []*access.Caller{w.ownerA, w.familyA, w.ownerC, w.butlerX, w.engineerX, w.admin} {
		if got := ids(w.list(t, c)); len(got) != 1 || got[0] != a.ID {
			t.Errorf("%s sees %v", c.ID, got)
		}
	}
}

func TestBuildingAudience(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{Audience: Audience{BuildingIDs: []string{w.XB2.ID}}})
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerA, w.ownerC) // A is family in HC
	if got := w.list(t, w.ownerB); len(got) != 0 {
		t.Errorf("owner B (building 1) sees %v", ids(got))
	}
	if _, err := w.svc.Get(ctx, w.familyA, a.ID); code(err) != apperr.NotFound {
		t.Errorf("family A (building 1 only) get: %v", err)
	}
	if got := w.list(t, w.ownerC); len(got) != 1 {
		t.Errorf("owner C sees %v", ids(got))
	}
	// A building of another community is not a building of this one.
	_, err := w.svc.Publish(ctx, w.admin, Input{CommunityID: w.Y.ID, Title: "t", Body: "b", Kind: Notice, Audience: Audience{BuildingIDs: []string{w.XB1.ID}}})
	if code(err) != apperr.NotFound || field(err) != "input.audience.buildingIds" {
		t.Errorf("foreign building: %v", err)
	}
}

func TestCareFlagAudience(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{Kind: WarmTip, Title: "高温提醒", Body: "今日高温，请独居老人注意防暑。",
		Audience: Audience{CareFlags: []archive.Flag{archive.ElderlyAlone}}})
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerA, w.familyA)
	if got := w.list(t, w.ownerB); len(got) != 0 {
		t.Errorf("owner B sees %v", ids(got))
	}
	if got := w.list(t, w.familyA); len(got) != 1 {
		t.Errorf("family A sees %v", ids(got))
	}
	// Buildings and flags together narrow to both.
	b := w.publish(t, w.butlerX, Input{Audience: Audience{BuildingIDs: []string{w.XB2.ID}, CareFlags: []archive.Flag{archive.ElderlyAlone}}})
	w.wantRecipients(t, "announcement:"+b.ID)
	if b.Recipients != 0 {
		t.Errorf("recipients %d", b.Recipients)
	}
}

func TestSensitiveFlagOnlyForSupervisors(t *testing.T) {
	w := newWorld(t)
	in := Input{Audience: Audience{CareFlags: []archive.Flag{archive.Hardship}}}
	for _, c := range []*access.Caller{w.butlerX, w.admin} {
		in.CommunityID, in.Title, in.Body, in.Kind = w.X.ID, "困难家庭慰问", "春节慰问品领取通知", Notice
		if _, err := w.svc.Publish(ctx, c, in); code(err) != apperr.Forbidden {
			t.Errorf("%s: %v", c.ID, err)
		}
	}
	w.wantRecipients(t, "announcement:none")
	if n, _ := w.db.Collection("announcements").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("%d stored after refusals", n)
	}
	a := w.publish(t, w.supervisorX, in)
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerB)
	if got := w.list(t, w.ownerB); len(got) != 1 {
		t.Errorf("owner B sees %v", ids(got))
	}
	if _, err := w.svc.Republish(ctx, w.butlerX, a.ID); code(err) != apperr.Forbidden {
		t.Errorf("butler republish: %v", err)
	}
}

func TestScheduledAnnouncement(t *testing.T) {
	w := newWorld(t)
	at := w.clock.Now().Add(4 * time.Hour) // 14:00 in Shanghai
	a := w.publish(t, w.butlerX, Input{SendAt: &at})
	if !a.SendAt.Equal(at) {
		t.Errorf("sendAt %v", a.SendAt)
	}
	cur, err := w.db.Collection("deliveries").Find(ctx, bson.D{{Key: "key", Value: "announcement:" + a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	var ds []notify.Delivery
	if err := cur.All(ctx, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 4 {
		t.Errorf("%d deliveries, want 4", len(ds))
	}
	for _, d := range ds {
		if !d.NextAttemptAt.Equal(at) {
			t.Errorf("delivery %s due %v, want %v", d.ID, d.NextAttemptAt, at)
		}
	}
	if got := w.list(t, w.ownerA); len(got) != 0 {
		t.Errorf("owner sees a scheduled announcement: %v", ids(got))
	}
	if _, err := w.svc.Get(ctx, w.ownerA, a.ID); code(err) != apperr.NotFound {
		t.Errorf("owner get before sendAt: %v", err)
	}
	if _, err := w.svc.MarkRead(ctx, w.ownerA, a.ID); code(err) != apperr.NotFound {
		t.Errorf("owner mark read before sendAt: %v", err)
	}
	if got := w.list(t, w.butlerX); len(got) != 1 {
		t.Errorf("staff see %v", ids(got))
	}
	w.clock.Advance(4 * time.Hour)
	if got := w.list(t, w.ownerA); len(got) != 1 {
		t.Errorf("owner after sendAt sees %v", ids(got))
	}
	// Emergencies are urgent: at night they are still due at once.
	w.clock.Advance(10 * time.Hour) // 04:00 in Shanghai
	e := w.publish(t, w.butlerX, Input{Kind: Emergency, Title: "燃气泄漏", Body: "3栋燃气泄漏，请勿使用明火，立即撤离。"})
	cur, err = w.db.Collection("deliveries").Find(ctx, bson.D{{Key: "key", Value: "announcement:" + e.ID}})
	if err != nil {
		t.Fatal(err)
	}
	ds = nil
	if err := cur.All(ctx, &ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Kind != notify.EmergencyNotice || !d.NextAttemptAt.Equal(w.clock.Now()) {
			t.Errorf("emergency delivery %s kind %s due %v", d.ID, d.Kind, d.NextAttemptAt)
		}
	}
	// Schedules in the past or too far ahead are refused.
	past, far := w.clock.Now().Add(-time.Hour), w.clock.Now().Add(100*24*time.Hour)
	for _, at := range []*time.Time{&past, &far} {
		_, err := w.svc.Publish(ctx, w.butlerX, Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice, SendAt: at})
		if code(err) != apperr.BadUserInput || field(err) != "input.sendAt" {
			t.Errorf("sendAt %v: %v", at, err)
		}
	}
}

func TestFanOutTwiceNoDuplicates(t *testing.T) {
	w := newWorld(t)
	w.sender.cut = true
	a := w.publish(t, w.butlerX, Input{}) // stored, fan-out cut after one person
	if a.Delivered {
		t.Fatal("cut fan-out reported delivered")
	}
	if got := w.got(t, "announcement:"+a.ID); len(got) != 1 {
		t.Fatalf("after the cut: %v", got)
	}
	w.sender.cut = false
	// Too fresh for the sweep: an in-flight publish is left alone.
	if n, err := w.svc.ResumePending(ctx); err != nil || n != 0 {
		t.Errorf("resume fresh: %d %v", n, err)
	}
	w.clock.Advance(2 * time.Minute)
	if n, err := w.svc.ResumePending(ctx); err != nil || n != 1 {
		t.Errorf("resume: %d %v", n, err)
	}
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerA, w.familyA, w.ownerB, w.ownerC)
	// Again, by hand and by the sweep: nothing new.
	again, err := w.svc.Republish(ctx, w.butlerX, a.ID)
	if err != nil || !again.Delivered || again.Recipients != 4 {
		t.Fatalf("republish: %+v %v", again, err)
	}
	if n, err := w.svc.ResumePending(ctx); err != nil || n != 0 {
		t.Errorf("resume after done: %d %v", n, err)
	}
	w.wantRecipients(t, "announcement:"+a.ID, w.ownerA, w.familyA, w.ownerB, w.ownerC)
	if n, _ := w.db.Collection("deliveries").CountDocuments(ctx, bson.D{{Key: "key", Value: "announcement:" + a.ID}}); n != 4 {
		t.Errorf("%d deliveries, want 4", n)
	}
}

func TestReadReceipts(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{})
	w.clock.Advance(time.Second)
	b := w.publish(t, w.butlerX, Input{Title: "端午节安排", Kind: WarmTip})
	for _, c := range []*access.Caller{w.ownerA, w.ownerA, w.familyA} {
		got, err := w.svc.MarkRead(ctx, c, a.ID)
		if err != nil || !got.Read {
			t.Fatalf("mark read: %+v %v", got, err)
		}
	}
	read, recipients, err := w.svc.Receipts(ctx, w.butlerX, a.ID)
	if err != nil || read != 2 || recipients != 4 {
		t.Errorf("receipts %d/%d %v", read, recipients, err)
	}
	if _, _, err := w.svc.Receipts(ctx, w.ownerA, a.ID); code(err) != apperr.Forbidden {
		t.Errorf("owner receipts: %v", err)
	}
	if _, err := w.svc.MarkRead(ctx, w.butlerX, a.ID); code(err) != apperr.Forbidden {
		t.Errorf("staff mark read: %v", err)
	}
	// Owner A's list: newest first, with their read flags; no read counts.
	list := w.list(t, w.ownerA)
	if len(list) != 2 || list[0].ID != b.ID || list[0].Read || !list[1].Read || list[1].ReadCount != nil {
		t.Errorf("owner list %+v", list)
	}
	staffList := w.list(t, w.supervisorX)
	if len(staffList) != 2 || *staffList[1].ReadCount != 2 || *staffList[0].ReadCount != 0 {
		t.Errorf("staff list read counts")
	}
	// Pinned first, however old.
	w.clock.Advance(time.Second)
	p := w.publish(t, w.butlerX, Input{Title: "物业服务热线", Kind: Notice, Pinned: true})
	w.clock.Advance(time.Second)
	n := w.publish(t, w.butlerX, Input{Title: "垃圾分类", Kind: WarmTip})
	if got := ids(w.list(t, w.ownerB)); strings.Join(got, ",") != strings.Join([]string{p.ID, n.ID, b.ID, a.ID}, ",") {
		t.Errorf("order %v", got)
	}
	pg, err := w.svc.List(ctx, w.ownerB, w.X.ID, page.Request{First: 2})
	if err != nil || !pg.HasNext || len(pg.Items) != 2 {
		t.Fatalf("page 1: %v", err)
	}
	pg, err = w.svc.List(ctx, w.ownerB, w.X.ID, page.Request{First: 2, After: pg.Keys[1]})
	if err != nil || pg.HasNext || strings.Join(ids(pg.Items), ",") != b.ID+","+a.ID {
		t.Errorf("page 2: %v %v", ids(pg.Items), err)
	}
}

func TestOtherCommunity(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{})
	for _, c := range []*access.Caller{w.ownerY, w.staffY} {
		if _, err := w.svc.Get(ctx, c, a.ID); code(err) != apperr.NotFound {
			t.Errorf("%s get: %v", c.ID, err)
		}
		if _, err := w.svc.MarkRead(ctx, c, a.ID); code(err) != apperr.NotFound {
			t.Errorf("%s mark read: %v", c.ID, err)
		}
		if _, err := w.svc.List(ctx, c, w.X.ID, page.Request{First: 10}); code(err) != apperr.Forbidden {
			t.Errorf("%s list: %v", c.ID, err)
		}
		if _, err := w.svc.Progress(ctx, c, w.X.ID, page.Request{First: 10}); code(err) != apperr.Forbidden {
			t.Errorf("%s progress: %v", c.ID, err)
		}
	}
	if _, err := w.svc.Publish(ctx, w.staffY, Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice}); code(err) != apperr.Forbidden {
		t.Errorf("staff of Y publishes in X: %v", err)
	}
	if _, err := w.svc.Publish(ctx, w.admin, Input{CommunityID: mongo.NewID(), Title: "t", Body: "b", Kind: Notice}); code(err) != apperr.NotFound {
		t.Errorf("unknown community: %v", err)
	}
	if _, err := w.svc.Get(ctx, w.ownerA, mongo.NewID()); code(err) != apperr.NotFound {
		t.Errorf("unknown id: %v", err)
	}
}

func TestRolesAndValidation(t *testing.T) {
	w := newWorld(t)
	for _, c := range []*access.Caller{w.engineerX, w.securityX, w.ownerA} {
		if _, err := w.svc.Publish(ctx, c, Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice}); code(err) != apperr.Forbidden {
			t.Errorf("%s publishes: %v", c.ID, err)
		}
	}
	w.publish(t, w.admin, Input{})
	w.publish(t, w.supervisorX, Input{})
	long := func(n int) string { return strings.Repeat("水", n) }
	cases := []struct {
		in    Input
		field string
	}{
		{Input{CommunityID: "x", Title: "t", Body: "b", Kind: Notice}, "input.communityId"},
		{Input{CommunityID: w.X.ID, Title: " ", Body: "b", Kind: Notice}, "input.title"},
		{Input{CommunityID: w.X.ID, Title: long(61), Body: "b", Kind: Notice}, "input.title"},
		{Input{CommunityID: w.X.ID, Title: "t", Body: long(2001), Kind: Notice}, "input.body"},
		{Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: "NEWS"}, "input.kind"},
		{Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice, Audience: Audience{CareFlags: []archive.Flag{"VIP"}}}, "input.audience.careFlags"},
		{Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice, Audience: Audience{BuildingIDs: []string{"nope"}}}, "input.audience.buildingIds"},
		{Input{CommunityID: w.X.ID, Title: "t", Body: "b", Kind: Notice, Audience: Audience{BuildingIDs: []string{mongo.NewID()}}}, "input.audience.buildingIds"},
	}
	for _, tc := range cases {
		_, err := w.svc.Publish(ctx, w.butlerX, tc.in)
		if err == nil || field(err) != tc.field {
			t.Errorf("%+v: want error on %s, got %v", tc.in, tc.field, err)
		}
	}
	progressCases := []struct {
		in    ProgressInput
		field string
	}{
		{ProgressInput{CommunityID: w.X.ID, Title: "", Percent: 10}, "input.title"},
		{ProgressInput{CommunityID: w.X.ID, Title: long(61), Percent: 10}, "input.title"},
		{ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: 101}, "input.percent"},
		{ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: -1}, "input.percent"},
		{ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: 5, Text: long(1001)}, "input.text"},
		{ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: 5, BuildingIDs: []string{mongo.NewID()}}, "input.buildingIds"},
		{ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: 5, Photos: []files.Upload{{Filename: "a.txt", Content: strings.NewReader("hello")}}}, "input.photos.0"},
	}
	for _, tc := range progressCases {
		_, err := w.svc.PostProgress(ctx, w.engineerX, tc.in)
		if err == nil || field(err) != tc.field {
			t.Errorf("%s: want error on %s, got %v", tc.in.Title, tc.field, err)
		}
	}
}

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fake image body")

func TestProjectProgress(t *testing.T) {
	w := newWorld(t)
	for _, c := range []*access.Caller{w.securityX, w.ownerA, w.staffY} {
		if _, err := w.svc.PostProgress(ctx, c, ProgressInput{CommunityID: w.X.ID, Title: "电梯更换", Percent: 10}); code(err) != apperr.Forbidden {
			t.Errorf("%s posts: %v", c.ID, err)
		}
	}
	p1, err := w.svc.PostProgress(ctx, w.engineerX, ProgressInput{
		CommunityID: w.X.ID, BuildingIDs: []string{w.XB2.ID}, Title: "2栋电梯更换", Percent: 30, Text: "旧梯已拆除，新梯导轨安装中。",
		Photos: []files.Upload{{Filename: "a.png", Content: bytes.NewReader(png)}, {Filename: "b.png", Content: bytes.NewReader(png)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Photos) != 2 || p1.Recipients != 2 || !p1.Delivered {
		t.Errorf("post %+v", p1)
	}
	w.wantRecipients(t, "progress:"+p1.ID, w.ownerA, w.ownerC)
	var n notify.Notification
	if err := w.db.Collection("notifications").FindOne(ctx, bson.D{{Key: "key", Value: "progress:" + p1.ID}, {Key: "recipientId", Value: w.ownerC.ID}}).Decode(&n); err != nil {
		t.Fatal(err)
	}
	if n.Kind != notify.ProjectProgress || n.Title != "工程进度：2栋电梯更换" || !strings.HasPrefix(n.Body, "已完成 30%。") {
		t.Errorf("notification %q %q", n.Title, n.Body)
	}
	w.clock.Advance(24 * time.Hour)
	p2, err := w.svc.PostProgress(ctx, w.butlerX, ProgressInput{CommunityID: w.X.ID, BuildingIDs: []string{w.XB2.ID}, Title: "2栋电梯更换 ", Percent: 60})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Hour)
	p3, err := w.svc.PostProgress(ctx, w.admin, ProgressInput{CommunityID: w.X.ID, Title: "外墙翻新", Percent: 5})
	if err != nil {
		t.Fatal(err)
	}
	w.wantRecipients(t, "progress:"+p3.ID, w.ownerA, w.familyA, w.ownerB, w.ownerC)
	// Every resident of the community and its staff read the posts.
	for _, c := range []*access.Caller{w.ownerB, w.securityX} {
		pg, err := w.svc.Progress(ctx, c, w.X.ID, page.Request{First: 10})
		if err != nil || len(pg.Items) != 3 || pg.Items[0].ID != p3.ID || pg.Items[2].ID != p1.ID {
			t.Errorf("%s progress: %v", c.ID, err)
		}
	}
	hist, err := w.svc.ProjectHistory(ctx, w.ownerC, w.X.ID, "2栋电梯更换", page.Request{First: 10})
	if err != nil || len(hist.Items) != 2 || hist.Items[0].ID != p2.ID || hist.Items[0].Percent != 60 {
		t.Errorf("history: %v", err)
	}
	// Photos: the community's residents and staff; nobody else.
	f, body, err := w.svc.files.Open(ctx, p1.Photos[0])
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	for c, want := range map[*access.Caller]bool{w.ownerB: true, w.familyA: true, w.securityX: true, w.admin: true, w.ownerY: false, w.staffY: false} {
		if ok, err := w.svc.MayReadFile(ctx, c, f.Meta); err != nil || ok != want {
			t.Errorf("%s may read photo: %v %v, want %v", c.ID, ok, err, want)
		}
	}
	if ok, _ := w.svc.MayReadFile(ctx, w.ownerB, files.Meta{Purpose: "repair", CommunityID: w.X.ID}); ok {
		t.Error("rule answers for another purpose")
	}
}
