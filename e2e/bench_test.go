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
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.ok(q, vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
}
