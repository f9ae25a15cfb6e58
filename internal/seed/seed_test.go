package seed

import (
	"context"
	"os"
	"qinqing/internal/app"
	"qinqing/internal/catalog"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"golang.org/x/crypto/bcrypt"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/dunning"
	"qinqing/internal/enquiry"
	"qinqing/internal/facility"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/incident"
	"qinqing/internal/patrol"
	"qinqing/internal/payment"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/review"
	"qinqing/internal/staff"
	"qinqing/internal/vote"
)

func TestMain(m *testing.M) {
	identity.BcryptCost = bcrypt.MinCost
	os.Exit(mongo.RunTests(m))
}

const testCompany = "seed-test-co"

// newDeps wires the services the way the server does, minus the filter
// auditor (household and archive depend on each other; the seed never
// filters by a sensitive flag) and the notification engine. The services
// run on a seed Clock over now, as in the seed command.
func newDeps(db *mongo.DB, companyID string, now func() time.Time) Deps {
	sensitive := make([]string, len(archive.SensitiveFlags))
	for i, f := range archive.SensitiveFlags {
		sensitive[i] = string(f)
	}
	clock := NewClock(now)
	now = clock.Now
	communities := community.NewService(db, companyID, now)
	households := household.NewService(db, communities, sensitive, nil, now)
	staffSvc := staff.NewService(db, companyID, communities, households, now)
	fees := fee.NewService(db, now).WithRegister(communities, households)
	cmt := committee.NewService(committee.Config{DB: db, Owners: households, Places: communities, Now: now})
	return Deps{
		DB:          db,
		Communities: communities,
		Households:  households,
		Archive:     archive.NewService(db, households, now),
		Staff:       staffSvc,
		Catalog:     catalog.NewService(db, communities, now),
		Enquiries:   enquiry.NewService(enquiry.Config{DB: db, Households: households, Staff: staffSvc, Now: now}),
		Fees:        fees,
		Payments:    payment.NewService(payment.Config{DB: db, Fees: fees, Households: households, Communities: communities, Staff: staffSvc, Now: now}),
		Dunning: dunning.NewService(dunning.Config{DB: db, Arrears: feeArrears{fees}, Holds: []dunning.Holds{reliefHolds{fees}},
			Households: households, Now: now, Facts: app.NewNoticeFacts("", communities, households, fees, staffSvc)}),
		Finance:    finance.NewService(finance.Config{DB: db, Places: communities, Residents: households, Now: now, Collection: fees}),
		Reviews:    review.NewService(review.Config{DB: db, Staff: staffSvc, Now: now}),
		Patrols:    patrol.NewService(patrol.Config{DB: db, Staff: staffSvc, Now: now}),
		Incidents:  incident.NewService(incident.Config{DB: db, Places: communities, Households: households, Staff: staffSvc, Now: now}),
		Clock:      clock,
		Now:        now,
		Facilities: facility.NewService(facility.Config{DB: db, Buildings: communities, Now: now}),
		Committee:  cmt,
		Meetings:   committee.NewMeetings(committee.MeetingsConfig{DB: db, Roster: cmt, Staff: staffSvc, Now: now}),
		Votes:      vote.NewService(vote.Config{DB: db, Committee: cmt, Households: households, Now: now}),
	}
}

// feeArrears and reliefHolds wire the ladder to the bills as internal/app does.
type feeArrears struct{ fees *fee.Service }

func (a feeArrears) OverdueIn(ctx context.Context, communityID, today string) ([]dunning.Owing, error) {
	os, err := a.fees.OverdueIn(ctx, communityID, today)
	out := make([]dunning.Owing, len(os))
	for i, o := range os {
		out[i] = dunning.Owing{HouseholdID: o.HouseholdID, CommunityID: communityID, BuildingID: o.BuildingID, Fen: o.Fen, OldestDue: o.OldestDue}
	}
	return out, err
}

type reliefHolds struct{ fees *fee.Service }

func (h reliefHolds) Held(ctx context.Context, ids []string, today string) (map[string]string, error) {
	held, err := h.fees.ReliefHeld(ctx, ids, today)
	out := make(map[string]string, len(held))
	for id := range held {
		out[id] = dunning.HoldRelief
	}
	return out, err
}

var collections = []string{
	"communities", "buildings", "households", "persons", "person_phones", "memberships",
	"staff", "care_profiles", "household_care", "visits", "service_items", "faq_entries", "enquiries",
	"fee_items", "parking_spaces", "meter_readings", "bills", "fee_reliefs", "payments", "receipt_numbers",
	"dunning_cases", "finance_statements", "equipment", "maintenance_plans", "maintenance_orders", "training_sessions", "staff_reviews",
	"patrol_routes", "patrol_scans", "patrol_misses", "patrol_rounds", "incidents", "committee_meetings", "votes", "vote_units", "vote_ballots",
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

// testHouseholds is the smallest demo with every kind of household the
// fee year plans: hardship (relief) and every step of the ladder.
const testHouseholds = 28

func TestRunIsIdempotent(t *testing.T) {
	ctx := context.Background()
	var trips atomic.Int64 // database round trips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { trips.Add(1) }}})
	clock := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })

	start := time.Now()
	first, err := Run(ctx, d, Options{Households: testHouseholds, Fees: true})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	t.Logf("first run %v, %d round trips, counts %v", time.Since(start).Round(time.Millisecond), trips.Load(), first.Counts)
	before := countAll(t, db)

	clock = clock.Add(26 * time.Hour) // a rerun the next day still finds everything
	start, trips0 := time.Now(), trips.Load()
	second, err := Run(ctx, d, Options{Households: testHouseholds, Fees: true})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	t.Logf("second run %v, %d round trips", time.Since(start).Round(time.Millisecond), trips.Load()-trips0)
	if after := countAll(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("second run changed document counts:\n before %v\n after  %v", before, after)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second run returned a different result:\n first  %+v\n second %+v", first, second)
	}

	// The result describes what is stored.
	for k, c := range map[string]string{"households": "households", "persons": "persons", "memberships": "memberships", "staff": "staff", "careProfiles": "care_profiles", "householdCare": "household_care", "visits": "visits", "serviceItems": "service_items", "faqEntries": "faq_entries", "enquiries": "enquiries",
		"bills": "bills", "payments": "payments", "feeItemVersions": "fee_items", "parkingSpaces": "parking_spaces", "feeReliefs": "fee_reliefs",
		"financeStatements": "finance_statements", "equipment": "equipment", "maintenancePlans": "maintenance_plans", "maintenanceOrders": "maintenance_orders"} {
		if got, want := int64(first.Counts[k]), before[c]; got != want {
			t.Errorf("counts[%s] = %d, %s holds %d", k, got, c, want)
		}
	}
	if first.Counts["households"] != testHouseholds || len(first.Communities) != 2 {
		t.Errorf("want %d households in 2 communities, got %v", testHouseholds, first.Counts)
	}
	checkFees(t, d, first)
	// Equipment with its plans: two quarterly fire checks done on their
	// dates, the third overdue, a lift's and a pump's month coming up.
	done, err := db.Collection("maintenance_orders").CountDocuments(ctx, bson.D{{Key: "status", Value: facility.Done}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Counts["equipment"] != 6 || first.Counts["maintenancePlans"] != 3 || first.Counts["maintenanceOrders"] != 5 || done != 2 {
		t.Errorf("facilities: %v, %d done", first.Counts, done)
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
	// The first listed owner chairs the first community's committee.
	chair, _, err := d.Households.PersonByPhone(ctx, first.Owners[0].Phone)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := d.Households.Caller(ctx, chair, "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := d.Committee.RoleOf(ctx, cc, first.Communities[0].ID); err != nil || r != committee.Chair {
		t.Errorf("first owner's committee role %q, err %v; want CHAIR", r, err)
	}
	// The chair reads the three-party meeting: the engineer's item overdue,
	// the butler's not yet due.
	ms, err := d.Meetings.List(ctx, cc, first.Communities[0].ID, "", page.Request{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.Items) != 1 || ms.Items[0].Kind != committee.ThreeParty || len(ms.Items[0].Actions) != 2 ||
		!ms.Items[0].Actions[0].Overdue || ms.Items[0].Actions[1].Overdue {
		t.Errorf("seeded meetings: %+v", ms.Items)
	}
	// The chair's votes: one counted (three units in four took part, most for it), one open.
	votes, err := d.Votes.List(ctx, cc, first.Communities[0].ID, page.Request{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	states := map[vote.State]*vote.Vote{}
	for _, v := range votes.Items {
		states[v.State] = v
	}
	if cv := states[vote.Closed]; len(votes.Items) != 2 || cv == nil || states[vote.Open] == nil || cv.Result == nil || cv.Result.Outcome != vote.Adopted ||
		4*cv.Result.Participating.Units < 3*cv.Electorate.Units {
		t.Errorf("seeded votes: %d, closed %+v", len(votes.Items), cv)
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

// TestRunFull times the default demo; QINQING_SEED_FULL=1 runs it,
// with a year of fees when QINQING_SEED_FEES=1, and
// QINQING_SEED_HOUSEHOLDS households when set.
func TestRunFull(t *testing.T) {
	if os.Getenv("QINQING_SEED_FULL") == "" {
		t.Skip("set QINQING_SEED_FULL=1 to seed the full demo")
	}
	db := mongo.NewTestDB(t, mongo.Options{})
	d := newDeps(db, testCompany, time.Now)
	for run := range 2 {
		start := time.Now()
		n, _ := strconv.Atoi(os.Getenv("QINQING_SEED_HOUSEHOLDS"))
		res, err := Run(context.Background(), d, Options{Households: n, Fees: os.Getenv("QINQING_SEED_FEES") != ""})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: %v, counts %v", run+1, time.Since(start).Round(time.Millisecond), res.Counts)
	}
}
