package seed

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/incident"
	"qinqing/internal/platform/mongo"
)

// The first community gets its night patrol with one missed checkpoint
// and two incidents, a closed water leak and an open dispute; a rerun the
// next day adds none of them again.
func TestRunSeedsPatrolAndIncidents(t *testing.T) {
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clock := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })
	count := func(col string, q bson.D) int64 {
		t.Helper()
		n, err := db.Collection(col).CountDocuments(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for run := range 2 {
		if _, err := Run(ctx, d, Options{Households: 8}); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if n := count("patrol_routes", bson.D{}); n != 1 {
			t.Errorf("run %d: %d patrol routes", run, n)
		}
		if s, m := count("patrol_scans", bson.D{{Key: "status", Value: "ON_TIME"}}), count("patrol_misses", bson.D{}); s != 2 || m != 1 {
			t.Errorf("run %d: %d scans on time, %d misses; want 2 and 1", run, s, m)
		}
		closed := count("incidents", bson.D{{Key: "type", Value: incident.WaterLeak}, {Key: "status", Value: incident.Closed},
			{Key: "closeSeconds", Value: int64(3 * 3600)}, {Key: "residents.0", Value: bson.D{{Key: "$exists", Value: true}}}})
		open := count("incidents", bson.D{{Key: "type", Value: incident.Dispute}, {Key: "status", Value: incident.Open}})
		if closed != 1 || open != 1 || count("incidents", bson.D{}) != 2 {
			t.Errorf("run %d: %d closed water leaks, %d open disputes, %d in all", run, closed, open, count("incidents", bson.D{}))
		}
		clock = clock.Add(26 * time.Hour)
	}
}
