package e2e

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// BenchmarkGenerateBills bills a community of 1,000 households and one of
// 5,000 for one period through the API (management by area and building
// type, a fixed charge, a parking space for every fifth household and a
// shared meter split by area), each household with an owner who is told of
// the bill (FEE_BILL_ISSUED). It reports the request's database round
// trips per bill and per batch of fee.BatchSize households (which must be
// the same for both sizes), those on the bills collection, allocations and
// the peak heap of the process (server, client, and the outbox starting on
// the notices). "rerun" bills the same period again, which inserts and
// tells nothing: the floor of reading the register. "bare" is the
// baseline, measured in the same run: the same bill documents inserted
// with plain InsertMany batches of 500 and nothing else; it reports the
// first run's time and round trips as multiples of its own. The households
// are written straight into the database: building them through the API
// would only time the fixture.
func BenchmarkGenerateBills(b *testing.B) {
	var rt roundTrips
	var bills, bare atomic.Int64
	all := rt.monitor()
	db := mongo.NewTestDB(b, mongo.Options{Monitor: &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		switch col, _ := e.Command.Index(0).Value().StringValueOK(); col {
		case "bills":
			bills.Add(1)
		case "bills_bare":
			if e.CommandName == "insert" {
				bare.Add(1)
			}
		}
		all.Started(ctx, e)
	}}})
	e := startServer(b, db, func(c *config.Config) { c.OperationTimeout = time.Hour })
	w := e.world()
	ctx := context.Background()
	// The first and second runs of the smaller size, to tell what one more
	// batch costs: (trips(5k) - trips(1k)) / (batches(5k) - batches(1k)).
	prev := map[string][2]float64{}
	for _, size := range []struct {
		name      string
		community string
		buildings []*community.Building
		// Households written here, and the world's (no floor area:
		// skipped), together whole batches: 1,000 and 5,000.
		n, world int
		sup      string
	}{
		{"1k", w.Y.ID, []*community.Building{w.YB1}, 999, 1, w.supervisorY},
		{"5k", w.X.ID, []*community.Building{w.XB1, w.XB2}, 4997, 3, w.supervisorX},
	} {
		billCommunity(b, e, size.community, size.buildings, size.n)
		sup := e.staff(size.sup, w.Password)
		sup.ok(`mutation($b:ID!){ setBuildingType(buildingId:$b, type:HIGH_RISE){ type } }`, map[string]any{"b": size.buildings[0].ID}, nil)
		for _, in := range []map[string]any{
			{"code": "MGMT", "kind": "MANAGEMENT", "name": "物业管理费", "rate": 180, "ratesByBuildingType": []any{map[string]any{"buildingType": "HIGH_RISE", "rate": 250}}, "effectiveFrom": "2026-01"},
			{"code": "RUBBISH", "kind": "OTHER", "name": "垃圾清运费", "rate": 1000, "effectiveFrom": "2026-01"},
			{"code": "PARK", "kind": "PARKING", "name": "车位管理费", "rate": 8000, "effectiveFrom": "2026-01"},
			{"code": "ELEC", "kind": "SHARED_ELECTRICITY", "name": "公摊电费", "rate": 0, "apportion": "BY_AREA", "effectiveFrom": "2026-01"},
		} {
			sup.ok(feeItemQ, map[string]any{"c": size.community, "in": in}, nil)
		}
		sup.ok(`mutation($c:ID!){ recordMeterReadings(communityId:$c, period:"2027-01", readings:[{kind:SHARED_ELECTRICITY, previous:100000, current:112345.6, unitPriceFen:95}]){ charge } }`,
			map[string]any{"c": size.community}, nil)
		batches := (size.n + size.world + fee.BatchSize - 1) / fee.BatchSize
		genQ := `mutation($c:ID!,$p:String!){ generateBills(communityId:$c, period:$p, dueDate:"2027-01-31"){ created alreadyPresent skipped } }`
		var firstNs, firstTrips float64
		run := func(b *testing.B, wantCreated int) {
			sup = e.staff(size.sup, w.Password)
			var out struct {
				GenerateBills struct{ Created, AlreadyPresent, Skipped int }
			}
			rt.request.Store(0)
			bills.Store(0)
			ns, peak := measure(b, nil, func() { sup.ok(genQ, map[string]any{"c": size.community, "p": "2027-01"}, &out) })
			if out.GenerateBills.Created != wantCreated && b.N == 1 {
				b.Fatalf("created %+v, want %d", out.GenerateBills, wantCreated)
			}
			n := float64(b.N)
			trips := float64(rt.request.Load()) / n
			if wantCreated > 0 {
				firstNs, firstTrips = ns, trips
			}
			b.ReportMetric(trips, "request-roundtrips/op")
			b.ReportMetric(trips/float64(size.n), "roundtrips/bill")
			b.ReportMetric(trips/float64(batches), "roundtrips/batch")
			key := map[bool]string{true: "first", false: "rerun"}[wantCreated > 0]
			if p, ok := prev[key]; ok {
				b.ReportMetric((trips-p[0])/(float64(batches)-p[1]), "marginal-roundtrips/batch")
			}
			prev[key] = [2]float64{trips, float64(batches)}
			b.ReportMetric(float64(bills.Load())/n, "bills-roundtrips/op")
			b.ReportMetric(peak, "peak-heap-MiB")
		}
		b.Run(size.name+"/first", func(b *testing.B) { run(b, size.n) })
		b.Run(size.name+"/rerun", func(b *testing.B) { run(b, 0) })
		docs := issuedBills(b, e, size.community)
		b.Run(size.name+"/bare", func(b *testing.B) {
			bare.Store(0)
			col := db.Collection("bills_bare")
			ns, peak := measure(b, func() {
				if err := col.Drop(ctx); err != nil {
					b.Fatal(err)
				}
			}, func() {
				for i := 0; i < len(docs); i += 500 {
					if _, err := col.InsertMany(ctx, docs[i:min(i+500, len(docs))]); err != nil {
						b.Fatal(err)
					}
				}
			})
			trips := float64(bare.Load()) / float64(b.N)
			b.ReportMetric(trips, "roundtrips/op")
			b.ReportMetric(trips/float64(size.n), "roundtrips/bill")
			b.ReportMetric(peak, "peak-heap-MiB")
			if firstNs > 0 {
				b.ReportMetric(firstNs/ns, "first/bare-time")
				b.ReportMetric(firstTrips/trips, "first/bare-roundtrips")
			}
		})
	}
}

// measure runs f b.N times, each after setup (untimed, when given), with
// allocations reported, and returns f's time per op in ns and the peak
// heap in use meanwhile, in MiB.
func measure(b *testing.B, setup, f func()) (float64, float64) {
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
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
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		if setup != nil {
			b.StopTimer()
			setup()
			b.StartTimer()
		}
		start := time.Now()
		f()
		elapsed += time.Since(start)
	}
	b.StopTimer()
	close(stop)
	<-done
	return float64(elapsed.Nanoseconds()) / float64(b.N), float64(peak.Load()) / (1 << 20)
}

// billCommunity writes n households with floor areas, each with an owner,
// into the community's buildings (alternately), every fifth holding a
// parking space, in batches of 500.
func billCommunity(b *testing.B, e *env, communityID string, buildings []*community.Building, n int) {
	ctx := context.Background()
	now := e.Clock.Now()
	var hs, ms, spaces []any
	flush := func(col string, docs *[]any) {
		if len(*docs) == 0 {
			return
		}
		if _, err := e.DB.Collection(col).InsertMany(ctx, *docs); err != nil {
			b.Fatal(err)
		}
		*docs = (*docs)[:0]
	}
	for i := range n {
		bld := buildings[i%len(buildings)]
		area := 60 + float64(i%90) + 0.25
		room := fmt.Sprintf("%d", 10000+i)
		h := &household.Household{ID: mongo.NewID(), CommunityID: communityID, BuildingID: bld.ID, Unit: "1", Room: room, Label: bld.Name + "栋1单元" + room,
			FloorArea: &area, CareFlags: []string{}, SortKey: fmt.Sprintf("%s|%06d", bld.Name, i), CreatedAt: now}
		hs = append(hs, h)
		ms = append(ms, &household.Membership{ID: mongo.NewID(), HouseholdID: h.ID, PersonID: mongo.NewID(), CommunityID: communityID, Role: access.Owner, Since: now})
		if i%5 == 0 {
			code := fmt.Sprintf("P%05d", i)
			spaces = append(spaces, &fee.Space{ID: communityID + ":" + code, CommunityID: communityID, Code: code, HouseholdID: h.ID, UpdatedAt: now})
		}
		if len(hs) == 500 || i == n-1 {
			flush("households", &hs)
			flush("memberships", &ms)
			flush("parking_spaces", &spaces)
		}
	}
}

// issuedBills reads back the community's bills of the benchmark's period,
// as the bare baseline inserts them.
func issuedBills(b *testing.B, e *env, communityID string) []any {
	cur, err := e.DB.Collection("bills").Find(context.Background(), bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: "2027-01"}})
	if err != nil {
		b.Fatal(err)
	}
	var list []bson.Raw
	if err := cur.All(context.Background(), &list); err != nil {
		b.Fatal(err)
	}
	out := make([]any, len(list))
	for i, d := range list {
		out[i] = d
	}
	return out
}
