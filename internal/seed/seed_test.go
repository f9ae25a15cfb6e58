package seed

import (
	"context"
	"os"
	"qinqing/internal/catalog"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/enquiry"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/staff"
)

func TestMain(m *testing.M) {
	identity.BcryptCost = bcrypt.MinCost
	os.Exit(mongo.RunTests(m))
}

const testCompany = "seed-test-co"

// newDeps wires the services the way the server does, minus the filter
// auditor (household and archive depend on each other; the seed never
// filters by a sensitive flag).
func newDeps(db *mongo.DB, companyID string, now func() time.Time) Deps {
	sensitive := make([]string, len(archive.SensitiveFlags))
	for i, f := range archive.SensitiveFlags {
		sensitive[i] = string(f)
	}
	communities := community.NewService(db, companyID, now)
	households := household.NewService(db, communities, sensitive, nil, now)
	staffSvc := staff.NewService(db, companyID, communities, households, now)
	return Deps{
		DB:          db,
		Communities: communities,
		Households:  households,
		Archive:     archive.NewService(db, households, now),
		Staff:       staffSvc,
		Catalog:     catalog.NewService(db, communities, now),
		Enquiries:   enquiry.NewService(enquiry.Config{DB: db, Households: households, Staff: staffSvc, Now: now}),
		Now:         now,
	}
}

var collections = []string{
	"communities", "buildings", "households", "persons", "person_phones", "memberships",
	"staff", "care_profiles", "household_care", "visits", "service_items", "faq_entries", "enquiries",
}

func countAll(t *testing.T, db *mongo.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range collections {
		n, err := db.Collection(c).CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatalf("count %s: %v", c, err)
		}
		out[c] = n
	}
	return out
}

func TestRunIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clock := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })

	start := time.Now()
	first, err := Run(ctx, d, Options{Households: 24})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	t.Logf("first run %v, counts %v", time.Since(start).Round(time.Millisecond), first.Counts)
	before := countAll(t, db)

	clock = clock.Add(26 * time.Hour) // a rerun the next day still finds everything
	start = time.Now()
	second, err := Run(ctx, d, Options{Households: 24})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	t.Logf("second run %v", time.Since(start).Round(time.Millisecond))
	if after := countAll(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("second run changed document counts:\n before %v\n after  %v", before, after)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second run returned a different result:\n first  %+v\n second %+v", first, second)
	}

	// The result describes what is stored.
	for k, c := range map[string]string{"households": "households", "persons": "persons", "memberships": "memberships", "staff": "staff", "careProfiles": "care_profiles", "householdCare": "household_care", "visits": "visits", "serviceItems": "service_items", "faqEntries": "faq_entries", "enquiries": "enquiries"} {
		if got, want := int64(first.Counts[k]), before[c]; got != want {
			t.Errorf("counts[%s] = %d, %s holds %d", k, got, c, want)
		}
	}
	if first.Counts["households"] != 24 || len(first.Communities) != 2 {
		t.Errorf("want 24 households in 2 communities, got %v", first.Counts)
	}
	if first.Counts["visits"] == 0 || first.Counts["careProfiles"] == 0 || first.Counts["householdCare"] == 0 {
		t.Errorf("archive is empty: %v", first.Counts)
	}

	// Staff of every role, company-wide admin included.
	admin := &access.Caller{Kind: auth.KindStaff, ID: "test", Roles: []access.Role{access.Admin}}
	pg, err := d.Staff.List(ctx, admin, "", page.Request{First: page.MaxFirst})
	list := pg.Items
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range access.StaffRoles {
		if !slices.ContainsFunc(list, func(st *staff.Staff) bool { return slices.Contains(st.Roles, role) }) {
			t.Errorf("no staff with role %s", role)
		}
	}
	for _, c := range first.Communities {
		var roles []access.Role
		for _, st := range list {
			if slices.Contains(st.CommunityIDs, c.ID) {
				roles = append(roles, st.Roles...)
			}
		}
		for _, role := range []access.Role{access.Butler, access.Engineer, access.Supervisor, access.Security, access.Cleaner} {
			if !slices.Contains(roles, role) {
				t.Errorf("%s has no %s", c.Name, role)
			}
		}
	}

	// Owners can log in by phone.
	if len(first.Owners) < 10 {
		t.Fatalf("want at least 10 owners, got %d", len(first.Owners))
	}
	for _, o := range first.Owners {
		id, found, err := d.Households.PersonByPhone(ctx, o.Phone)
		if err != nil || !found {
			t.Fatalf("owner %s %s: found=%v err=%v", o.Name, o.Phone, found, err)
		}
		pc, err := d.Households.Caller(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := pc.RoleIn(o.HouseholdID); !ok || r != access.Owner {
			t.Errorf("%s is not the owner of %s (%s)", o.Name, o.Label, r)
		}
	}

	// A staff account logs in with the demo password.
	var butler SeedStaff
	for _, st := range first.Staff {
		if st.Account == "chunhui.butler1" {
			butler = st
		}
	}
	id, hash, ok, err := d.Staff.StaffCredentials(ctx, butler.Account)
	if err != nil || !ok {
		t.Fatalf("credentials of %q: ok=%v err=%v", butler.Account, ok, err)
	}
	if id != butler.ID {
		t.Errorf("credentials id %s, result id %s", id, butler.ID)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(butler.Password)); err != nil {
		t.Errorf("demo password does not verify: %v", err)
	}

	// Care flags reached the households, sensitive ones included.
	sup := &access.Caller{Kind: auth.KindStaff, ID: "test", Roles: []access.Role{access.Supervisor}, Communities: []string{first.Communities[1].ID}}
	for _, flag := range []archive.Flag{archive.ElderlyAlone, archive.ChronicIllness} {
		pg, err := d.Households.List(ctx, sup, household.Filter{CommunityID: first.Communities[1].ID, CareFlag: string(flag)}, page.Request{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) == 0 {
			t.Errorf("no household flagged %s", flag)
		}
	}

	// Butler 1 is responsible for buildings 1-2, butler 2 for the rest.
	var b1, b2 *staff.Staff
	for _, st := range list {
		switch st.Account {
		case "chunhui.butler1":
			b1 = st
		case "chunhui.butler2":
			b2 = st
		}
	}
	if b1 == nil || b2 == nil || len(b1.BuildingIDs) != 2 || len(b2.BuildingIDs) != 3 {
		t.Errorf("butler buildings: %+v %+v", b1, b2)
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	a, b := planHouseholds(200, 2026), planHouseholds(30, 2026)
	if !reflect.DeepEqual(a[:30], b) {
		t.Error("household i must not depend on the requested count")
	}
	rooms := map[string]bool{}
	phones := map[string]bool{}
	var tenants, alone int
	for _, p := range a {
		k := communityPlans[p.Community].Buildings[p.Building] + "|" + p.key()
		if rooms[fmtKey(p.Community, k)] {
			t.Errorf("room %s planned twice", k)
		}
		rooms[fmtKey(p.Community, k)] = true
		if p.Members[0].Role != access.Owner || p.Members[0].Phone == "" {
			t.Errorf("household %d: first member must be an owner with a phone", p.Index)
		}
		for _, m := range p.Members {
			if m.Phone != "" {
				if phones[m.Phone] {
					t.Errorf("phone %s planned twice", m.Phone)
				}
				phones[m.Phone] = true
			}
		}
		if p.Tenanted {
			tenants++
		}
		if len(p.Members) == 1 && p.Members[0].Profile != nil && p.Members[0].Profile.Flags != nil && slices.Contains(*p.Members[0].Profile.Flags, archive.ElderlyAlone) {
			alone++
		}
	}
	if tenants < 15 || tenants > 25 || alone < 8 || alone > 12 {
		t.Errorf("tenanted %d, elderly alone %d of 200", tenants, alone)
	}
}

func fmtKey(c int, k string) string { return communityPlans[c].Slug + "|" + k }

// TestRunFull times the default demo; QINQING_SEED_FULL=1 runs it.
func TestRunFull(t *testing.T) {
	if os.Getenv("QINQING_SEED_FULL") == "" {
		t.Skip("set QINQING_SEED_FULL=1 to seed the full demo")
	}
	db := mongo.NewTestDB(t, mongo.Options{})
	d := newDeps(db, testCompany, time.Now)
	for run := range 2 {
		start := time.Now()
		res, err := Run(context.Background(), d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: %v, counts %v", run+1, time.Since(start).Round(time.Millisecond), res.Counts)
	}
}
