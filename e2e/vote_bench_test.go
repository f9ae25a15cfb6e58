package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/staff"
	"qinqing/internal/vote"
)

// BenchmarkCloseVote reports what counting an owners' vote costs through
// closeVote (seal the ballot box, stream the ballots, store the result,
// tell every resident): database round trips and allocations per close,
// beside a bare authenticated query in the same run, at 500 and 2,000
// units with three units in four voting. Round trips must not grow with
// the units, except the stream's getMores (batches of 500) and the notice's
// one engine call per 500 residents; count-without-notice shows the count's
// own share (the domain service with no sender; its round trips are all the
// process's, background jobs included). Run with -benchtime=Nx: each close
// needs a fresh vote, opened and voted in before its timer starts.
func BenchmarkCloseVote(b *testing.B) {
	var rt roundTrips
	var getMores atomic.Int64
	mon := rt.monitor()
	started := mon.Started
	mon.Started = func(ctx context.Context, ev *event.CommandStartedEvent) {
		if ev.CommandName == "getMore" {
			getMores.Add(1)
		}
		started(ctx, ev)
	}
	db := mongo.NewTestDB(b, mongo.Options{Monitor: mon})
	e := startServer(b, db, quietScheduler)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services
	com, err := svc.Communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "万户园"})
	if err != nil {
		b.Fatal(err)
	}
	bld, err := svc.Communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: com.ID, Name: "1", Units: []string{"1"}})
	if err != nil {
		b.Fatal(err)
	}
	// The chair is a person signed in through the API; the other owners are
	// bulk fixtures (their documents in the register's own types), as
	// thousands of households through the API would take the embedded
	// database minutes.
	var owners []*access.Caller
	var units []string
	addUnits := func(n int) {
		var hs, ms []any
		for i := len(units); i < n; i++ {
			area := float64(60 + i%90)
			h := &household.Household{ID: mongo.NewID(), CommunityID: com.ID, BuildingID: bld.ID, Unit: "1", Room: fmt.Sprintf("%d", 10001+i),
				FloorArea: &area, CareFlags: []string{}, CreatedAt: e.Clock.Now()}
			h.Label = household.Label("1", "1", h.Room)
			h.SortKey = h.Room + "|" + h.ID
			m := &household.Membership{ID: mongo.NewID(), HouseholdID: h.ID, PersonID: mongo.NewID(), CommunityID: com.ID, Role: access.Owner, Since: e.Clock.Now()}
			hs, ms = append(hs, h), append(ms, m)
			units = append(units, h.ID)
			owners = append(owners, &access.Caller{Kind: auth.KindPerson, ID: m.PersonID,
				Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: com.ID, Role: access.Owner}}})
		}
		if _, err := db.Collection("households").InsertMany(ctx, hs); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Collection("memberships").InsertMany(ctx, ms); err != nil {
			b.Fatal(err)
		}
	}
	addUnits(1)
	chairPerson, err := svc.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: units[0],
		Person: &household.PersonInput{Name: "主任", Phone: "13930000001"}, Role: access.Owner})
	if err != nil {
		b.Fatal(err)
	}
	supAcct := "bench.vote.supervisor"
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Staff.Upsert(ctx, &staff.Staff{Account: supAcct, Name: supAcct, PasswordHash: hash, Roles: []access.Role{access.Supervisor}, CommunityIDs: []string{com.ID}}); err != nil {
		b.Fatal(err)
	}
	sup := e.staff(supAcct, w.Password)
	appointChair(b, e, sup, com.ID, chairPerson.PersonID)
	chair := &access.Caller{Kind: auth.KindPerson, ID: chairPerson.PersonID,
		Memberships: []access.Membership{{HouseholdID: units[0], CommunityID: com.ID, Role: access.Owner}}}

	b.Run("baseline=me", func(b *testing.B) {
		sup.ok(`{ me { kind } }`, nil, nil)
		rt.request.Store(0)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			sup.ok(`{ me { kind } }`, nil, nil)
		}
		b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
	})
	closeQ := `mutation($id:ID!){ closeVote(id:$id){ state result { outcome participating { units } } } }`
	// The same count without the notice to every resident: the domain
	// service alone, built as internal/app builds it but with no sender.
	counter := vote.NewService(vote.Config{DB: db, Committee: svc.Committee, Households: svc.Households, Now: e.Clock.Now})
	supCaller := &access.Caller{Kind: auth.KindStaff, ID: "bench", Roles: []access.Role{access.Supervisor}, Communities: []string{com.ID}}
	fresh := func(b *testing.B) string {
		closes := e.Clock.Now().Add(time.Hour)
		vt, err := svc.Votes.Open(ctx, chair, vote.OpenInput{CommunityID: com.ID, Title: "测试表决", Rule: vote.Ordinary, ClosesAt: closes,
			Options: []vote.OptionInput{{Text: "同意"}, {Text: "反对"}}})
		if err != nil {
			b.Fatal(err)
		}
		castAll(b, svc.Votes, vt.ID, owners, units)
		e.Clock.Set(closes)
		return vt.ID
	}
	for _, n := range []int{500, 2000} {
		addUnits(n)
		b.Run(fmt.Sprintf("count-without-notice/units=%d", n), func(b *testing.B) {
			var trips, more int64
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				id := fresh(b)
				r0, g0 := rt.n.Load(), getMores.Load()
				b.StartTimer()
				v, err := counter.Close(ctx, supCaller, id)
				b.StopTimer()
				trips, more = trips+rt.n.Load()-r0, more+getMores.Load()-g0
				if err != nil || v.Result.Participating.Units != int64(3*n/4) {
					b.Fatal(v, err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(trips)/float64(b.N), "db-roundtrips/op")
			b.ReportMetric(float64(more)/float64(b.N), "getMores/op")
		})
		b.Run(fmt.Sprintf("closeVote/units=%d", n), func(b *testing.B) {
			var trips, more int64
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				id := fresh(b)
				s := e.staff(supAcct, w.Password) // a fresh session at the new time
				r0, g0 := rt.request.Load(), getMores.Load()
				b.StartTimer()
				var out struct {
					CloseVote struct {
						State  string
						Result struct{ Participating struct{ Units int } }
					}
				}
				s.ok(closeQ, map[string]any{"id": id}, &out)
				b.StopTimer()
				trips, more = trips+rt.request.Load()-r0, more+getMores.Load()-g0
				if out.CloseVote.State != "CLOSED" || out.CloseVote.Result.Participating.Units != 3*n/4 {
					b.Fatalf("closed: %+v", out.CloseVote)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(trips)/float64(b.N), "db-roundtrips/op")
			b.ReportMetric(float64(more)/float64(b.N), "getMores/op")
		})
	}
}

// quietScheduler keeps the server's own scheduler from closing a vote the
// test closes itself (its first round runs at start, before anything is due).
func quietScheduler(c *config.Config) { c.ScheduleInterval = 24 * time.Hour }

// castAll casts three units in four through the service, four at a time.
func castAll(b *testing.B, votes *vote.Service, voteID string, owners []*access.Caller, units []string) {
	ctx := context.Background()
	todo := make(chan int, len(units))
	for i := range units {
		if i%4 != 3 {
			todo <- i
		}
	}
	close(todo)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range todo {
				if _, err := votes.Cast(ctx, owners[i], voteID, units[i], fmt.Sprint(1+i%2)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
