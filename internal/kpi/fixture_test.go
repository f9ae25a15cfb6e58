package kpi

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// cst is a wall-clock time in Shanghai.
func cst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// fixture is a small estate on a real database with the real repair,
// complaint, service-order and notification services, on a clock the test
// moves.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *mongo.DB
	clock  *clock
	svc    *Service
	deps   Config
	engine *notify.Engine

	repairs     *repair.Service
	complaints  *complaint.Service
	orders      *serviceorder.Service
	households  *household.Service
	communities *community.Service
	staff       *staff.Service

	x, y                          *community.Community
	ha, hb, hy                    *household.Household
	ownerA, ownerB, ownerY        *access.Caller
	admin                         *access.Caller
	butler, supervisor, engineer  *access.Caller
	butlerY, supervisorY, cleaner *access.Caller
	nextAccount                   int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, clock: &clock{t: cst(2026, 3, 1, 9, 0)}}
	now := f.clock.Now
	f.communities = community.NewService(db, "co", now)
	f.households = household.NewService(db, f.communities, nil, nil, now)
	f.staff = staff.NewService(db, "co", f.communities, f.households, now)
	fs := files.NewStore(db, now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: now})
	f.repairs = repair.NewService(db, f.households, f.staff, fs, nil, nil, now)
	f.complaints = complaint.NewService(db, f.households, fs, nil, nil, now)
	f.orders = serviceorder.NewService(serviceorder.Config{DB: db, Households: f.households, Catalog: catalog.NewService(db, f.communities, now),
		Staff: f.staff, Now: now})
	f.deps = Config{DB: db, Repairs: f.repairs, Complaints: f.complaints, Orders: f.orders, Communities: f.communities,
		Staff: f.staff, Sender: f.engine, Now: now}
	f.svc = NewService(f.deps)
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "test-admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	f.ha, f.ownerA = f.household(f.x, "101", "王建国", "13900000001")
	f.hb, f.ownerB = f.household(f.x, "102", "李秀英", "13900000002")
	f.hy, f.ownerY = f.household(f.y, "301", "陈美兰", "13900000004")
	f.butler, f.supervisor = f.staffMember(access.Butler, f.x.ID), f.staffMember(access.Supervisor, f.x.ID)
	f.engineer, f.cleaner = f.staffMember(access.Engineer, f.x.ID), f.staffMember(access.Cleaner, f.x.ID)
	f.butlerY, f.supervisorY = f.staffMember(access.Butler, f.y.ID), f.staffMember(access.Supervisor, f.y.ID)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) household(c *community.Community, room, name, phone string) (*household.Household, *access.Caller) {
	f.t.Helper()
	b, err := f.communities.CreateBuilding(f.ctx, f.admin, community.CreateBuildingInput{CommunityID: c.ID, Name: "楼" + room, Units: []string{"1"}})
	f.must(err)
	h, err := f.households.Create(f.ctx, f.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
	f.must(err)
	m, err := f.households.AddMember(f.ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: access.Owner})
	f.must(err)
	return h, &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: access.Owner}}}
}

func (f *fixture) staffMember(role access.Role, communityID string) *access.Caller {
	f.t.Helper()
	f.nextAccount++
	st, err := f.staff.Upsert(f.ctx, &staff.Staff{Account: fmt.Sprintf("staff%02d", f.nextAccount), Name: "员工", Roles: []access.Role{role}, CommunityIDs: []string{communityID}})
	f.must(err)
	return &access.Caller{Kind: auth.KindStaff, ID: st.ID, Roles: st.Roles, Communities: st.CommunityIDs}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func signature() files.Upload { return files.Upload{Filename: "s.png", Content: bytes.NewReader(png)} }

// step is one move of the loop at a given time.
type step struct {
	at time.Time
	do func(id string) (*repair.Request, error)
}

// Repair steps on the fixture's people.
func (f *fixture) take(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) { return f.repairs.Take(f.ctx, f.butler, id) }}
}
func (f *fixture) dispatch(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) {
		return f.repairs.Dispatch(f.ctx, f.butler, id, f.engineer.ID, "")
	}}
}
func (f *fixture) accept(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) { return f.repairs.Accept(f.ctx, f.engineer, id) }}
}
func (f *fixture) start(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) { return f.repairs.Start(f.ctx, f.engineer, id, nil) }}
}
func (f *fixture) complete(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) {
		return f.repairs.Complete(f.ctx, f.engineer, id, repair.CompleteInput{})
	}}
}
func (f *fixture) confirm(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) {
		return f.repairs.Confirm(f.ctx, f.ownerA, id, signature(), 5, "")
	}}
}
func (f *fixture) callback(at time.Time, satisfied bool) step {
	return step{at, func(id string) (*repair.Request, error) {
		return f.repairs.Callback(f.ctx, f.butler, id, satisfied, "回访记录")
	}}
}
func (f *fixture) cancel(at time.Time) step {
	return step{at, func(id string) (*repair.Request, error) { return f.repairs.Cancel(f.ctx, f.ownerA, id, "") }}
}

// repair submits a NORMAL request of household A at submitted (deadlines:
// respond 30 min, arrive 4 h, finish 24 h) and walks it through steps.
func (f *fixture) repair(submitted time.Time, steps ...step) *repair.Request {
	f.t.Helper()
	f.clock.Set(submitted)
	r, err := f.repairs.Submit(f.ctx, f.ownerA, repair.SubmitInput{HouseholdID: f.ha.ID, Category: "WATER", Description: "水管漏水", InHome: true})
	f.must(err)
	for i, s := range steps {
		f.clock.Set(s.at)
		if r, err = s.do(r.ID); err != nil {
			f.t.Fatalf("repair step %d at %s: %v", i, s.at, err)
		}
	}
	return r
}

// complaint submits a complaint of household B at submitted and runs its
// steps (each a function of the complaint id, at its time).
func (f *fixture) complaint(submitted time.Time, steps ...func(id string) error) *complaint.Complaint {
	f.t.Helper()
	f.clock.Set(submitted)
	x, err := f.complaints.Submit(f.ctx, f.ownerB, complaint.SubmitInput{HouseholdID: f.hb.ID, Category: complaint.Noise, Description: "楼上装修噪音"})
	f.must(err)
	for i, s := range steps {
		if err := s(x.ID); err != nil {
			f.t.Fatalf("complaint step %d: %v", i, err)
		}
	}
	return x
}

// cx is a complaint step at a time.
func (f *fixture) cx(at time.Time, do func(c *complaint.Service, id string) (*complaint.Complaint, error)) func(string) error {
	return func(id string) error {
		f.clock.Set(at)
		_, err := do(f.complaints, id)
		return err
	}
}

// order grants household A a free cleaning at booked and serves it: done
// and accepted at accepted, called back at calledBack (nil: never).
func (f *fixture) order(source string, booked, accepted time.Time, calledBack *time.Time, satisfied bool) {
	f.t.Helper()
	f.clock.Set(booked)
	id, err := f.orders.CreateFreeCleaning(f.ctx, f.ha.ID, source, "")
	f.must(err)
	slot := booked.Add(24 * time.Hour).In(shanghai)
	_, err = f.orders.Confirm(f.ctx, f.butler, id, f.cleaner.ID, &serviceorder.SlotInput{Date: slot.Format(time.DateOnly), From: "09:00", To: "11:00"}, "")
	f.must(err)
	f.clock.Set(accepted.Add(-time.Hour))
	_, err = f.orders.Start(f.ctx, f.cleaner, id, nil)
	f.must(err)
	_, err = f.orders.Complete(f.ctx, f.cleaner, id, nil, "")
	f.must(err)
	f.clock.Set(accepted)
	_, err = f.orders.Accept(f.ctx, f.ownerA, id, 5, "")
	f.must(err)
	if calledBack != nil {
		f.clock.Set(*calledBack)
		_, err = f.orders.Callback(f.ctx, f.butler, id, satisfied, "回访记录")
		f.must(err)
	}
}

// inbox is a staff member's notifications of kind.
func (f *fixture) inbox(c *access.Caller, kind notify.Kind) []*notify.Notification {
	f.t.Helper()
	pg, err := f.engine.Notifications(f.ctx, c, false, page.Request{First: 100})
	f.must(err)
	var out []*notify.Notification
	for _, n := range pg.Items {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}
