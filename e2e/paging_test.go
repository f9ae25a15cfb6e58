package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

type pageInfoView struct {
	HasNextPage, HasPreviousPage bool
	StartCursor, EndCursor       *string
}

// The butler's list is merged in Go from several sources; paged three at a
// time it hands out every task once, earliest due first with ties in id
// order, whatever page a task falls on.
func TestButlerTasksPageWithoutSkippingOrRepeating(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	base := e.Clock.Now().Add(-30 * time.Minute) // the first two are overdue
	var want []string
	for i := range 8 {
		// Pairs share a due time, so a page boundary falls inside a tie.
		due := base.Add(time.Duration(i/2) * time.Hour)
		key := fmt.Sprintf("paging:%d", 7-i) // ids against the due order
		if err := e.App.Services.Tasks.AddButlerTask(ctx, key, "CONGRATULATION_VISIT", w.X.ID, w.HA.ID, "入住祝贺", due); err != nil {
			t.Fatal(err)
		}
		want = append(want, key)
	}
	for i := 0; i < len(want); i += 2 { // ties by id
		if want[i] > want[i+1] {
			want[i], want[i+1] = want[i+1], want[i]
		}
	}
	butler := e.staff(w.butlerX, w.Password)
	const q = `query($a:String){ butlerTasks(first:3, after:$a){ totalCount overdue
		edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var got []string
	var after any
	for n := 0; ; n++ {
		var out struct {
			ButlerTasks struct {
				TotalCount, Overdue int
				Edges               []struct {
					Cursor string
					Node   struct{ ID string }
				}
				PageInfo pageInfoView
			}
		}
		butler.ok(q, map[string]any{"a": after}, &out)
		c := out.ButlerTasks
		if c.TotalCount != 8 || c.Overdue != 2 {
			t.Fatalf("page %d: totalCount %d overdue %d, want 8 and 2 (the whole list)", n, c.TotalCount, c.Overdue)
		}
		if c.PageInfo.HasPreviousPage != (n > 0) {
			t.Fatalf("page %d: hasPreviousPage %v", n, c.PageInfo.HasPreviousPage)
		}
		if len(c.Edges) == 0 || *c.PageInfo.StartCursor != c.Edges[0].Cursor || *c.PageInfo.EndCursor != c.Edges[len(c.Edges)-1].Cursor {
			t.Fatalf("page %d: cursors %+v for edges %+v", n, c.PageInfo, c.Edges)
		}
		for _, x := range c.Edges {
			got = append(got, x.Node.ID)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		if n > 4 {
			t.Fatal("more pages than tasks")
		}
		after = *c.PageInfo.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through %v, want %v", got, want)
	}
}

// Owners' lists count: totalCount is the size of the whole list, and a page
// after a cursor says something precedes it.
func TestOwnerListsCount(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	for range 3 {
		raSubmit(t, owner, w.HA.ID, "WATER", "NORMAL")
	}
	const q = `query($a:String){ myRepairRequests(first:2, after:$a){ totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	type conn struct {
		MyRepairRequests struct {
			TotalCount int
			Edges      []struct{ Cursor string }
			PageInfo   pageInfoView
		}
	}
	var p1, p2 conn
	owner.ok(q, nil, &p1)
	if c := p1.MyRepairRequests; c.TotalCount != 3 || len(c.Edges) != 2 || !c.PageInfo.HasNextPage || c.PageInfo.HasPreviousPage || *c.PageInfo.StartCursor != c.Edges[0].Cursor {
		t.Fatalf("first page: %+v", c)
	}
	owner.ok(q, map[string]any{"a": *p1.MyRepairRequests.PageInfo.EndCursor}, &p2)
	if c := p2.MyRepairRequests; c.TotalCount != 3 || len(c.Edges) != 1 || c.PageInfo.HasNextPage || !c.PageInfo.HasPreviousPage {
		t.Fatalf("second page: %+v", c)
	}
	// The other lists an owner opens count too (none yet: 0, never -1).
	for _, f := range []string{"myComplaints", "myServiceOrders", "renovations", "moveBookings"} {
		var out map[string]struct{ TotalCount int }
		owner.ok(`{ `+f+`(first:1){ totalCount } }`, nil, &out)
		if out[f].TotalCount != 0 {
			t.Errorf("%s: totalCount %d, want 0", f, out[f].TotalCount)
		}
	}
	// Staff have no households: every "my" list answers them empty, alike,
	// even with the owner's repairs in their community.
	butler := e.staff(w.butlerX, w.Password)
	for _, f := range []string{"myRepairRequests", "myComplaints", "myServiceOrders", "myEventSignUps"} {
		var out map[string]struct{ Edges []struct{ Cursor string } }
		butler.ok(`{ `+f+`(first:5){ edges { cursor } } }`, nil, &out)
		if n := len(out[f].Edges); n != 0 {
			t.Errorf("staff's %s: %d edges, want none", f, n)
		}
	}
	for _, f := range []string{"myHouseholds", "myInvitations"} {
		var out map[string][]struct {
			Typename string `json:"__typename"`
		}
		butler.ok(`{ `+f+`{ __typename } }`, nil, &out)
		if n := len(out[f]); n != 0 {
			t.Errorf("staff's %s: %d items, want none", f, n)
		}
	}
}

// Every root connection, found in the schema so a new one is covered
// without editing this test, refuses a cursor it did not issue with
// BAD_USER_INPUT naming "after", never an empty page.
func TestEveryConnectionRefusesAForeignCursor(t *testing.T) {
	e := newEnv(t, introspection(true))
	w := e.world()
	var schema struct {
		Schema struct {
			QueryType struct {
				Fields []struct {
					Name string
					Args []struct {
						Name string
						Type typeRef
					}
				}
			}
		} `json:"__schema"`
	}
	e.anon().ok(`{ __schema { queryType { fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } } } } }`, nil, &schema)
	owner := e.owner(w.OwnerA.Phone)
	staff := map[string]*client{}
	as := func(acct string) *client {
		if staff[acct] == nil {
			staff[acct] = e.staff(acct, w.Password)
		}
		return staff[acct]
	}
	values := map[string]any{"ID": w.X.ID, "String": "x", "Int": 1, "Boolean": false, "Date": "2026-11-22", "Time": "2026-11-22T08:00:00+08:00"}
	n := 0
	for _, f := range schema.Schema.QueryType.Fields {
		if !slices.ContainsFunc(f.Args, func(a struct {
			Name string
			Type typeRef
		}) bool {
			return a.Name == "after"
		}) {
			continue
		}
		n++
		var decl, pass []string
		vars := map[string]any{}
		for _, a := range f.Args {
			if a.Name == "after" || a.Type.Kind != "NON_NULL" {
				continue
			}
			v, ok := values[a.Type.OfType.Name]
			if !ok {
				t.Fatalf("%s: no test value for required argument %s of type %s", f.Name, a.Name, a.Type.OfType.Name)
			}
			decl, pass, vars[a.Name] = append(decl, "$"+a.Name+":"+a.Type.OfType.Name+"!"), append(pass, a.Name+":$"+a.Name), v
		}
		decl = append(decl, "$after:String")
		pass = append(pass, "after:$after")
		vars["after"] = "not a cursor!"
		q := fmt.Sprintf(`query(%s){ %s(%s){ __typename } }`, strings.Join(decl, ","), f.Name, strings.Join(pass, ","))
		c := as(w.supervisorX)
		switch {
		case strings.HasPrefix(f.Name, "my") || f.Name == "notifications":
			c = owner
		case f.Name == "butlerTasks":
			c = as(w.butlerX)
		}
		r := c.fails("BAD_USER_INPUT", q, vars)
		if r.field() != "after" {
			t.Errorf("%s: field %q, want after", f.Name, r.field())
		}
	}
	if n < 20 {
		t.Fatalf("found %d root connections in the schema; the walk is broken", n)
	}
}

type typeRef struct {
	Kind, Name string
	OfType     *struct {
		Kind, Name string
		OfType     *struct{ Kind, Name string }
	}
}

// What paging costs in database round trips on an owner's list: totalCount
// is one count, spent only when selected; a page after a cursor (which
// answers hasPreviousPage) costs no more than the first.
func TestPagingRoundTrips(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db, func(c *config.Config) { c.OutboxInterval = time.Hour })
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	for range 3 {
		raSubmit(t, owner, w.HA.ID, "WATER", "NORMAL")
	}
	var cursor string
	cost := func(q string, vars map[string]any) int64 {
		t.Helper()
		best := int64(-1)
		for range 3 { // fewest of three: a background job may add one, never take one away
			var out struct {
				MyRepairRequests struct{ PageInfo struct{ EndCursor string } }
			}
			rt.n.Store(0)
			owner.ok(q, vars, &out)
			if n := rt.n.Load(); best < 0 || n < best {
				best = n
			}
			cursor = out.MyRepairRequests.PageInfo.EndCursor
		}
		return best
	}
	const bare = `query($a:String){ myRepairRequests(first:2, after:$a){ edges { cursor } pageInfo { endCursor hasNextPage hasPreviousPage } } }`
	const counted = `query($a:String){ myRepairRequests(first:2, after:$a){ totalCount edges { cursor } pageInfo { endCursor hasNextPage hasPreviousPage } } }`
	first := cost(bare, nil)
	withCount := cost(counted, nil)
	after := cost(bare, map[string]any{"a": cursor})
	t.Logf("round trips: first page %d, with totalCount %d, page after a cursor %d", first, withCount, after)
	if withCount != first+1 || after != first {
		t.Fatalf("round trips: first page %d, with totalCount %d (want +1), after a cursor %d (want the same)", first, withCount, after)
	}
}
