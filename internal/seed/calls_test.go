package seed

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/hotline"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// A day of calls is logged once, mixed as a real day is: some callers
// matched to households, some over the three-ring standard, several outcomes.
func TestSeedCalls(t *testing.T) {
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clock := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })
	d.Calls = hotline.NewService(db, d.Households, d.Staff, d.Now)
	first, err := Run(ctx, d, Options{Households: 24})
	if err != nil {
		t.Fatal(err)
	}
	if n := first.Counts["hotlineCalls"]; n < 30 || n > 50 {
		t.Fatalf("hotlineCalls = %d", n)
	}
	second, err := Run(ctx, d, Options{Households: 24})
	if err != nil {
		t.Fatal(err)
	}
	if second.Counts["hotlineCalls"] != first.Counts["hotlineCalls"] {
		t.Fatalf("second run: %d calls, first %d", second.Counts["hotlineCalls"], first.Counts["hotlineCalls"])
	}
	sup := &access.Caller{Kind: auth.KindStaff, ID: "test", Roles: []access.Role{access.Supervisor}, Communities: []string{first.Communities[0].ID}}
	sum, err := d.Calls.Summarize(ctx, sup, first.Communities[0].ID, clock.AddDate(0, 0, -2), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls (%d in, %d out), within standard %d/%d, rings median %d p90 %d, outcomes %v",
		sum.Calls, sum.Inbound, sum.Outbound, sum.WithinStandard, sum.Measured, *sum.Rings.Median, *sum.Rings.P90, sum.ByOutcome)
	kinds := 0
	for _, o := range sum.ByOutcome {
		if o.Count > 0 {
			kinds++
		}
	}
	if sum.Calls != first.Counts["hotlineCalls"] || sum.WithinStandard == 0 || sum.WithinStandard == sum.Measured || kinds < 4 || sum.Outbound == 0 {
		t.Fatalf("summary = %+v", sum)
	}
	matched, err := db.Collection("hotline_calls").CountDocuments(ctx, bson.D{{Key: "householdId", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil || matched == 0 || int(matched) == sum.Calls {
		t.Fatalf("calls matched to a household: %d of %d (%v)", matched, sum.Calls, err)
	}
}
