package serviceorder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/staff"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

// fixture is a small estate built with the real services on a real
// database, with the real notification engine.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *mongo.DB
	svc    *Service
	cat    *catalog.Service
	engine *notify.Engine
	staff  *staff.Service
	now    time.Time

	admin                          *access.Caller
	x, y                           *community.Community
	ha, hb, hy                     *household.Household
	ownerA, familyA, tenantA       *access.Caller
	ownerB, ownerY                 *access.Caller
	butler, supervisor, cleaner    *access.Caller
	butlerY, supervisorY, cleanerY *access.Caller
	cleaning, laundry              *catalog.Item
	nextAccount                    int
	tuesday                        SlotInput
	households                     *household.Service
	communities                    *community.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// Sunday 22 November 2026, 18:00 in Shanghai.
	f := &fixture{t: t, ctx: context.Background(), db: db, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.now }
	f.communities = community.NewService(db, "co", now)
	f.households = household.NewService(db, f.communities, nil, nil, now)
	f.staff = staff.NewService(db, "co", f.communities, f.households, now)
	f.cat = catalog.NewService(db, f.communities, now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: now})
	f.svc = NewService(Config{DB: db, Households: f.households, Catalog: f.cat, Staff: f.staff, Sender: f.engine, Now: now})
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "test-admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	f.ha, f.ownerA = f.household(f.x, "101", "王建国", "13900000001")
	f.familyA = f.member(f.ha, "王小丽", "13900000011", access.Family)
	f.tenantA = f.member(f.ha, "租客张", "13900000012", access.Tenant)
	f.hb, f.ownerB = f.household(f.x, "102", "李秀英", "13900000002")
	f.hy, f.ownerY = f.household(f.y, "301", "陈美兰", "13900000004")
	f.butler, f.supervisor, f.cleaner = f.staffMember(access.Butler, f.x.ID), f.staffMember(access.Supervisor, f.x.ID), f.staffMember(access.Cleaner, f.x.ID)
	f.butlerY, f.supervisorY, f.cleanerY = f.staffMember(access.Butler, f.y.ID), f.staffMember(access.Supervisor, f.y.ID), f.staffMember(access.Cleaner, f.y.ID)
	every := []catalog.Window{{Weekdays: []int{1, 2, 3, 4, 5}, From: "08:00", To: "18:00"}}
	f.cleaning = f.item(catalog.ItemInput{CommunityID: f.x.ID, Name: "日常保洁", Category: catalog.HomeCleaning, PriceFen: 5000, Unit: catalog.PerHour, Windows: every})
	f.laundry = f.item(catalog.ItemInput{CommunityID: f.x.ID, Name: "洗衣", Category: catalog.Laundry, PriceFen: 800, Unit: catalog.PerItem, Windows: every})
	f.tuesday = SlotInput{Date: "2026-11-24", From: "09:00", To: "11:00"}
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
	return h, f.member(h, name, phone, access.Owner)
}

func (f *fixture) member(h *household.Household, name, phone string, role access.Role) *access.Caller {
	f.t.Helper()
	m, err := f.households.AddMember(f.ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
	f.must(err)
	return &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role}}}
}

// staffMember stores an active staff member with one role in one community.
func (f *fixture) staffMember(role access.Role, communityID string) *access.Caller {
	f.t.Helper()
	f.nextAccount++
	st, err := f.staff.Upsert(f.ctx, &staff.Staff{Account: fmt.Sprintf("staff%02d", f.nextAccount), Name: "员工", Roles: []access.Role{role}, CommunityIDs: []string{communityID}})
	f.must(err)
	return &access.Caller{Kind: auth.KindStaff, ID: st.ID, Roles: st.Roles, Communities: st.CommunityIDs}
}

func (f *fixture) item(in catalog.ItemInput) *catalog.Item {
	f.t.Helper()
	it, err := f.cat.Upsert(f.ctx, f.supervisor, in)
	f.must(err)
	return it
}

func (f *fixture) book(owner *access.Caller, h *household.Household, it *catalog.Item, q float64) *Order {
	f.t.Helper()
	o, err := f.svc.Book(f.ctx, owner, BookInput{HouseholdID: h.ID, ItemID: it.ID, Slot: f.tuesday, Quantity: q})
	f.must(err)
	return o
}

// ok requires a step to succeed into want.
func (f *fixture) ok(name string, want Status) func(*Order, error) *Order {
	return func(o *Order, err error) *Order {
		f.t.Helper()
		if err != nil {
			f.t.Fatalf("%s: %v", name, err)
		}
		if o.Status != want {
			f.t.Fatalf("%s: status %s, want %s", name, o.Status, want)
		}
		return o
	}
}

// refused requires a step to fail with want and to leave the stored order
// exactly as before.
func (f *fixture) refused(name string, before *Order, want error) func(*Order, error) {
	return func(_ *Order, err error) {
		f.t.Helper()
		if err == nil {
			f.t.Errorf("%s: allowed from %s", name, before.Status)
		} else if !errors.Is(err, want) {
			f.t.Errorf("%s from %s: err %v, want %v", name, before.Status, err, want)
		}
		after, gerr := f.svc.byID(f.ctx, before.ID)
		f.must(gerr)
		if after.Version != before.Version || after.Status != before.Status || len(after.Timeline) != len(before.Timeline) ||
			after.AssigneeID != before.AssigneeID || after.HandlerID != before.HandlerID || after.Payment.Status != before.Payment.Status || after.Payment.Reason != before.Payment.Reason ||
			len(after.Extras) != len(before.Extras) || (after.Acceptance == nil) != (before.Acceptance == nil) || (after.Callback == nil) != (before.Callback == nil) {
			f.t.Errorf("%s changed the order: v%d %s (%d steps) → v%d %s (%d steps)", name,
				before.Version, before.Status, len(before.Timeline), after.Version, after.Status, len(after.Timeline))
		}
	}
}

// inbox counts a recipient's notifications of kind.
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
