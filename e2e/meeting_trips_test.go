package e2e

import (
	"fmt"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// A page of meetings with their community, attendees' and responsible
// staff, and item states costs the same database round trips for 2
// meetings as for 8 (one $in per level, the items' completions in one),
// whether a supervisor or a committee member reads it; so does the task
// list owing items from 2 meetings or from 8.
func TestCommitteeMeetingRoundTrips(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db, func(c *config.Config) { c.OutboxInterval = time.Hour })
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 12, 7, 16, 0, 0, 0, shanghai))
	c := seatCommittee(t, e, w)
	sup, butler, eng := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password)
	butlerID, engID := butler.staffID(), eng.staffID()
	record := func(n int) {
		for i := range n {
			in := threeParty(e, w, c.chairMemberID, butlerID, engID)
			in["heldAt"] = e.Clock.Now().Add(-time.Duration(i+1) * time.Hour).Format(time.RFC3339)
			sup.ok(recordMeetingQ, map[string]any{"in": in}, nil)
		}
	}
	// cost is the fewest round trips of three tries: a background job may
	// add a command to one of them, never take one away.
	cost := func(who *client, q string, vars map[string]any, check func([]byte) error) int64 {
		t.Helper()
		best := int64(-1)
		for range 3 {
			rt.n.Store(0)
			r := who.do(q, vars)
			trips := rt.n.Load()
			if len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			if err := check(r.Data); err != nil {
				t.Fatal(err)
			}
			if best < 0 || trips < best {
				best = trips
			}
		}
		return best
	}
	page := `query($c:ID!){ committeeMeetings(communityId:$c, first: 20){ totalCount edges { node { id community { name }
		attendees { name staff { name } } actionItems { id status overdue responsible { name } doneBy { name } } } } } }`
	meetings := func(want int) func([]byte) error {
		return func(b []byte) error {
			var got struct {
				CommitteeMeetings struct{ Edges []struct{} }
			}
			if err := jsonUnmarshal(b, &got); err != nil || len(got.CommitteeMeetings.Edges) != want {
				return fmt.Errorf("page %s, want %d meetings (%v)", b, want, err)
			}
			return nil
		}
	}
	tasks := func(want int) func([]byte) error {
		return func(b []byte) error {
			var got struct{ ButlerTasks struct{ TotalCount int } }
			if err := jsonUnmarshal(b, &got); err != nil || got.ButlerTasks.TotalCount != want {
				return fmt.Errorf("list %s, want %d tasks (%v)", b, want, err)
			}
			return nil
		}
	}
	record(2)
	member := c.member
	vars := map[string]any{"c": w.X.ID}
	fewSup, fewMember := cost(sup, page, vars, meetings(2)), cost(member, page, vars, meetings(2))
	fewTasks := cost(butler, butlerTasksQ, nil, tasks(2))
	record(6)
	manySup, manyMember := cost(sup, page, vars, meetings(8)), cost(member, page, vars, meetings(8))
	manyTasks := cost(butler, butlerTasksQ, nil, tasks(8))
	t.Logf("meetings page, supervisor: %d round trips for 2, %d for 8; committee member: %d and %d; task list: %d for 2 items, %d for 8",
		fewSup, manySup, fewMember, manyMember, fewTasks, manyTasks)
	if fewSup != manySup || fewMember != manyMember || fewTasks != manyTasks {
		t.Errorf("round trips grow with the page: supervisor %d/%d, member %d/%d, tasks %d/%d", fewSup, manySup, fewMember, manyMember, fewTasks, manyTasks)
	}
}
