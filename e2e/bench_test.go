package e2e

import (
	"os"
	"runtime"
	"strconv"
	"time"

	"context"
	"fmt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"qinqing/internal/notify"
	"qinqing/internal/notify/notifytest"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
)

// roundTrips counts database commands a request causes, leaving out the
// event spine's own tailing and connection housekeeping.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "getMore", "killCursors", "ping", "hello", "isMaster", "endSessions", "buildInfo":
			return
		}
		if v, err := e.Command.Index(0).Value().StringValueOK(); err && v == "events" {
			return
		}
		r.n.Add(1)
	}}
}

// BenchmarkHouseholdsList reports database round trips per households query
// with members, people and care profiles: the figure must not grow with the
// page size (no N+1).
func BenchmarkHouseholdsList(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	admin := &access.Caller{Kind: "STAFF", ID: "bench", Roles: []access.Role{access.Admin}}
	for i := 0; i < 60; i++ {
		h, err := e.App.Services.Households.Create(ctx, admin, household.CreateInput{BuildingID: w.XB1.ID, Unit: "2", Room: fmt.Sprintf("%d", 1001+i)})
		if err != nil {
			b.Fatal(err)
		}
		for j, role := range []access.Role{access.Owner, access.Family} {
			in := household.AddMemberInput{HouseholdID: h.ID, Role: role, Person: &household.PersonInput{Name: fmt.Sprintf("住户%d-%d", i, j)}}
			if _, err := e.App.Services.Households.AddMember(ctx, admin, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	c := e.staff(w.supervisorX, w.Password)
	q := `query($c:ID!,$n:Int!){ households(filter:{communityId:$c}, first:$n){ totalCount edges { node { label building { name } community { name } members { role person { name phone careProfile { hobbies } } } } } } }`
	for _, size := range []int{5, 20, 50} {
		b.Run(fmt.Sprintf("first=%d", size), func(b *testing.B) {
			vars := map[string]any{"c": w.X.ID, "n": size}
			var got struct {
				Households struct{ Edges []struct{} }
			}
			c.ok(q, vars, &got)
			if len(got.Households.Edges) != size {
				b.Fatalf("page has %d households, want %d", len(got.Households.Edges), size)
			}
			rt.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.ok(q, vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
}

// BenchmarkWorkOrderQueue is the staff queue screen: requests with the
// reporter's name, the household's label and the engineer's name. Database
// round trips per request must not grow with the page size; allocations and
// time per request are reported (client and server run in this process).
func BenchmarkWorkOrderQueue(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services
	owner := &access.Caller{Kind: "PERSON", ID: w.OwnerA.ID, Memberships: []access.Membership{{HouseholdID: w.HA.ID, CommunityID: w.X.ID, Role: access.Owner}}}
	st, err := svc.Staff.WithRole(ctx, w.X.ID, access.Butler)
	if err != nil || len(st) == 0 {
		b.Fatal("no butler", err)
	}
	engs, err := svc.Staff.WithRole(ctx, w.X.ID, access.Engineer)
	if err != nil || len(engs) == 0 {
		b.Fatal("no engineer", err)
	}
	butler := &access.Caller{Kind: "STAFF", ID: st[0].ID, Roles: st[0].Roles, Communities: st[0].CommunityIDs}
	for i := 0; i < 60; i++ {
		r, err := svc.Repairs.Submit(ctx, owner, repair.SubmitInput{HouseholdID: w.HA.ID, Category: "WATER", Description: fmt.Sprintf("漏水 %d", i), InHome: true})
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := svc.Repairs.Take(ctx, butler, r.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Repairs.Dispatch(ctx, butler, r.ID, engs[0].ID, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	c := e.staff(w.supervisorX, w.Password)
	q := `query($c:ID!,$n:Int!){ workOrders(filter:{communityId:$c}, first:$n){ totalCount edges { node { id status urgency overdue reporter { name } household { label } engineer { name } owner { name } } } } }`
	for _, size := range []int{10, 25, 50} {
		b.Run(fmt.Sprintf("first=%d", size), func(b *testing.B) {
			vars := map[string]any{"c": w.X.ID, "n": size}
			var got struct {
				WorkOrders struct{ Edges []struct{} }
			}
			c.ok(q, vars, &got)
			if len(got.WorkOrders.Edges) != size {
				b.Fatalf("page has %d, want %d", len(got.WorkOrders.Edges), size)
			}
			rt.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.ok(q, vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
}

// BenchmarkGreetingFanOut sends one greeting to N recipients, each with one
// phone, through the engine, the outbox and the real firebase client to a
// local fake FCM. It reports messages per second end to end, database round
// trips per thousand messages (the figure that carries over to MongoDB: the
// embedded FerretDB applies a 500-document update one row at a time, so its
// msgs/s is not MongoDB's), the peak heap of this process (the database runs
// in a child process), and checks that every recipient got exactly one push. N is QINQING_BENCH_RECIPIENTS
// (default 2,000: the embedded database scans; use MONGODB_URI and 100000
// for the production-sized run).
func BenchmarkGreetingFanOut(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("QINQING_BENCH_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		var rt roundTrips
		db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
		ctx := context.Background()
		fcm := notifytest.NewFakeFCM(b)
		sa := notifytest.WriteServiceAccount(b, "bench")
		devices := notify.NewDevices(db, time.Now)
		rs := make([]notify.Recipient, n)
		docs := make([]any, 0, 1000)
		flush := func() {
			if len(docs) > 0 {
				if _, err := db.Collection("devices").InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
				docs = docs[:0]
			}
		}
		for j := range rs {
			id := fmt.Sprintf("p%07d", j)
			rs[j] = notify.Recipient{Kind: "PERSON", ID: id, CommunityID: "c1"}
			docs = append(docs, notify.Device{Token: "ok-" + id + "-0000000000000000", UserKind: "PERSON", UserID: id, Platform: "ANDROID", App: "OWNER", UpdatedAt: time.Now()})
			if len(docs) == cap(docs) {
				flush()
			}
		}
		flush()
		sender, err := notify.NewFCM(ctx, notify.FCMConfig{CredentialsFile: sa, Endpoint: fcm.URL}, devices, nil)
		if err != nil {
			b.Fatal(err)
		}
		noon := func() time.Time { return time.Date(2026, 9, 25, 4, 0, 0, 0, time.UTC) }
		engine := notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: noon})
		batch := 500 // QINQING_BENCH_BATCH: deliveries per outbox round (FCM still gets ≤500 per call)
		if v, err := strconv.Atoi(os.Getenv("QINQING_BENCH_BATCH")); err == nil && v > 0 {
			batch = v
		}
		outbox := notify.NewOutbox(db, notify.OutboxConfig{Senders: []notify.Sender{sender}, Batch: batch, Now: noon})

		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
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
		b.ResetTimer()
		rt.n.Store(0)
		start := time.Now()
		if _, err := engine.Send(ctx, notify.Message{Kind: notify.FestivalGreeting, Key: "festival:c1:mid_autumn:2026-09-25", Recipients: rs,
			Vars: map[string]any{"festival": "中秋节", "festivalEN": "Mid-Autumn", "text": "月圆人团圆", "textEN": "Happy Mid-Autumn"}}); err != nil {
			b.Fatal(err)
		}
		queued := time.Since(start)
		for {
			done, err := outbox.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if done == 0 {
				break
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		if got := len(fcm.Requests()); got != n {
			b.Fatalf("FCM received %d pushes for %d recipients", got, n)
		}
		sent, _ := db.Collection("deliveries").CountDocuments(ctx, bson.D{{Key: "status", Value: notify.StatusSent}})
		if sent != int64(n) {
			b.Fatalf("%d deliveries sent for %d recipients", sent, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(n)/queued.Seconds(), "queued-msgs/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(n), "delivered")
		b.ReportMetric(float64(rt.n.Load())*1000/float64(n), "db-roundtrips/1k-msgs")
	}
}
