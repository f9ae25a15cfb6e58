package dunning

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
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
func (c *clock) days(n int)              { c.Advance(time.Duration(n) * 24 * time.Hour) }

// ledger stands in for the fee domain's arrears until bills are wired:
// what each household owes and since when.
type ledger struct {
	mu    sync.Mutex
	owing map[string]Owing
}

func (l *ledger) OverdueIn(_ context.Context, communityID, _ string) ([]Owing, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Owing
	for _, o := range l.owing {
		if o.CommunityID == communityID {
			out = append(out, o)
		}
	}
	return out, nil
}

// NoticeFacts states what the ledger owes, as one bill.
func (l *ledger) NoticeFacts(_ context.Context, h *household.Household) (*Facts, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.owing[h.ID]
	return &Facts{CommunityName: "春晖苑", Owners: []string{"王建国"}, Contacts: []Contact{{Role: "管家", Name: "张管家"}},
		Bills: []NoticePeriod{{Period: "2026-10", DueDate: o.OldestDue, Fen: o.Fen}}}, nil
}

// disputes holds the households named.
type disputes map[string]bool

func (d disputes) Held(_ context.Context, ids []string, _ string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if d[id] {
			out[id] = HoldDispute
		}
	}
	return out, nil
}

type fixture struct {
	clock                         *clock
	svc                           *Service
	engine                        *notify.Engine
	x, y                          *community.Community
	ha, hb, hy                    *household.Household
	ownerA, tenantA, ownerB       *access.Caller
	butler, butlerY, sup, finance *access.Caller
	arrears                       *ledger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// 09:00 on 2026-11-20 in Shanghai: October's bills (due 10-31) are 20 days late.
	f := &fixture{clock: &clock{t: time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)}, arrears: &ledger{owing: map[string]Owing{}}}
	communities := community.NewService(db, "co", f.clock.Now)
	households := household.NewService(db, communities, nil, nil, f.clock.Now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: f.clock.Now})
	admin := &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "春晖苑"})
	must(err)
	f.y, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "桂香园"})
	must(err)
	b1, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "1栋", Units: []string{"1"}})
	must(err)
	by, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.y.ID, Name: "1栋", Units: []string{"1"}})
	must(err)
	flat := func(b *community.Building, room string) *household.Household {
		h, err := households.Create(ctx, admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		must(err)
		return h
	}
	member := func(h *household.Household, name, phone string, role access.Role) *access.Caller {
		m, err := households.AddMember(ctx, admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		must(err)
		return &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role}}}
	}
	f.ha, f.hb, f.hy = flat(b1, "101"), flat(b1, "102"), flat(by, "301")
	f.ownerA = member(f.ha, "王建国", "13900000001", access.Owner)
	f.tenantA = member(f.ha, "周租客", "13900000007", access.Tenant)
	f.ownerB = member(f.hb, "李秀英", "13900000002", access.Owner)
	f.butler = &access.Caller{Kind: auth.KindStaff, ID: "butler-x", Roles: []access.Role{access.Butler}, Communities: []string{f.x.ID}, Buildings: []string{b1.ID}}
	f.butlerY = &access.Caller{Kind: auth.KindStaff, ID: "butler-y", Roles: []access.Role{access.Butler}, Communities: []string{f.y.ID}, Buildings: []string{by.ID}}
	f.sup = &access.Caller{Kind: auth.KindStaff, ID: "sup-x", Roles: []access.Role{access.Supervisor}, Communities: []string{f.x.ID}}
	f.finance = &access.Caller{Kind: auth.KindStaff, ID: "fin-x", Roles: []access.Role{access.Finance}, Communities: []string{f.x.ID}}
	f.svc = NewService(Config{DB: db, Arrears: f.arrears, Holds: []Holds{disputes{f.hb.ID: true}}, Households: households, Sender: f.engine, Now: f.clock.Now, Facts: f.arrears})
	return f
}

func (f *fixture) owe(h *household.Household, fen int64, oldestDue string) {
	f.arrears.mu.Lock()
	defer f.arrears.mu.Unlock()
	f.arrears.owing[h.ID] = Owing{HouseholdID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID, Fen: fen, OldestDue: oldestDue}
}

func (f *fixture) paid(h *household.Household) {
	f.arrears.mu.Lock()
	defer f.arrears.mu.Unlock()
	delete(f.arrears.owing, h.ID)
}

func (f *fixture) tick(t *testing.T) {
	t.Helper()
	if err := f.svc.Tick(ctx, f.x.ID); err != nil {
		t.Fatal(err)
	}
}

// reminders counts the fee reminders in c's inbox, by title.
func (f *fixture) reminders(t *testing.T, c *access.Caller) []string {
	t.Helper()
	p, err := f.engine.Notifications(ctx, c, false, pageOf(50))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range p.Items {
		if n.Kind == notify.FeeReminder {
			out = append(out, n.Title)
		}
	}
	return out
}

func pageOf(n int) page.Request { return page.Request{First: n} }

func wantErr(t *testing.T, what string, err error, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// The ladder, politely first: the app's reminder and a second notice go out
// by themselves a week apart (to the owners, not the tenant; once, however
// often the job runs); then the butler's call, whose promise holds the next
// step until the promised date; then the written notice; the lawyer's
// letter only when a supervisor approves it. No step out of turn or early;
// a household with an open dispute is never chased; a case closes when
// the arrears are paid.
func TestTheLadder(t *testing.T) {
	f := newFixture(t)
	zone := time.FixedZone("CST", 8*3600)
	f.owe(f.ha, 36000, "2026-10-31")
	f.owe(f.hb, 18000, "2026-10-31")
	f.tick(t)
	f.tick(t)
	if got := f.reminders(t, f.ownerA); len(got) != 1 || got[0] != "物业费缴费温馨提醒" {
		t.Fatalf("first reminder: %q", got)
	}
	if got := f.reminders(t, f.tenantA); len(got) != 0 {
		t.Fatalf("the tenant was reminded: %q", got)
	}
	if got := f.reminders(t, f.ownerB); len(got) != 0 {
		t.Fatalf("a household in dispute was reminded: %q", got)
	}
	_, err := f.svc.RecordStep(ctx, f.butler, f.hb.ID, StepInput{Step: StepReminder})
	wantErr(t, "a step for a household in dispute", err, ErrHeldDispute)

	// Out of turn, too early, then the second notice by itself.
	_, err = f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepCall, Outcome: NoContact})
	wantErr(t, "a call before the second notice", err, ErrOutOfTurn)
	_, err = f.svc.RecordStep(ctx, f.finance, f.ha.ID, StepInput{Step: StepSecondNotice})
	wantErr(t, "the second notice a day later", err, ErrTooSoon)
	f.clock.days(7)
	f.tick(t)
	if got := f.reminders(t, f.ownerA); len(got) != 2 || got[0] != "物业费缴费再次提醒" {
		t.Fatalf("second notice: %q", got)
	}

	// The butler's call: a promise holds the written notice until its date.
	_, err = f.svc.RecordStep(ctx, f.butlerY, f.ha.ID, StepInput{Step: StepCall, Outcome: NoContact})
	wantCode(t, "another community's butler", err, apperr.NotFound)
	_, err = f.svc.RecordStep(ctx, f.ownerA, f.ha.ID, StepInput{Step: StepCall, Outcome: NoContact})
	wantCode(t, "a resident", err, apperr.NotFound)
	f.clock.days(7)
	_, err = f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepCall, Outcome: Promised})
	wantCode(t, "a promise without a date", err, apperr.BadUserInput)
	promised := f.clock.Now().AddDate(0, 0, 10).In(zone).Format(time.DateOnly)
	x, err := f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepCall, Outcome: Promised, PromisedDate: promised, Note: "业主说月底发工资后缴"})
	if err != nil || x.Status != Called || x.HeldUntil != promised {
		t.Fatalf("the call: %+v %v", x, err)
	}
	f.clock.days(7)
	_, err = f.svc.RecordStep(ctx, f.finance, f.ha.ID, StepInput{Step: StepWrittenNotice})
	wantErr(t, "a written notice before the promised date", err, ErrHeldPromise)
	f.clock.days(4)
	if x, err = f.svc.RecordStep(ctx, f.finance, f.ha.ID, StepInput{Step: StepWrittenNotice}); err != nil {
		t.Fatalf("the written notice after a broken promise: %v", err)
	}
	// Frozen in the record, numbered, and the owners told (not the tenant).
	if n := x.Records[len(x.Records)-1].Notice; n == nil || n.Number != "2026-0001" || n.TotalFen != 36000 || n.PayBy != "2026-12-30" ||
		len(n.Periods) != 1 || n.Periods[0].DaysOverdue != 45 || n.AddressedTo[0] != "王建国" {
		t.Fatalf("the notice: %+v", n)
	}
	if got := f.reminders(t, f.ownerA); len(got) != 3 || got[0] != "物业费书面催缴通知" {
		t.Fatalf("the owner's messages: %q", got)
	}
	if got := f.reminders(t, f.tenantA); len(got) != 0 {
		t.Fatalf("the tenant was told: %q", got)
	}

	// The lawyer's letter: asked for with a reason, decided by a supervisor.
	f.clock.days(7)
	_, err = f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepLegalLetter})
	wantCode(t, "a legal request without a reason", err, apperr.BadUserInput)
	if x, err = f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepLegalLetter, Note: "欠费三个月，多次沟通无果"}); err != nil || x.Status != LegalAsked {
		t.Fatalf("the legal request: %+v %v", x, err)
	}
	_, err = f.svc.DecideLegal(ctx, f.butler, f.ha.ID, true, "同意")
	wantCode(t, "a butler deciding", err, apperr.Forbidden)
	_, err = f.svc.DecideLegal(ctx, f.finance, f.ha.ID, true, "同意")
	wantCode(t, "finance deciding", err, apperr.Forbidden)
	if x, err = f.svc.DecideLegal(ctx, f.sup, f.ha.ID, true, "同意发律师函"); err != nil || x.Status != LegalLetter {
		t.Fatalf("the supervisor's approval: %+v %v", x, err)
	}
	steps := []Step{}
	for _, r := range x.Records {
		steps = append(steps, r.Step)
	}
	if len(steps) != 6 || steps[0] != StepReminder || steps[1] != StepSecondNotice || steps[2] != StepCall || steps[3] != StepWrittenNotice || steps[5] != StepLegalLetter {
		t.Fatalf("the record: %v", steps)
	}
	if x.Records[2].ByID != f.butler.ID || x.Records[2].Outcome != Promised || x.Records[0].ByID != system.ID || x.Records[0].ArrearsFen != 36000 {
		t.Fatalf("who, what, how much: %+v", x.Records)
	}

	// Paid: the case closes; nothing more to chase.
	f.paid(f.ha)
	f.tick(t)
	_, err = f.svc.RecordStep(ctx, f.butler, f.ha.ID, StepInput{Step: StepCall, Outcome: NoContact})
	wantErr(t, "a step after payment", err, ErrNoCase)
	last, err := f.svc.Latest(ctx, f.sup, f.ha.ID)
	if err != nil || last == nil || last.Status != Closed || last.ClosedAt == nil {
		t.Fatalf("the closed case: %+v %v", last, err)
	}
}

// Two servers running the job at once send one reminder and open one case.
func TestTickTwiceAtOnce(t *testing.T) {
	f := newFixture(t)
	f.owe(f.ha, 36000, "2026-10-31")
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f.svc.Tick(ctx, f.x.ID) }()
	}
	wg.Wait()
	f.tick(t)
	if got := f.reminders(t, f.ownerA); len(got) != 1 {
		t.Fatalf("reminders: %q", got)
	}
	x, err := f.svc.Latest(ctx, f.sup, f.ha.ID)
	if err != nil || x == nil || len(x.Records) != 1 {
		t.Fatalf("case: %+v %v", x, err)
	}
}
