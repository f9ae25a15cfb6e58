package moving

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
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

type fixture struct {
	t      *testing.T
	db     *mongo.DB
	clock  *clock
	cfg    Config
	svc    *Service
	engine *notify.Engine

	x, y                   *community.Community
	ha, hb, hc, hy         *household.Household
	ownerA, ownerB, ownerC *access.Caller
	tenantA                *access.Caller
	butler, butlerY        *access.Caller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// 09:00 on Sunday 2026-11-22 in Shanghai.
	f := &fixture{t: t, db: db, clock: &clock{t: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}}
	communities := community.NewService(db, "co", f.clock.Now)
	households := household.NewService(db, communities, nil, nil, f.clock.Now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: f.clock.Now})
	f.cfg = Config{DB: db, Households: households, Buildings: communities, Sender: f.engine, Now: f.clock.Now}
	f.svc = NewService(f.cfg)
	admin := &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	b1, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "1栋", Units: []string{"1"}})
	f.must(err)
	b2, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "2栋", Units: []string{"1"}})
	f.must(err)
	by, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.y.ID, Name: "1栋", Units: []string{"1"}})
	f.must(err)
	flat := func(b *community.Building, room string) *household.Household {
		h, err := households.Create(ctx, admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		f.must(err)
		return h
	}
	member := func(h *household.Household, name, phone string, role access.Role) *access.Caller {
		m, err := households.AddMember(ctx, admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		f.must(err)
		return &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role}}}
	}
	f.ha, f.hb, f.hc, f.hy = flat(b1, "101"), flat(b1, "102"), flat(b2, "201"), flat(by, "301")
	f.ownerA = member(f.ha, "王建国", "13900000001", access.Owner)
	f.tenantA = member(f.ha, "周租客", "13900000007", access.Tenant)
	f.ownerB = member(f.hb, "李秀英", "13900000002", access.Owner)
	f.ownerC = member(f.hc, "赵小明", "13900000003", access.Owner)
	member(f.hy, "陈美兰", "13900000004", access.Owner)
	f.butler = &access.Caller{Kind: auth.KindStaff, ID: "butler-x", Roles: []access.Role{access.Butler}, Communities: []string{f.x.ID}}
	f.butlerY = &access.Caller{Kind: auth.KindStaff, ID: "butler-y", Roles: []access.Role{access.Butler}, Communities: []string{f.y.ID}}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) cellCount() int64 {
	n, err := f.db.Collection("move_lift_cells").CountDocuments(ctx, bson.D{})
	f.must(err)
	return n
}

func (f *fixture) bookingCount() int64 {
	n, err := f.db.Collection("move_bookings").CountDocuments(ctx, bson.D{})
	f.must(err)
	return n
}

func move(h *household.Household, date, from, to, lift string) BookInput {
	return BookInput{HouseholdID: h.ID, Date: date, From: from, To: to, Lift: lift, LargeItems: []string{"冰箱", "双人床"}, Direction: MoveIn}
}

// One lift, one booking per half hour: touching windows share no half hour,
// overlapping ones are refused naming the window they hit; another lift,
// building or date is free.
func TestOverlappingBookings(t *testing.T) {
	f := newFixture(t)
	const day = "2026-11-25"
	held, err := f.svc.Book(ctx, f.ownerA, move(f.ha, day, "09:00", "11:00", "1号梯"))
	f.must(err)
	for _, tc := range []struct {
		name  string
		by    *access.Caller
		in    BookInput
		taken bool
	}{
		{"touching after", f.ownerB, move(f.hb, day, "11:00", "12:00", "1号梯"), false},
		{"touching before", f.ownerB, move(f.hb, day, "07:00", "09:00", "1号梯"), false},
		{"overlapping the end", f.ownerB, move(f.hb, day, "10:30", "11:30", "1号梯"), true},
		{"overlapping the start", f.ownerB, move(f.hb, day, "08:00", "09:30", "1号梯"), true},
		{"inside", f.ownerB, move(f.hb, day, "09:30", "10:00", "1号梯"), true},
		{"around", f.ownerB, move(f.hb, day, "08:00", "12:00", "1号梯"), true},
		{"the same lift spelt differently", f.ownerB, move(f.hb, day, "10:00", "10:30", " 1 "), true},
		{"the same lift as 1号电梯", f.ownerB, move(f.hb, day, "10:00", "10:30", "1号电梯"), true},
		{"another lift", f.ownerB, move(f.hb, day, "09:00", "11:00", "2号梯"), false},
		{"another building's lift 1", f.ownerC, move(f.hc, day, "09:00", "11:00", "1号梯"), false},
		{"another date", f.ownerB, move(f.hb, "2026-11-26", "09:00", "11:00", "1号梯"), false},
		{"the same household again", f.ownerA, move(f.ha, day, "10:00", "12:00", "1号梯"), true},
	} {
		cells, bookings := f.cellCount(), f.bookingCount()
		b, err := f.svc.Book(ctx, tc.by, tc.in)
		if !tc.taken {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			// Cancelling frees the cells for the next case.
			if _, err := f.svc.Cancel(ctx, tc.by, b.ID, ""); err != nil {
				t.Errorf("%s: cancel: %v", tc.name, err)
			}
			if n := f.cellCount(); n != cells {
				t.Errorf("%s: %d cells after cancelling, want %d", tc.name, n, cells)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || !errors.Is(err, ErrLiftTaken) || e.Code != apperr.Conflict || fmt.Sprint(e.Args) != "["+day+" 09:00 11:00]" {
			t.Errorf("%s: %v (args %v), want CONFLICT naming 09:00-11:00", tc.name, err, e)
		}
		if f.cellCount() != cells || f.bookingCount() != bookings {
			t.Errorf("%s: a refused booking left cells or a booking behind", tc.name)
		}
	}
	if got, err := f.svc.Get(ctx, f.ownerA, held.ID); err != nil || got.Status != Booked || len(got.Cells) != 4 {
		t.Errorf("the held booking: %v %+v", err, got)
	}
}

// Two households book overlapping windows of one lift at the same moment:
// exactly one wins, whatever the interleaving, and the loser holds nothing.
func TestConcurrentOverlappingPairOneWins(t *testing.T) {
	f := newFixture(t)
	other := NewService(f.cfg) // a second server
	for round, w := range [][4]string{
		{"09:00", "11:00", "10:00", "12:00"},
		{"09:00", "12:00", "09:00", "12:00"},
		{"13:00", "15:00", "12:00", "13:30"},
		{"08:00", "16:00", "10:00", "10:30"},
	} {
		day := fmt.Sprintf("2026-12-%02d", round+1)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); _, errs[0] = f.svc.Book(ctx, f.ownerA, move(f.ha, day, w[0], w[1], "1")) }()
		go func() {
			defer wg.Done()
			_, errs[1] = other.Book(ctx, f.ownerB, move(f.hb, day, w[2], w[3], "1号梯"))
		}()
		wg.Wait()
		wins, lost := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrLiftTaken):
				lost++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if wins != 1 || lost != 1 {
			t.Fatalf("round %d: %d won, %d lost; want exactly one winner", round, wins, lost)
		}
		var winner Booking
		f.must(f.db.Collection("move_bookings").FindOne(ctx, bson.D{{Key: "date", Value: day}}).Decode(&winner))
		n, err := f.db.Collection("move_lift_cells").CountDocuments(ctx, bson.D{{Key: "date", Value: day}})
		f.must(err)
		if int(n) != len(winner.Cells) {
			t.Fatalf("round %d: %d cells held, the winner needs %d", round, n, len(winner.Cells))
		}
	}
}

func TestBookingRulesAndCancel(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		field string
		in    BookInput
	}{
		{"input.window", move(f.ha, "2026-11-25", "09:15", "10:00", "1")},
		{"input.window", move(f.ha, "2026-11-25", "06:30", "08:00", "1")},
		{"input.window", move(f.ha, "2026-11-25", "19:00", "20:30", "1")},
		{"input.window", move(f.ha, "2026-11-25", "10:00", "10:00", "1")},
		{"input.window", move(f.ha, "2026-11-25", "08:00", "16:30", "1")},
		{"input.window", move(f.ha, "2026-11-25", "9:00", "10:00", "1")},
		{"input.date", move(f.ha, "2026-11-21", "09:00", "10:00", "1")},
		{"input.date", move(f.ha, "2027-03-01", "09:00", "10:00", "1")},
		{"input.from", move(f.ha, "2026-11-22", "08:00", "10:00", "1")}, // it is 09:00 already
		{"input.lift", move(f.ha, "2026-11-25", "09:00", "10:00", " ")},
		{"input.direction", BookInput{HouseholdID: f.ha.ID, Date: "2026-11-25", From: "09:00", To: "10:00", Lift: "1", Direction: "SIDEWAYS"}},
	} {
		_, err := f.svc.Book(ctx, f.ownerA, tc.in)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadUserInput || e.Field != tc.field {
			t.Errorf("%s %s-%s: %v", tc.in.Date, tc.in.From, tc.in.To, err)
		}
	}
	if _, err := f.svc.Book(ctx, f.ownerB, move(f.ha, "2026-11-25", "09:00", "10:00", "1")); !errors.Is(err, household.ErrNotFound) {
		t.Errorf("owner books for another household: %v", err)
	}
	if _, err := f.svc.Book(ctx, f.butler, move(f.ha, "2026-11-25", "09:00", "10:00", "1")); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("butler books for a household: %v", err)
	}
	// A tenant may book; a neighbour may not cancel; staff must say why.
	b, err := f.svc.Book(ctx, f.tenantA, move(f.ha, "2026-11-22", "10:00", "12:00", "1"))
	f.must(err)
	if _, err := f.svc.Cancel(ctx, f.ownerB, b.ID, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("neighbour cancels: %v", err)
	}
	if _, err := f.svc.Cancel(ctx, f.butlerY, b.ID, "电梯检修"); !errors.Is(err, ErrNotFound) {
		t.Errorf("butler of another community cancels: %v", err)
	}
	if _, err := f.svc.Cancel(ctx, f.butler, b.ID, ""); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("butler cancels without a reason: %v", err)
	}
	// Once the window has begun it stands.
	f.clock.Set(time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)) // 10:00
	if _, err := f.svc.Cancel(ctx, f.ownerA, b.ID, ""); !errors.Is(err, ErrTooLate) {
		t.Errorf("cancel a move under way: %v", err)
	}
	// A cancelled booking frees its lift; cancelling twice is CONFLICT.
	b, err = f.svc.Book(ctx, f.ownerA, move(f.ha, "2026-11-26", "14:00", "16:00", "1"))
	f.must(err)
	c, err := f.svc.Cancel(ctx, f.butler, b.ID, "电梯年检")
	f.must(err)
	if c.Status != Cancelled || c.CancelReason != "电梯年检" {
		t.Errorf("cancelled: %+v", c)
	}
	if _, err := f.svc.Cancel(ctx, f.ownerA, b.ID, ""); !errors.Is(err, lifecycle.ErrIllegal) {
		t.Errorf("cancel twice: %v", err)
	}
	if _, err := f.svc.Book(ctx, f.ownerB, move(f.hb, "2026-11-26", "14:00", "16:00", "1")); err != nil {
		t.Errorf("book a freed window: %v", err)
	}
	// The household was told that staff cancelled it.
	ns, err := f.engine.Latest(ctx, f.ownerA.ID, 5)
	f.must(err)
	if len(ns) != 1 || !strings.Contains(ns[0].Body, "电梯年检") {
		t.Errorf("owner's notices: %+v", ns)
	}
}

// A claim left behind by a cancelled booking whose release was cut short,
// or by a writer that died before storing its booking, does not block the
// lift forever.
func TestAbandonedClaimsAreTakenOver(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Book(ctx, f.ownerA, move(f.ha, "2026-11-25", "09:00", "10:00", "1"))
	f.must(err)
	_, err = f.db.Collection("move_bookings").UpdateOne(ctx, bson.D{{Key: "_id", Value: b.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Cancelled}}}})
	f.must(err)
	if _, err := f.svc.Book(ctx, f.ownerB, move(f.hb, "2026-11-25", "09:00", "10:00", "1")); err != nil {
		t.Errorf("cells of a cancelled booking: %v", err)
	}
	// A claim with no booking: fresh, it blocks; a minute old, it does not.
	_, err = f.db.Collection("move_lift_cells").InsertOne(ctx, cell{ID: cellIDs(f.ha.BuildingID, "1", "2026-11-27", 9*60, 10*60)[0],
		BookingID: "ghost", Date: "2026-11-27", From: "09:00", To: "09:30", ClaimedAt: f.clock.Now()})
	f.must(err)
	if _, err := f.svc.Book(ctx, f.ownerB, move(f.hb, "2026-11-27", "09:00", "10:00", "1")); !errors.Is(err, ErrLiftTaken) {
		t.Errorf("fresh claim: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(2 * time.Minute))
	if _, err := f.svc.Book(ctx, f.ownerB, move(f.hb, "2026-11-27", "09:00", "10:00", "1")); err != nil {
		t.Errorf("abandoned claim: %v", err)
	}
}

func TestLists(t *testing.T) {
	f := newFixture(t)
	for _, in := range []BookInput{
		move(f.ha, "2026-11-25", "09:00", "10:00", "1"), move(f.ha, "2026-11-24", "15:00", "16:00", "1"),
		move(f.hc, "2026-11-24", "09:00", "10:00", "1"), move(f.ha, "2026-11-22", "14:00", "15:00", "1"),
	} {
		by := f.ownerA
		if in.HouseholdID == f.hc.ID {
			by = f.ownerC
		}
		_, err := f.svc.Book(ctx, by, in)
		f.must(err)
	}
	keys := func(pg page.Page[*Booking]) string {
		var out []string
		for _, b := range pg.Items {
			out = append(out, b.Date+" "+b.From)
		}
		return strings.Join(out, ",")
	}
	f.clock.Set(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)) // the 22nd is past
	pg, err := f.svc.List(ctx, f.butler, Filter{CommunityID: f.x.ID}, page.Request{First: 2})
	f.must(err)
	if keys(pg) != "2026-11-24 09:00,2026-11-24 15:00" || !pg.HasNext || pg.Total != 3 {
		t.Errorf("upcoming: %s next %v total %d", keys(pg), pg.HasNext, pg.Total)
	}
	pg, err = f.svc.List(ctx, f.butler, Filter{CommunityID: f.x.ID}, page.Request{First: 2, After: pg.Keys[1]})
	f.must(err)
	if keys(pg) != "2026-11-25 09:00" || pg.HasNext {
		t.Errorf("second page: %s", keys(pg))
	}
	pg, err = f.svc.List(ctx, f.butler, Filter{CommunityID: f.x.ID, Date: "2026-11-24", BuildingID: f.hc.BuildingID}, page.Request{First: 10})
	f.must(err)
	if keys(pg) != "2026-11-24 09:00" {
		t.Errorf("one day, one building: %s", keys(pg))
	}
	pg, err = f.svc.List(ctx, f.ownerA, Filter{}, page.Request{First: 10})
	f.must(err)
	if keys(pg) != "2026-11-22 14:00,2026-11-24 15:00,2026-11-25 09:00" {
		t.Errorf("owner's own: %s", keys(pg))
	}
	if _, err := f.svc.List(ctx, f.butlerY, Filter{CommunityID: f.x.ID}, page.Request{First: 10}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("staff of Y list X: %v", err)
	}
	if _, err := f.svc.List(ctx, f.ownerB, Filter{HouseholdID: f.ha.ID}, page.Request{First: 10}); !errors.Is(err, household.ErrNotFound) {
		t.Errorf("neighbour lists A's: %v", err)
	}
}
