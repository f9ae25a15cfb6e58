package facility

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/files/imagetest"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

type fixture struct {
	t      *testing.T
	db     *mongo.DB
	clock  *clock
	cfg    Config
	svc    *Service
	x, y   *community.Community
	b1, b2 *community.Building
	by     *community.Building
	sup    *access.Caller
	eng    *access.Caller
	engY   *access.Caller
	butler *access.Caller
	engine *notify.Engine
	// Residents: a and b live in building 1 (the lift's), c in building 2,
	// d in the other community.
	a, b, c, d string
}

func staff(id string, c *community.Community, roles ...access.Role) *access.Caller {
	return &access.Caller{Kind: auth.KindStaff, ID: id, Roles: roles, Communities: []string{c.ID}}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// Monday 2026-11-02 08:00 in Shanghai.
	f := &fixture{t: t, db: db, clock: &clock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, shanghai)}}
	communities := community.NewService(db, "co", f.clock.Now)
	households := household.NewService(db, communities, nil, nil, f.clock.Now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: f.clock.Now})
	f.cfg = Config{DB: db, Buildings: communities, Files: files.NewStore(db, f.clock.Now), Sender: f.engine, Residents: households, Now: f.clock.Now}
	f.svc = NewService(f.cfg)
	admin := &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	building := func(c *community.Community, name string) *community.Building {
		b, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: c.ID, Name: name, Units: []string{"1"}})
		f.must(err)
		return b
	}
	f.b1, f.b2, f.by = building(f.x, "1栋"), building(f.x, "2栋"), building(f.y, "1栋")
	resident := func(b *community.Building, room, name, phone string) string {
		h, err := households.Create(ctx, admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		f.must(err)
		m, err := households.AddMember(ctx, admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: access.Owner})
		f.must(err)
		return m.PersonID
	}
	f.a, f.b = resident(f.b1, "101", "王建国", "13900000001"), resident(f.b1, "102", "李秀英", "13900000002")
	f.c, f.d = resident(f.b2, "201", "赵小明", "13900000003"), resident(f.by, "301", "陈美兰", "13900000004")
	f.sup = staff("sup", f.x, access.Supervisor)
	f.eng = staff("eng", f.x, access.Engineer)
	f.engY = staff("engy", f.y, access.Engineer)
	f.butler = staff("butler", f.x, access.Butler)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) code(err error, want apperr.Code) {
	f.t.Helper()
	if got := apperr.CodeOf(err); got != want {
		f.t.Fatalf("got %v (%v), want %s", got, err, want)
	}
}

// liftPlan registers lift 1 of building 1 with a monthly plan that takes
// the lift out for two hours.
func (f *fixture) liftPlan(start string) (*Equipment, *Plan) {
	f.t.Helper()
	eq, err := f.svc.RegisterEquipment(ctx, f.sup, EquipmentInput{CommunityID: f.x.ID, Kind: Lift, Name: "1号梯", BuildingID: f.b1.ID,
		Supplier: "奥的斯", InstallDate: "2020-05-01", WarrantyUntil: "2025-05-01", Serves: []string{f.b1.ID}})
	f.must(err)
	p, err := f.svc.UpsertPlan(ctx, f.sup, PlanInput{EquipmentID: eq.ID, Title: "电梯月度保养", Every: 1, Unit: Months, Start: start,
		Checklist: []string{"曳引机润滑", "门机调整", "安全钳测试"}, Disturbs: []Disturbance{LiftOut}, Minutes: 120, Active: true})
	f.must(err)
	return eq, p
}

func (f *fixture) orders(filter OrderFilter) []*Order {
	f.t.Helper()
	pg, err := f.svc.ListOrders(ctx, f.sup, filter, page.Request{First: 50})
	f.must(err)
	return pg.Items
}

func TestPlanRaisesEachDueOrderOnce(t *testing.T) {
	f := newFixture(t)
	_, p := f.liftPlan("2026-11-02")
	other := NewService(f.cfg) // a second server
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := f.svc
			if i%2 == 1 {
				s = other
			}
			errs[i] = s.Tick(ctx, f.clock.Now())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		f.must(err)
	}
	os := f.orders(OrderFilter{CommunityID: f.x.ID})
	if len(os) != 1 || os[0].ID != orderID(p.ID, "2026-11-02") || os[0].Status != Open {
		t.Fatalf("orders after concurrent ticks: %+v", os)
	}
	// Raised on a Monday at 08:00: into that morning's window.
	want := time.Date(2026, 11, 2, 9, 0, 0, 0, shanghai)
	if os[0].ScheduledAt == nil || !os[0].ScheduledAt.Equal(want) {
		t.Fatalf("scheduled at %v, want %v", os[0].ScheduledAt, want)
	}
	// Later the same month nothing more; the next month, the next order.
	f.clock.Set(time.Date(2026, 11, 20, 8, 0, 0, 0, shanghai))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	if n := len(f.orders(OrderFilter{CommunityID: f.x.ID})); n != 1 {
		t.Fatalf("%d orders mid-month", n)
	}
	f.clock.Set(time.Date(2026, 12, 2, 8, 0, 0, 0, shanghai))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	f.must(other.Tick(ctx, f.clock.Now()))
	os = f.orders(OrderFilter{CommunityID: f.x.ID})
	if len(os) != 2 || os[1].DueDate != "2026-12-02" {
		t.Fatalf("orders next month: %+v", os)
	}
	// The November order is overdue now; December's is not.
	over := f.orders(OrderFilter{CommunityID: f.x.ID, Overdue: true})
	if len(over) != 1 || over[0].DueDate != "2026-11-02" {
		t.Fatalf("overdue: %+v", over)
	}
}

func TestMonthsKeepTheDay(t *testing.T) {
	p := &Plan{Every: 1, Unit: Months}
	for from, want := range map[string]string{"2026-01-31": "2026-02-28", "2026-03-15": "2026-04-15", "2026-12-31": "2027-01-31"} {
		if got := p.dueAfter(from); got != want {
			t.Errorf("after %s: %s, want %s", from, got, want)
		}
	}
}

func TestDisturbingWorkIsHeldToTheWindows(t *testing.T) {
	f := newFixture(t)
	f.liftPlan("2026-11-02")
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	o := f.orders(OrderFilter{CommunityID: f.x.ID})[0]
	// Saturday, and a weekday evening: refused, naming the windows.
	for _, at := range []time.Time{time.Date(2026, 11, 7, 10, 0, 0, 0, shanghai), time.Date(2026, 11, 3, 19, 0, 0, 0, shanghai),
		time.Date(2026, 11, 3, 10, 0, 0, 0, shanghai)} { // 10:00 + 2h runs past 11:30
		_, err := f.svc.ScheduleOrder(ctx, f.sup, o.ID, at, false, "")
		f.code(err, apperr.Conflict)
		if !strings.Contains(zh(err), "周一至周五 09:00–11:30；周一至周五 14:00–17:00") {
			t.Fatalf("message %q does not name the windows", zh(err))
		}
	}
	got, err := f.svc.ScheduleOrder(ctx, f.sup, o.ID, time.Date(2026, 11, 3, 14, 30, 0, 0, shanghai), false, "")
	f.must(err)
	if got.NoticeDueAt == nil || !got.NoticeDueAt.Equal(time.Date(2026, 11, 2, 14, 30, 0, 0, shanghai)) {
		t.Fatalf("notice due %v, want a day ahead", got.NoticeDueAt)
	}
	// An emergency may go at night, announced at once.
	got, err = f.svc.ScheduleOrder(ctx, f.sup, o.ID, time.Date(2026, 11, 2, 22, 0, 0, 0, shanghai), true, "1号梯困人后检修")
	f.must(err)
	if !got.Emergency || !got.NoticeDueAt.Equal(f.clock.Now()) {
		t.Fatalf("emergency: %+v", got)
	}
	// Engineers do not plan; other communities see nothing.
	_, err = f.svc.ScheduleOrder(ctx, f.eng, o.ID, time.Date(2026, 11, 3, 14, 30, 0, 0, shanghai), false, "")
	f.code(err, apperr.NotFound)
	// The community may set its own windows: weekends too.
	_, err = f.svc.SetWorkSettings(ctx, f.sup, f.x.ID, []Window{{Days: []int{6, 7}, From: "10:00", To: "16:00"}}, 48)
	f.must(err)
	_, err = f.svc.ScheduleOrder(ctx, f.sup, o.ID, time.Date(2026, 11, 7, 10, 0, 0, 0, shanghai), false, "")
	f.must(err)
	_, err = f.svc.SetWorkSettings(ctx, f.sup, f.x.ID, []Window{{Days: []int{6}, From: "16:00", To: "10:00"}}, 48)
	f.code(err, apperr.BadUserInput)
}

func TestCompleteMaintenanceOfflineAndOnce(t *testing.T) {
	f := newFixture(t)
	f.liftPlan("2026-11-02")
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	o := f.orders(OrderFilter{CommunityID: f.x.ID})[0]
	results := []CheckResult{{Step: "曳引机润滑", OK: true}, {Step: "门机调整", OK: true}, {Step: "安全钳测试", OK: false, Note: "更换安全钳弹簧"}}
	in := func(key string, doneAt time.Time) CompleteInput {
		return CompleteInput{OrderID: o.ID, Results: results, DoneAt: doneAt, IdempotencyKey: key,
			Photos: []files.Upload{{Filename: "a.jpg", Content: bytes.NewReader(imagetest.JPEG(imagetest.Photo(16, 16), 80))}}}
	}
	// Uploaded two days later, done in the morning window.
	doneAt := time.Date(2026, 11, 2, 11, 0, 0, 0, shanghai)
	f.clock.Set(time.Date(2026, 11, 4, 20, 0, 0, 0, shanghai))
	_, err := f.svc.CompleteMaintenance(ctx, f.engY, in("key-00000001", doneAt))
	f.code(err, apperr.NotFound)
	_, err = f.svc.CompleteMaintenance(ctx, f.butler, in("key-00000001", doneAt))
	f.code(err, apperr.NotFound)
	_, err = f.svc.CompleteMaintenance(ctx, f.eng, in("key-00000001", f.clock.Now().Add(time.Hour)))
	f.code(err, apperr.BadUserInput)
	_, err = f.svc.CompleteMaintenance(ctx, f.eng, in("key-00000001", f.clock.Now().AddDate(0, 0, -8)))
	f.code(err, apperr.BadUserInput)
	bad := in("key-00000001", doneAt)
	bad.Results = results[:2]
	_, err = f.svc.CompleteMaintenance(ctx, f.eng, bad)
	f.code(err, apperr.BadUserInput)
	done, err := f.svc.CompleteMaintenance(ctx, f.eng, in("key-00000001", doneAt))
	f.must(err)
	if done.Status != Done || !done.DoneAt.Equal(doneAt) || done.DoneBy != f.eng.ID || len(done.Photos) != 1 || done.RestoredDue {
		t.Fatalf("completed: %+v", done)
	}
	// The answer was lost; the phone retries: the same order, nothing new.
	again, err := f.svc.CompleteMaintenance(ctx, f.eng, in("key-00000001", doneAt))
	f.must(err)
	if again.Version != done.Version || len(again.Photos) != 1 || again.Photos[0] != done.Photos[0] {
		t.Fatalf("retry recorded again: %+v", again)
	}
	// Another key for a done order is a conflict.
	_, err = f.svc.CompleteMaintenance(ctx, f.eng, in("key-00000002", doneAt))
	f.code(err, apperr.Conflict)
	ok, err := f.svc.MayReadFile(ctx, f.eng, files.Meta{Purpose: FilePurpose, SubjectID: o.ID})
	f.must(err)
	if !ok {
		t.Fatal("the engineer cannot see the photo")
	}
	if ok, _ := f.svc.MayReadFile(ctx, f.engY, files.Meta{Purpose: FilePurpose, SubjectID: o.ID}); ok {
		t.Fatal("another community's engineer sees the photo")
	}
}

func TestRegisterAndPlanAccess(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.RegisterEquipment(ctx, f.eng, EquipmentInput{CommunityID: f.x.ID, Kind: WaterPump, Name: "生活水泵", Area: "水泵房"})
	f.code(err, apperr.NotFound)
	_, err = f.svc.RegisterEquipment(ctx, f.sup, EquipmentInput{CommunityID: f.x.ID, Kind: WaterPump, Name: "生活水泵", Area: "水泵房", Serves: []string{f.by.ID}})
	f.code(err, apperr.BadUserInput)
	_, err = f.svc.RegisterEquipment(ctx, f.sup, EquipmentInput{CommunityID: f.x.ID, Kind: WaterPump, Name: "生活水泵"})
	f.code(err, apperr.BadUserInput)
	eq, err := f.svc.RegisterEquipment(ctx, f.sup, EquipmentInput{CommunityID: f.x.ID, Kind: WaterPump, Name: "生活水泵", Area: "水泵房",
		Serves: []string{f.b1.ID, f.b2.ID}})
	f.must(err)
	pg, err := f.svc.ListEquipment(ctx, f.eng, EquipmentFilter{CommunityID: f.x.ID}, page.Request{First: 10})
	f.must(err)
	if len(pg.Items) != 1 {
		t.Fatalf("engineer sees %d items", len(pg.Items))
	}
	_, err = f.svc.ListEquipment(ctx, f.engY, EquipmentFilter{CommunityID: f.x.ID}, page.Request{First: 10})
	f.code(err, apperr.NotFound)
	_, err = f.svc.UpsertPlan(ctx, f.eng, PlanInput{EquipmentID: eq.ID, Title: "水泵季度保养", Every: 3, Unit: Months, Start: "2026-12-01",
		Checklist: []string{"轴承加油"}, Disturbs: []Disturbance{WaterOff}, Minutes: 90, Active: true})
	f.code(err, apperr.NotFound)
	p, err := f.svc.UpsertPlan(ctx, f.sup, PlanInput{EquipmentID: eq.ID, Title: "水泵季度保养", Every: 3, Unit: Months, Start: "2026-12-01",
		Checklist: []string{"轴承加油"}, Disturbs: []Disturbance{WaterOff}, Minutes: 90, Active: true})
	f.must(err)
	p2, err := f.svc.UpsertPlan(ctx, f.sup, PlanInput{ID: p.ID, EquipmentID: eq.ID, Title: "水泵季度保养", Every: 2, Unit: Months, Start: "2026-12-01",
		Checklist: []string{"轴承加油", "压力表校验"}, Disturbs: []Disturbance{WaterOff}, Minutes: 90, Active: true})
	f.must(err)
	if p2.ID != p.ID || p2.Every != 2 || len(p2.Checklist) != 2 || p2.NextDue != "2026-12-01" {
		t.Fatalf("updated plan: %+v", p2)
	}
	_, err = f.svc.UpsertPlan(ctx, f.sup, PlanInput{EquipmentID: eq.ID, Title: "x", Every: 0, Unit: Months, Start: "2026-12-01",
		Checklist: []string{"a"}, Minutes: 90})
	f.code(err, apperr.BadUserInput)
	pp, err := f.svc.ListPlans(ctx, f.eng, PlanFilter{CommunityID: f.x.ID}, page.Request{First: 10})
	f.must(err)
	if len(pp.Items) != 1 {
		t.Fatalf("plans: %d", len(pp.Items))
	}
	_, err = f.svc.ListPlans(ctx, f.engY, PlanFilter{CommunityID: f.x.ID, EquipmentID: eq.ID}, page.Request{First: 10})
	f.code(err, apperr.NotFound)
}

func zh(err error) string {
	e, ok := apperr.As(err)
	if !ok {
		return err.Error()
	}
	return apperr.Message(e, apperr.ZH)
}

// inbox is what a person was told, by kind.
func (f *fixture) inbox(person string) map[notify.Kind][]*notify.Notification {
	f.t.Helper()
	ns, err := f.engine.Latest(ctx, person, 20)
	f.must(err)
	out := map[notify.Kind][]*notify.Notification{}
	for _, n := range ns {
		out[n.Kind] = append(out[n.Kind], n)
	}
	return out
}

func TestOutageNoticesReachTheServedBuildingOnly(t *testing.T) {
	f := newFixture(t)
	// The plan is due on Wednesday; raised the Monday before.
	f.liftPlan("2026-11-04")
	tick := func(at time.Time) {
		f.clock.Set(at)
		f.must(f.svc.Tick(ctx, at))
		f.must(NewService(f.cfg).Tick(ctx, at)) // a second server
	}
	tick(time.Date(2026, 11, 2, 8, 0, 0, 0, shanghai))
	o := f.orders(OrderFilter{CommunityID: f.x.ID})[0]
	if want := time.Date(2026, 11, 4, 9, 0, 0, 0, shanghai); !o.ScheduledAt.Equal(want) {
		t.Fatalf("scheduled %v, want %v", o.ScheduledAt, want)
	}
	if len(f.inbox(f.a)[notify.OutageNotice]) != 0 {
		t.Fatal("told two days ahead")
	}
	tick(time.Date(2026, 11, 3, 9, 0, 0, 0, shanghai))
	tick(time.Date(2026, 11, 3, 9, 1, 0, 0, shanghai))
	for _, p := range []string{f.a, f.b} {
		ns := f.inbox(p)[notify.OutageNotice]
		if len(ns) != 1 || !strings.Contains(ns[0].Body, "11月4日 09:00起电梯停运，预计持续2 小时") || !strings.Contains(ns[0].Body, "1栋") {
			t.Fatalf("notice to %s: %+v", p, ns)
		}
	}
	for _, p := range []string{f.c, f.d} {
		if len(f.inbox(p)) != 0 {
			t.Fatalf("%s, not served, was told: %+v", p, f.inbox(p))
		}
	}
	f.clock.Set(time.Date(2026, 11, 4, 10, 50, 0, 0, shanghai))
	_, err := f.svc.CompleteMaintenance(ctx, f.eng, CompleteInput{OrderID: o.ID, DoneAt: f.clock.Now(), IdempotencyKey: "done-0001",
		Results: []CheckResult{{Step: "曳引机润滑", OK: true}, {Step: "门机调整", OK: true}, {Step: "安全钳测试", OK: true}}})
	f.must(err)
	tick(f.clock.Now())
	for _, p := range []string{f.a, f.b} {
		ns := f.inbox(p)[notify.OutageRestored]
		if len(ns) != 1 || !strings.Contains(ns[0].Body, "电梯已恢复运行") {
			t.Fatalf("restored to %s: %+v", p, ns)
		}
	}
	if len(f.inbox(f.c)) != 0 || len(f.inbox(f.d)) != 0 {
		t.Fatal("the restored notice reached a building not served")
	}
}
