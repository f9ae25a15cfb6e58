package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qinqing/graph"
	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
)

// TestHouseholdPageRoundTripsPerLevel: a page of households with their
// building, community, members, people and care profiles costs the same
// database round trips for 2 households as for 14: each loader sends one
// batch per level, however many fields of the level ask. The same for the
// staff work-order queue. Every batch went out because its level was
// resolved, none by the loaders' watchdog (which would also have cost the
// request 50 ms).
func TestHouseholdPageRoundTripsPerLevel(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db, func(c *config.Config) { c.OutboxInterval = time.Hour })
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services
	for i := range 12 {
		h, err := svc.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: w.XB1.ID, Unit: "2", Room: fmt.Sprintf("%d", 1001+i)})
		if err != nil {
			t.Fatal(err)
		}
		var owner *access.Caller
		for j, role := range []access.Role{access.Owner, access.Family} {
			in := household.AddMemberInput{HouseholdID: h.ID, Role: role, Person: &household.PersonInput{Name: fmt.Sprintf("住户%d-%d", i, j)}}
			m, err := svc.Households.AddMember(ctx, w.admin, in)
			if err != nil {
				t.Fatal(err)
			}
			if role == access.Owner {
				owner = &access.Caller{Kind: "PERSON", ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: w.X.ID, Role: access.Owner}}}
			}
		}
		// Each from another household and reporter: keys the queue's
		// loaders must batch.
		if _, err := svc.Repairs.Submit(ctx, owner, repair.SubmitInput{HouseholdID: h.ID, Category: "WATER", Description: fmt.Sprintf("漏水 %d", i), InHome: true}); err != nil {
			t.Fatal(err)
		}
	}
	sup := e.staff(w.supervisorX, w.Password)
	released := graph.LoaderWatchdogReleases()

	// cost is the fewest round trips of three tries: a background job may
	// add a command to one of them, never take one away.
	cost := func(q string, n, want int) int64 {
		t.Helper()
		best := int64(-1)
		for range 3 {
			var got struct {
				Households, WorkOrders struct{ Edges []struct{} }
			}
			rt.n.Store(0)
			sup.ok(q, map[string]any{"c": w.X.ID, "n": n}, &got)
			trips := rt.n.Load()
			if edges := len(got.Households.Edges) + len(got.WorkOrders.Edges); edges != want {
				t.Fatalf("page has %d, want %d", edges, want)
			}
			if best < 0 || trips < best {
				best = trips
			}
		}
		return best
	}
	// Fields after edges start only once every household under it is
	// done: the count must not wait for them.
	households := `query($c:ID!,$n:Int!){ households(filter:{communityId:$c}, first:$n){ edges { node { label building { name }
		community { name } members { role person { name phone careProfile { hobbies } } } } } pageInfo { hasNextPage } totalCount } }`
	few, many := cost(households, 2, 2), cost(households, 14, 14)
	t.Logf("households: %d round trips for 2, %d for 14", few, many)
	if few != many {
		t.Errorf("households: %d round trips for 2, %d for 14", few, many)
	}
	queue := `query($c:ID!,$n:Int!){ workOrders(filter:{communityId:$c}, first:$n){ edges { node {
		id status urgency overdue reporter { name } household { label } engineer { name } owner { name } } } totalCount } }`
	few, many = cost(queue, 2, 2), cost(queue, 12, 12)
	t.Logf("work-order queue: %d round trips for 2, %d for 12", few, many)
	if few != many {
		t.Errorf("work-order queue: %d round trips for 2, %d for 12", few, many)
	}
	if n := graph.LoaderWatchdogReleases() - released; n != 0 {
		t.Errorf("%d batches were sent by the watchdog, not by their level", n)
	}
}
