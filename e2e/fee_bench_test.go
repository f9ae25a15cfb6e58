package e2e

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// BenchmarkGenerateBills bills a community of 5,000 households for one
// period through the API (management by area and building type, a fixed
// charge, 1,000 parking spaces and a shared meter split by area): database
// round trips per bill and per batch of fee.BatchSize households (the
// request's own; they must stay constant per batch), the bills
// collection's share, allocations, and the peak heap of the process
// (server and client). "rerun" bills the same period again, which inserts
// nothing: its round trips are the floor of reading the register. The
// households are written straight into the database in batches: building
// 5,000 through the API would only time the fixture.
func BenchmarkGenerateBills(b *testing.B) {
	var rt roundTrips
	var bills atomic.Int64
	all := rt.monitor()
	db := mongo.NewTestDB(b, mongo.Options{Monitor: &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		if col, _ := e.Command.Index(0).Value().StringValueOK(); col == "bills" {
			bills.Add(1)
		}
		all.Started(ctx, e)
	}}})
	e := startServer(b, db, func(c *config.Config) { c.OperationTimeout = time.Hour })
	w := e.world()
	ctx := context.Background()
	const total = 5000
	now := e.Clock.Now()
	docs := make([]any, 0, 500)
	spaces := make([]any, 0, 500)
	for i := range total {
		bld := w.XB1
		if i%2 == 1 {
			bld = w.XB2
		}
		area := 60 + float64(i%90) + 0.25
		room := fmt.Sprintf("%d", 10000+i)
		h := &household.Household{ID: mongo.NewID(), CommunityID: w.X.ID, BuildingID: bld.ID, Unit: "1", Room: room, Label: bld.Name + "栋1单元" + room,
			FloorArea: &area, CareFlags: []string{}, SortKey: fmt.Sprintf("%s|%06d", bld.Name, i), CreatedAt: now}
		docs = append(docs, h)
		if i%5 == 0 {
			code := fmt.Sprintf("P%05d", i)
			spaces = append(spaces, &fee.Space{ID: w.X.ID + ":" + code, CommunityID: w.X.ID, Code: code, HouseholdID: h.ID, UpdatedAt: now})
		}
		if len(docs) == cap(docs) || i == total-1 {
			if _, err := db.Collection("households").InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
		if len(spaces) == cap(spaces) || (i == total-1 && len(spaces) > 0) {
			if _, err := db.Collection("parking_spaces").InsertMany(ctx, spaces); err != nil {
				b.Fatal(err)
			}
			spaces = spaces[:0]
		}
	}
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(`mutation($b:ID!){ setBuildingType(buildingId:$b, type:HIGH_RISE){ type } }`, map[string]any{"b": w.XB1.ID}, nil)
	for _, in := range []map[string]any{
		{"code": "MGMT", "kind": "MANAGEMENT", "name": "物业管理费", "rate": 180, "ratesByBuildingType": []any{map[string]any{"buildingType": "HIGH_RISE", "rate": 250}}, "effectiveFrom": "2026-01"},
		{"code": "RUBBISH", "kind": "OTHER", "name": "垃圾清运费", "rate": 1000, "effectiveFrom": "2026-01"},
		{"code": "PARK", "kind": "PARKING", "name": "车位管理费", "rate": 8000, "effectiveFrom": "2026-01"},
		{"code": "ELEC", "kind": "SHARED_ELECTRICITY", "name": "公摊电费", "rate": 0, "apportion": "BY_AREA", "effectiveFrom": "2026-01"},
	} {
		sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": in}, nil)
	}
	households := total + 3 // the world's three households of X, without floor area
	batches := (households + fee.BatchSize - 1) / fee.BatchSize
	genQ := `mutation($c:ID!,$p:String!){ generateBills(communityId:$c, period:$p, dueDate:"2027-01-31"){ created alreadyPresent skipped } }`
	run := func(b *testing.B, period string, wantCreated int) {
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		rt.request.Store(0)
		bills.Store(0)
		var out struct {
			GenerateBills struct{ Created, AlreadyPresent, Skipped int }
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			sup.ok(genQ, map[string]any{"c": w.X.ID, "p": period}, &out)
		}
		b.StopTimer()
		close(stop)
		<-done
		if out.GenerateBills.Created != wantCreated && b.N == 1 {
			b.Fatalf("created %+v, want %d", out.GenerateBills, wantCreated)
		}
		n := float64(b.N)
		b.ReportMetric(float64(rt.request.Load())/n, "request-roundtrips/op")
		b.ReportMetric(float64(rt.request.Load())/n/float64(total), "roundtrips/bill")
		b.ReportMetric(float64(rt.request.Load())/n/float64(batches), "roundtrips/batch")
		b.ReportMetric(float64(bills.Load())/n, "bills-roundtrips/op")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
	sup.ok(`mutation($c:ID!){ recordMeterReadings(communityId:$c, period:"2027-01", readings:[{kind:SHARED_ELECTRICITY, previous:100000, current:112345.6, unitPriceFen:95}]){ charge } }`,
		map[string]any{"c": w.X.ID}, nil)
	sup = e.staff(w.supervisorX, w.Password)
	b.Run("first", func(b *testing.B) { run(b, "2027-01", total) })
	sup = e.staff(w.supervisorX, w.Password)
	b.Run("rerun", func(b *testing.B) { run(b, "2027-01", 0) })
}
