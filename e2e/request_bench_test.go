package e2e

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
)

// dbClock is the driver's view of the database work requests cause: how
// many commands, the sum of their durations, and how long at least one was
// in flight (commands of one request may overlap). The event spine's
// tailing and connection housekeeping are left out, as in roundTrips.
type dbClock struct {
	mu       sync.Mutex
	inFlight map[int64]bool // counted commands by request id
	n        int64
	sum      time.Duration
	busy     time.Duration
	since    time.Time
}

func (d *dbClock) monitor() *event.CommandMonitor {
	d.inFlight = map[int64]bool{}
	done := func(id int64, took time.Duration) {
		now := time.Now()
		d.mu.Lock()
		defer d.mu.Unlock()
		if !d.inFlight[id] {
			return
		}
		delete(d.inFlight, id)
		d.sum += took
		if len(d.inFlight) == 0 {
			d.busy += now.Sub(d.since)
		}
	}
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			switch e.CommandName {
			case "getMore", "killCursors", "ping", "hello", "isMaster", "endSessions", "buildInfo":
				return
			}
			if v, ok := e.Command.Index(0).Value().StringValueOK(); ok && v == "events" {
				return
			}
			now := time.Now()
			d.mu.Lock()
			defer d.mu.Unlock()
			if len(d.inFlight) == 0 {
				d.since = now
			}
			d.inFlight[e.RequestID] = true
			d.n++
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { done(e.RequestID, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { done(e.RequestID, e.Duration) },
	}
}

type dbFigures struct {
	n         int64
	sum, busy time.Duration
}

func (d *dbClock) read() dbFigures {
	d.mu.Lock()
	defer d.mu.Unlock()
	return dbFigures{d.n, d.sum, d.busy}
}

// cpuTime is this process's user and system CPU: the API server and the
// client. The benchmarks run the embedded database in a child process, so
// its work is not in here (it is in the database time).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureRequests runs op b.N times and reports per request: wall time,
// CPU time (less what the idle process spends in that time), database time (the sum of command durations, and db-busy: the
// time with at least one command in flight), database round trips, and
// idle = wall − CPU − db-busy: time in which nobody works for the request,
// which is what fixed waits cost. The sum is not subtracted: the commands
// of concurrently resolved fields overlap, so it counts some time twice.
func measureRequests(b *testing.B, db *dbClock, idle float64, op func()) {
	op() // warm up (and let op check the answer once)
	b.ReportAllocs()
	b.ResetTimer()
	db0, cpu0, start := db.read(), cpuTime(), time.Now()
	for i := 0; i < b.N; i++ {
		op()
	}
	wall, cpu, db1 := time.Since(start), cpuTime()-cpu0, db.read()
	b.StopTimer()
	cpu -= time.Duration(idle * float64(wall))
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	busy := db1.busy - db0.busy
	b.ReportMetric(per(wall), "wall-ms/op")
	b.ReportMetric(per(cpu), "cpu-ms/op")
	b.ReportMetric(per(db1.sum-db0.sum), "db-ms/op")
	b.ReportMetric(per(busy), "db-busy-ms/op")
	b.ReportMetric(per(wall-cpu-busy), "idle-ms/op")
	b.ReportMetric(float64(db1.n-db0.n)/float64(b.N), "db-roundtrips/op")
}

// Queries as the apps send them.
const (
	meQuery = `{ me { kind roles permissions staff { id name } communities { id name } } }`
	// The owner app's home screen: households with their members, the
	// repairs, the unread badge; one request.
	ownerHomeQuery = `query OwnerHome {
		myHouseholds { id label community { name } building { name } members { role person { id name phone avatarUrl } } }
		myRepairRequests(first: 20) { edges { node { id status category description urgency submittedAt household { label } engineer { name } } } }
		unreadNotificationCount
	}`
	// The staff queue screen.
	queueQuery = `query($c:ID!){ workOrders(filter:{communityId:$c}, first:20){ totalCount edges { node {
		id status urgency overdue reporter { name } household { label } engineer { name } owner { name } } } } }`
)

// BenchmarkRequestTime reports where a request's wall time goes, for `me`
// of a butler, the owner's home screen and the staff work-order queue, with
// `{ __typename }` as the bare floor (HTTP, client, gqlgen). All share one
// seeded estate. Each runs against three servers on that database, which
// differ only in when loader batches go out: "level", as soon as the level
// of the query is resolved (the default); "wait=200us" and "wait=16ms", a
// fixed time after a batch's first key (GRAPHQL_LOADER_WAIT; 16ms is what
// dataloadgen waited by default). Client and server share this process and
// the machine's cores; the database runs in a child process.
//
//	go test ./e2e -run '^$' -bench RequestTime -benchtime 200x -count 3
func BenchmarkRequestTime(b *testing.B) {
	var clock dbClock
	db := mongo.NewTestDB(b, mongo.Options{Monitor: clock.monitor()})
	modes := []struct {
		name string
		wait time.Duration
		e    *env
	}{{"level", 0, nil}, {"wait=200us", 200 * time.Microsecond, nil}, {"wait=16ms", 16 * time.Millisecond, nil}}
	// All servers start before the seeding, so their start-up jobs are
	// done before anything is measured; no outbox rounds or scheduled jobs
	// after that.
	for i := range modes {
		modes[i].e = startServer(b, db, func(c *config.Config) {
			c.OutboxInterval, c.ScheduleInterval, c.LoaderWait = time.Hour, time.Hour, modes[i].wait
		})
	}
	e := modes[0].e
	w := e.world()
	seedHomeScreen(b, e, w)
	butler := e.staff(w.butlerX, w.Password)
	supervisor := e.staff(w.supervisorX, w.Password)
	owner := e.owner("13900000001")
	idle := idleCPU(b)

	b.Run("bare", func(b *testing.B) {
		measureRequests(b, &clock, idle, func() { butler.ok(`{ __typename }`, nil, nil) })
	})
	for _, mode := range modes {
		// The same sessions, asking this server.
		on := func(c *client) *client { return &client{e: mode.e, token: c.token, refresh: c.refresh} }
		b.Run(mode.name, func(b *testing.B) {
			benchmarkScreens(b, &clock, idle, w, on(butler), on(supervisor), on(owner))
		})
	}
}

// idleCPU is the CPU this process spends per second with no requests (the
// servers' event tailing, timers, the runtime), measured over a second.
func idleCPU(b *testing.B) float64 {
	const window = time.Second
	c0 := cpuTime()
	<-time.After(window)
	rate := float64(cpuTime()-c0) / float64(window)
	b.Logf("idle: %.1f ms CPU per second", rate*1000)
	return rate
}

func benchmarkScreens(b *testing.B, clock *dbClock, idle float64, w *world, butler, supervisor, owner *client) {
	b.Run("me", func(b *testing.B) {
		measureRequests(b, clock, idle, func() { butler.ok(meQuery, nil, nil) })
	})
	b.Run("ownerHome", func(b *testing.B) {
		var got struct {
			MyHouseholds     []struct{ Members []struct{} }
			MyRepairRequests struct{ Edges []struct{} }
			UnreadCount      int `json:"unreadNotificationCount"`
		}
		owner.ok(ownerHomeQuery, nil, &got)
		if len(got.MyHouseholds) != 2 || len(got.MyHouseholds[0].Members)+len(got.MyHouseholds[1].Members) != 5 ||
			len(got.MyRepairRequests.Edges) != 20 || got.UnreadCount < 5 {
			b.Fatalf("home screen: %d households, %+v, %d repairs, %d unread", len(got.MyHouseholds), got.MyHouseholds,
				len(got.MyRepairRequests.Edges), got.UnreadCount)
		}
		measureRequests(b, clock, idle, func() { owner.ok(ownerHomeQuery, nil, nil) })
	})
	b.Run("workOrderQueue", func(b *testing.B) {
		vars := map[string]any{"c": w.X.ID}
		var got struct{ WorkOrders struct{ Edges []struct{} } }
		supervisor.ok(queueQuery, vars, &got)
		if len(got.WorkOrders.Edges) != 20 {
			b.Fatalf("queue has %d, want 20", len(got.WorkOrders.Edges))
		}
		measureRequests(b, clock, idle, func() { supervisor.ok(queueQuery, vars, nil) })
	})
}

// seedHomeScreen gives owner A two households (HA with two more members,
// and HB, where A is a second owner), 30 open repairs (24 of HA, half of
// them dispatched to an engineer; 6 of HB) and five unread notifications.
func seedHomeScreen(b *testing.B, e *env, w *world) {
	b.Helper()
	ctx := context.Background()
	svc := e.App.Services
	for i, role := range []access.Role{access.Family, access.Family} {
		in := household.AddMemberInput{HouseholdID: w.HA.ID, Role: role, Person: &household.PersonInput{Name: fmt.Sprintf("家人%d", i)}}
		if _, err := svc.Households.AddMember(ctx, w.admin, in); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HB.ID, PersonID: w.OwnerA.ID, Role: access.Owner}); err != nil {
		b.Fatal(err)
	}
	owner := &access.Caller{Kind: auth.KindPerson, ID: w.OwnerA.ID, Memberships: []access.Membership{
		{HouseholdID: w.HA.ID, CommunityID: w.X.ID, Role: access.Owner}, {HouseholdID: w.HB.ID, CommunityID: w.X.ID, Role: access.Owner}}}
	st, err := svc.Staff.WithRole(ctx, w.X.ID, access.Butler)
	if err != nil || len(st) == 0 {
		b.Fatal("no butler", err)
	}
	engs, err := svc.Staff.WithRole(ctx, w.X.ID, access.Engineer)
	if err != nil || len(engs) == 0 {
		b.Fatal("no engineer", err)
	}
	butler := &access.Caller{Kind: auth.KindStaff, ID: st[0].ID, Roles: st[0].Roles, Communities: st[0].CommunityIDs, Buildings: st[0].BuildingIDs}
	for i := range 30 {
		hh := w.HA.ID
		if i >= 24 {
			hh = w.HB.ID
		}
		r, err := svc.Repairs.Submit(ctx, owner, repair.SubmitInput{HouseholdID: hh, Category: "WATER", Description: fmt.Sprintf("漏水 %d", i), InHome: true})
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 && i < 24 {
			if _, err := svc.Repairs.Take(ctx, butler, r.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Repairs.Dispatch(ctx, butler, r.ID, engs[0].ID, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 5 {
		msg := notify.Message{Kind: notify.Announcement, Key: fmt.Sprintf("bench-announcement:%d", i),
			Recipients: []notify.Recipient{{Kind: auth.KindPerson, ID: w.OwnerA.ID, CommunityID: w.X.ID}},
			Vars:       map[string]any{"title": "停水通知", "text": "明日 9:00-12:00 停水"}}
		if _, err := svc.Notify.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}
