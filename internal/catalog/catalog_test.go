package catalog

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type fixture struct {
	t                       *testing.T
	ctx                     context.Context
	svc                     *Service
	now                     time.Time
	x, y                    *community.Community
	admin, supX, supY, butX *access.Caller
	staffXEngineer          *access.Caller
	ownerX, ownerY, tenantX *access.Caller
	cleaning                ItemInput
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	f := &fixture{t: t, ctx: context.Background(), now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.now }
	communities := community.NewService(db, "co", now)
	f.svc = NewService(db, communities, now)
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "admin1", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	staffIn := func(id string, role access.Role, c string) *access.Caller {
		return &access.Caller{Kind: auth.KindStaff, ID: id, Roles: []access.Role{role}, Communities: []string{c}}
	}
	resident := func(id string, role access.Role, c string) *access.Caller {
		return &access.Caller{Kind: auth.KindPerson, ID: id, Memberships: []access.Membership{{HouseholdID: mongo.NewID(), CommunityID: c, Role: role}}}
	}
	f.supX, f.supY, f.butX = staffIn("supx", access.Supervisor, f.x.ID), staffIn("supy", access.Supervisor, f.y.ID), staffIn("butx", access.Butler, f.x.ID)
	f.staffXEngineer = staffIn("engx", access.Engineer, f.x.ID)
	f.ownerX, f.ownerY, f.tenantX = resident("p1", access.Owner, f.x.ID), resident("p2", access.Owner, f.y.ID), resident("p3", access.Tenant, f.x.ID)
	f.cleaning = ItemInput{CommunityID: f.x.ID, Name: "日常保洁", Category: HomeCleaning, Description: "两小时起", PriceFen: 5000, Unit: PerHour,
		Windows: []Window{{Weekdays: []int{1, 2, 3, 4, 5}, From: "08:00", To: "18:00"}}}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) create(c *access.Caller, in ItemInput) *Item {
	f.t.Helper()
	it, err := f.svc.Upsert(f.ctx, c, in)
	f.must(err)
	return it
}

// Bad input is refused with the offending field named, and nothing stored.
func TestUpsertValidationNamesFields(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		edit  func(in *ItemInput)
		field string
	}{
		{"no name", func(in *ItemInput) { in.Name = "  " }, "input.name"},
		{"name too long", func(in *ItemInput) { in.Name = string(make([]rune, 41)) }, "input.name"},
		{"unknown category", func(in *ItemInput) { in.Category = "SPA" }, "input.category"},
		{"unknown unit", func(in *ItemInput) { in.Unit = "PER_DAY" }, "input.unit"},
		{"negative price", func(in *ItemInput) { in.PriceFen = -1 }, "input.priceFen"},
		{"paid at zero", func(in *ItemInput) { in.PriceFen = 0 }, "input.priceFen"},
		{"free with a price", func(in *ItemInput) { in.Free = true }, "input.priceFen"},
		{"no windows", func(in *ItemInput) { in.Windows = nil }, "input.windows"},
		{"weekday 8", func(in *ItemInput) { in.Windows[0].Weekdays = []int{1, 8} }, "input.windows.0.weekdays"},
		{"weekday twice", func(in *ItemInput) { in.Windows[0].Weekdays = []int{2, 2} }, "input.windows.0.weekdays"},
		{"no weekdays", func(in *ItemInput) { in.Windows[0].Weekdays = nil }, "input.windows.0.weekdays"},
		{"bad from", func(in *ItemInput) { in.Windows[0].From = "8:00" }, "input.windows.0.from"},
		{"bad to", func(in *ItemInput) { in.Windows[0].To = "24:30" }, "input.windows.0.to"},
		{"ends before it starts", func(in *ItemInput) { in.Windows[0].To = "07:00" }, "input.windows.0.to"},
		{"bad community id", func(in *ItemInput) { in.CommunityID = "nope" }, "input.communityId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := f.cleaning
			in.Windows = []Window{{Weekdays: []int{1, 2, 3, 4, 5}, From: "08:00", To: "18:00"}}
			tc.edit(&in)
			_, err := f.svc.Upsert(f.ctx, f.supX, in)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadUserInput || e.Field != tc.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
	if list, err := f.svc.List(f.ctx, f.supX, f.x.ID, true); err != nil || len(list) != 0 {
		t.Fatalf("stored after refusals: %v %v", list, err)
	}
}

// Supervisors of the community (and admins) edit; butlers and residents may
// not (FORBIDDEN); those who cannot see the community get NOT_FOUND. Every
// resident of the community and its staff read the list.
func TestCatalogPermissions(t *testing.T) {
	f := newFixture(t)
	it := f.create(f.supX, f.cleaning)
	for _, tc := range []struct {
		name string
		c    *access.Caller
		want error
	}{
		{"butler", f.butX, apperr.ErrForbidden},
		{"engineer", f.staffXEngineer, apperr.ErrForbidden},
		{"owner", f.ownerX, apperr.ErrForbidden},
		{"supervisor of another community", f.supY, community.ErrNotFound},
		{"owner of another community", f.ownerY, community.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edit := f.cleaning
			edit.ID, edit.PriceFen = it.ID, 1
			if _, err := f.svc.Upsert(f.ctx, tc.c, edit); !errors.Is(err, tc.want) {
				t.Errorf("upsert: %v, want %v", err, tc.want)
			}
			if _, err := f.svc.Upsert(f.ctx, tc.c, f.cleaning); !errors.Is(err, tc.want) {
				t.Errorf("create: %v, want %v", err, tc.want)
			}
			want := tc.want
			if want == community.ErrNotFound {
				want = ErrNotFound // the item itself is not theirs to find
			}
			if _, err := f.svc.Retire(f.ctx, tc.c, it.ID); !errors.Is(err, want) {
				t.Errorf("retire: %v, want %v", err, want)
			}
		})
	}
	// Admins edit too, as for the other community settings; not for a community that does not exist.
	f.create(f.admin, ItemInput{CommunityID: f.x.ID, Name: "绿植养护", Category: Greening, PriceFen: 3000, Unit: PerVisit,
		Windows: []Window{{Weekdays: []int{6, 7}, From: "09:00", To: "12:00"}}})
	ghost := f.cleaning
	ghost.CommunityID = mongo.NewID()
	if _, err := f.svc.Upsert(f.ctx, f.admin, ghost); !errors.Is(err, community.ErrNotFound) {
		t.Fatalf("admin on a missing community: %v", err)
	}
	// An item id of another community is not found through this one.
	yItem := f.create(f.supY, ItemInput{CommunityID: f.y.ID, Name: "洗衣", Category: Laundry, PriceFen: 800, Unit: PerItem,
		Windows: []Window{{Weekdays: []int{1}, From: "09:00", To: "10:00"}}})
	moved := f.cleaning
	moved.ID = yItem.ID
	if _, err := f.svc.Upsert(f.ctx, f.supX, moved); !errors.Is(err, ErrNotFound) {
		t.Fatalf("editing another community's item: %v", err)
	}

	for _, c := range []*access.Caller{f.ownerX, f.tenantX, f.butX, f.staffXEngineer, f.supX, f.admin} {
		list, err := f.svc.List(f.ctx, c, f.x.ID, false)
		if err != nil || len(list) != 2 {
			t.Fatalf("%s reads the list: %d items, %v", c.ID, len(list), err)
		}
	}
	for _, c := range []*access.Caller{f.ownerY, f.supY} {
		if _, err := f.svc.List(f.ctx, c, f.x.ID, false); !errors.Is(err, community.ErrNotFound) {
			t.Fatalf("%s reads another community's list: %v", c.ID, err)
		}
	}

	// Retired: off the list for residents, still there for staff who ask.
	r, err := f.svc.Retire(f.ctx, f.supX, it.ID)
	f.must(err)
	if r.Status != Retired {
		t.Fatalf("retired = %s", r.Status)
	}
	if _, err := f.svc.Retire(f.ctx, f.supX, it.ID); !errors.Is(err, lifecycle.ErrIllegal) {
		t.Fatalf("retire twice: %v", err)
	}
	count := func(c *access.Caller, retired bool) int {
		list, err := f.svc.List(f.ctx, c, f.x.ID, retired)
		f.must(err)
		return len(list)
	}
	if count(f.ownerX, true) != 1 || count(f.butX, false) != 1 || count(f.butX, true) != 2 {
		t.Fatalf("after retiring: owner %d, staff %d / %d", count(f.ownerX, true), count(f.butX, false), count(f.butX, true))
	}
}

// Every change of price, unit or free/paid is kept: who, when, old → new.
// Staff read the history; residents see the current price only.
func TestPriceHistory(t *testing.T) {
	f := newFixture(t)
	it := f.create(f.supX, f.cleaning)
	f.now = f.now.Add(time.Hour)
	edit := f.cleaning
	edit.ID, edit.PriceFen = it.ID, 6000
	it2, err := f.svc.Upsert(f.ctx, f.admin, edit)
	f.must(err)
	f.now = f.now.Add(time.Hour)
	edit.Description = "只改说明"
	it3, err := f.svc.Upsert(f.ctx, f.supX, edit)
	f.must(err)
	if it2.PriceFen != 6000 || it3.Description != "只改说明" || it3.Version != 2 {
		t.Fatalf("edits: %+v %+v", it2, it3)
	}
	h, ok := PriceHistory(f.butX, it3)
	if !ok || len(h) != 2 {
		t.Fatalf("history = %+v (ok %v), want the creation and one change", h, ok)
	}
	if h[0].OldPriceFen != nil || h[0].NewPriceFen != 5000 || h[0].StaffID != "supx" {
		t.Errorf("creation line = %+v", h[0])
	}
	if h[1].OldPriceFen == nil || *h[1].OldPriceFen != 5000 || h[1].NewPriceFen != 6000 || h[1].StaffID != "admin1" ||
		!h[1].At.Equal(time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("change line = %+v", h[1])
	}
	if _, ok := PriceHistory(f.ownerX, it3); ok {
		t.Error("a resident reads the price history")
	}
	if _, ok := PriceHistory(f.supY, it3); ok {
		t.Error("staff of another community read the price history")
	}
}
