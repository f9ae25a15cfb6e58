package e2e

import (
	"context"
	"fmt"
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
