package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/notify"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
	"qinqing/internal/staff"
)

// roundTrips counts database commands a request causes, leaving out the
// event spine's own tailing and connection housekeeping. outbox counts,
// among them, the push outbox worker's: its reads and updates of
// deliveries, its claims, and its reads and removals of device tokens.
// roundTrips counts database commands: all of them (n), the outbox's, and
// those issued on behalf of an HTTP request (request: the command's context
// descends from a request's, which net/http marks with ServerContextKey), so
// a benchmark can tell a request's own round trips from the background jobs
// that land while a slow embedded-database request runs.
type roundTrips struct{ n, outbox, request atomic.Int64 }

func (r *roundTrips) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "getMore", "killCursors", "ping", "hello", "isMaster", "endSessions", "buildInfo":
			return
		}
		col, _ := e.Command.Index(0).Value().StringValueOK()
		if col == "events" {
			return
		}
		r.n.Add(1)
		if ctx.Value(http.ServerContextKey) != nil {
			r.request.Add(1)
		}
		switch {
		case col == "delivery_claims",
			col == "deliveries" && (e.CommandName == "find" || e.CommandName == "update"),
			col == "devices" && (e.CommandName == "find" || e.CommandName == "delete"):
			r.outbox.Add(1)
		}
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

// BenchmarkGreetingFanOut is a greeting to N seeded households, as staff
// send it: a supervisor calls sendGreetingCampaign over HTTP on a running
// server, the campaign pages the community's households and their members
// into the notification engine, and the server's own outbox worker pushes
// through the real firebase client to a local fake FCM. Each household has
// one owner with one Android phone. It reports messages per second end to
// end (mutation sent to last push received) and into the outbox (the
// mutation's own time), database round trips per thousand messages (all;
// the outbox worker's; the rest: the mutation's fan-out into the outbox and
// the server's other jobs), the peak heap of this process (server, client
// and the fake FCM's per-token counts; the database runs in a child
// process), and fails unless every household's owner got exactly one push
// and one sent delivery is on record for each.
// The clock stops at the last push; the records are checked after it.
// N is QINQING_BENCH_HOUSEHOLDS (default 2,000; the figure is 100000).
func BenchmarkGreetingFanOut(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("QINQING_BENCH_HOUSEHOLDS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		var rt roundTrips
		db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
		fcm, withPush := withFCM(b)
		fcm.CountOnly()
		// The outbox polls at its production interval, not the tests' 50ms.
		// The mutation pages 100,000 households on the embedded database
		// for many minutes: beyond the test servers' operation cap.
		e := startServer(b, db, withPush, func(c *config.Config) { c.OutboxInterval, c.OperationTimeout = 2*time.Second, time.Hour })
		z, sup := seedEstate(b, e, n)

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
		rt.outbox.Store(0)
		start := time.Now()
		var out struct {
			SendGreetingCampaign struct {
				ID         string
				Recipients int
			}
		}
		sup.ok(`mutation($in:GreetingCampaignInput!){ sendGreetingCampaign(input:$in){ id recipients } }`, map[string]any{"in": map[string]any{
			"communityId": z, "title": "中秋问候", "text": "月圆人团圆，祝您中秋快乐！", "textEN": "Happy Mid-Autumn Festival!",
		}}, &out)
		queued := time.Since(start)
		// The outbox works in the background; wait while it makes progress.
		last, lastAt := 0, time.Now()
		for {
			pushes, _ := fcm.Count()
			if pushes >= n {
				break
			}
			if pushes > last {
				last, lastAt = pushes, time.Now()
			} else if time.Since(lastAt) > 20*time.Minute {
				b.Fatalf("outbox stalled at %d of %d pushes", pushes, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		pushed := time.Since(start)
		b.StopTimer()
		close(stop)
		roundTrips, outboxTrips := rt.n.Load(), rt.outbox.Load()
		b.Logf("%d households: mutation %v, last push %v", n, queued.Round(time.Millisecond), pushed.Round(time.Millisecond))
		// Then, untimed, until the outbox has recorded every delivery as sent.
		// A count scans the outbox on FerretDB while the worker still writes
		// to it: a count that times out is asked again.
		ctx := context.Background()
		campaignSent := bson.D{{Key: "key", Value: "campaign:" + out.SendGreetingCampaign.ID}, {Key: "status", Value: notify.StatusSent}}
		var sent int64
		for deadline := time.Now().Add(15 * time.Minute); ; time.Sleep(time.Second) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Minute) // above the client's 30s default
			c, err := db.Collection("deliveries").CountDocuments(cctx, campaignSent)
			cancel()
			if err == nil {
				sent = c
			}
			if sent >= int64(n) || time.Now().After(deadline) {
				break
			}
		}
		recorded := time.Since(start)
		time.Sleep(200 * time.Millisecond) // a duplicate push would have arrived by now
		pushes, tokens := fcm.Count()
		if out.SendGreetingCampaign.Recipients != n || pushes != n || tokens != n || sent != int64(n) {
			b.Fatalf("%d households: campaign addressed %d persons, FCM got %d pushes to %d phones, %d deliveries recorded sent",
				n, out.SendGreetingCampaign.Recipients, pushes, tokens, sent)
		}
		b.Logf("%d households: all recorded sent after %v", n, recorded.Round(time.Millisecond))
		b.ReportMetric(float64(n)/pushed.Seconds(), "msgs/s")
		b.ReportMetric(float64(n)/queued.Seconds(), "queued-msgs/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(pushes), "delivered")
		b.ReportMetric(float64(roundTrips)*1000/float64(n), "db-roundtrips/1k-msgs")
		b.ReportMetric(float64(outboxTrips)*1000/float64(n), "outbox-roundtrips/1k-msgs")
		b.ReportMetric(float64(roundTrips-outboxTrips)*1000/float64(n), "other-roundtrips/1k-msgs")
	}
}

// seedEstate adds a community with one building of n households, each with
// an owner who has one Android phone, written in bulk (the services add
// one at a time), and a supervisor signed in through the API. It returns
// the community id and the supervisor's client.
func seedEstate(b *testing.B, e *env, n int) (string, *client) {
	b.Helper()
	ctx := context.Background()
	s := e.App.Services
	admin := &access.Caller{Kind: "STAFF", ID: "bench", Roles: []access.Role{access.Admin}}
	z, err := s.Communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "万家苑"})
	if err != nil {
		b.Fatal(err)
	}
	bld, err := s.Communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: z.ID, Name: "1", Units: []string{"1"}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	var hs, ps, ms, ds []any
	flush := func(force bool) {
		if !force && len(hs) < 1000 {
			return
		}
		for col, docs := range map[string][]any{"households": hs, "persons": ps, "memberships": ms, "devices": ds} {
			if len(docs) == 0 {
				continue
			}
			if _, err := e.DB.Collection(col).InsertMany(ctx, docs); err != nil {
				b.Fatalf("seed %s: %v", col, err)
			}
		}
		hs, ps, ms, ds = hs[:0], ps[:0], ms[:0], ds[:0]
	}
	for j := range n {
		hid, pid := mongo.NewID(), mongo.NewID()
		room := fmt.Sprintf("%d", 100001+j)
		hs = append(hs, household.Household{ID: hid, CommunityID: z.ID, BuildingID: bld.ID, Unit: "1", Room: room, Label: "1-1-" + room,
			CareFlags: []string{}, SortKey: strings.Join([]string{community.NaturalKey("1"), community.NaturalKey("1"), community.NaturalKey(room), hid}, "|"),
			CreatedAt: now})
		ps = append(ps, household.Person{ID: pid, Name: fmt.Sprintf("业主%d", j), CreatedAt: now})
		ms = append(ms, household.Membership{ID: mongo.NewID(), HouseholdID: hid, PersonID: pid, CommunityID: z.ID, Role: access.Owner, Since: now})
		ds = append(ds, notify.Device{Token: "ok-" + pid, UserKind: "PERSON", UserID: pid, Platform: "ANDROID", App: "OWNER", UpdatedAt: now})
		flush(false)
	}
	flush(true)
	hash, err := identity.HashPassword("Passw0rd123")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Staff.Upsert(ctx, &staff.Staff{Account: "z.supervisor", Name: "z.supervisor", PasswordHash: hash,
		Roles: []access.Role{access.Supervisor}, CommunityIDs: []string{z.ID}}); err != nil {
		b.Fatal(err)
	}
	return z.ID, e.staff("z.supervisor", "Passw0rd123")
}
