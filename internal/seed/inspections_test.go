package seed

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/inspection"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
)

// The month of inspections: stored once however often the seed runs, with
// closed, escalated and open corrective tasks and the lobby's schedule.
func TestSeedInspections(t *testing.T) {
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clock := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })
	d.Fees = nil // the year of fees is TestRunIsIdempotent's
	d.Inspections = inspection.NewService(db, d.Staff, files.NewStore(db, d.Now), nil, nil, d.Now)
	first, err := Run(ctx, d, Options{Households: 4})
	if err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int64 {
		out := map[string]int64{}
		for _, c := range []string{"inspections", "inspection_tasks", "inspection_schedules"} {
			n, err := db.Collection(c).CountDocuments(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			out[c] = n
		}
		for _, st := range []inspection.TaskStatus{inspection.Open, inspection.Escalated, inspection.Closed} {
			n, err := db.Collection("inspection_tasks").CountDocuments(ctx, bson.D{{Key: "status", Value: st}})
			if err != nil {
				t.Fatal(err)
			}
			out[string(st)] = n
		}
		return out
	}
	before := count()
	want := map[string]int64{"inspections": int64(len(inspectionPlans)), "inspection_tasks": 9, "inspection_schedules": 1,
		"OPEN": 1, "ESCALATED": 1, "CLOSED": 7}
	if !reflect.DeepEqual(before, want) || first.Counts["inspections"] != len(inspectionPlans) || first.Counts["correctiveTasks"] != 9 {
		t.Fatalf("stored %v, counts %v; want %v", before, first.Counts, want)
	}
	clock = clock.Add(26 * time.Hour)
	second, err := Run(ctx, d, Options{Households: 4})
	if err != nil {
		t.Fatal(err)
	}
	if after := count(); !reflect.DeepEqual(before, after) ||
		first.Counts["inspections"] != second.Counts["inspections"] || first.Counts["correctiveTasks"] != second.Counts["correctiveTasks"] {
		t.Fatalf("rerun: stored %v then %v; counts %v then %v", before, after, first.Counts, second.Counts)
	}
	// The cleaner has a score, and the inspector a schedule running.
	com := first.Communities[0].ID
	sup := &access.Caller{Kind: auth.KindStaff, ID: "t", Roles: []access.Role{access.Supervisor}, Communities: []string{com}}
	sc, err := d.Inspections.Scores(ctx, sup, inspection.ScoreQuery{CommunityID: com, From: clock.AddDate(0, 0, -40), To: clock,
		By: inspection.ByStaff, Bucket: inspection.WeekBucket})
	if err != nil || len(sc) != 1 || sc[0].Total == 0 || sc[0].Passed == sc[0].Total {
		t.Fatalf("staff scores %+v %v", sc, err)
	}
}
