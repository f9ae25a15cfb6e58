package e2e

import (
	"fmt"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

const dueInspectionsQ = `query($c:ID!,$from:Time!,$to:Time!,$a:ID){ dueInspections(communityId:$c, from:$from, to:$to, assigneeId:$a){
	schedule { id } start end status inspection { id } } }`

type dueOccurrence struct {
	Schedule   struct{ ID string }
	Start, End time.Time
	Status     string
	Inspection *struct{ ID string }
}

// A daily schedule's occurrence is due on its assignee's list, overdue once
// the day is over, and done (off the list) when an inspection done that day
// is uploaded against the schedule.
func TestScheduledInspectionDueOverdueDone(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.cleaner", access.Cleaner)
	inspectorID, cleanerID := staffID(t, e, "x.inspector"), staffID(t, e, "x.cleaner")
	sup := e.staff(w.supervisorX, w.Password)
	const scheduleQ = `mutation($in: ScheduleInspectionInput!){ scheduleInspection(input:$in){ id assignee { id } responsibleStaff { id } } }`
	in := map[string]any{"communityId": w.X.ID, "area": "LOBBY", "frequency": "DAILY", "assigneeId": cleanerID}
	if r := sup.fails("BAD_USER_INPUT", scheduleQ, map[string]any{"in": in}); r.field() != "input.assigneeId" {
		t.Fatalf("a cleaner as inspector: %+v", r.Errors)
	}
	in["assigneeId"], in["responsibleStaffId"] = inspectorID, cleanerID
	var sch struct {
		ScheduleInspection struct {
			ID                         string
			Assignee, ResponsibleStaff struct{ ID string }
		}
	}
	sup.ok(scheduleQ, map[string]any{"in": in}, &sch)
	s := sch.ScheduleInspection
	if s.Assignee.ID != inspectorID || s.ResponsibleStaff.ID != cleanerID {
		t.Fatalf("schedule %+v", s)
	}
	sunday := time.Date(2026, 11, 22, 0, 0, 0, 0, inspZone) // the test clock's day
	monday := sunday.AddDate(0, 0, 1)
	due := func(c *client) []dueOccurrence {
		t.Helper()
		var out struct{ DueInspections []dueOccurrence }
		c.ok(dueInspectionsQ, map[string]any{"c": w.X.ID, "from": sunday.Format(time.RFC3339), "to": monday.AddDate(0, 0, 1).Format(time.RFC3339), "a": inspectorID}, &out)
		return out.DueInspections
	}
	owed := func() map[string]butlerTask {
		t.Helper()
		out := map[string]butlerTask{}
		for _, x := range e.staff("x.inspector", w.Password).tasks(t, "").ButlerTasks.Tasks {
			if x.Kind == "INSPECTION_DUE" && x.SubjectID == s.ID {
				out[x.DueAt.In(inspZone).Format(time.DateOnly)] = x
			}
		}
		return out
	}
	occ := due(sup)
	if len(occ) != 2 || occ[0].Status != "DUE" || !occ[0].End.Equal(monday) || occ[1].Status != "UPCOMING" {
		t.Fatalf("Sunday: %+v", occ)
	}
	if l := owed(); len(l) != 1 || l["2026-11-23"].Overdue {
		t.Fatalf("Sunday's list: %+v", l)
	}

	e.Clock.Advance(8 * time.Hour) // Monday 02:00
	inspector := e.staff("x.inspector", w.Password)
	if occ = due(inspector); occ[0].Status != "OVERDUE" || occ[1].Status != "DUE" {
		t.Fatalf("Monday: %+v", occ)
	}
	if l := owed(); len(l) != 2 || !l["2026-11-23"].Overdue || l["2026-11-24"].Overdue {
		t.Fatalf("Monday's list: %+v", l)
	}

	// Done on Sunday evening offline, uploaded now: Sunday's is done.
	rec := lobbyInspection(w.X.ID, "due-1", sunday.Add(20*time.Hour))
	rec["scheduleId"] = s.ID
	var x struct {
		RecordInspection struct {
			ID               string
			ResponsibleStaff struct{ ID string }
		}
	}
	inspector.ok(`mutation($in: RecordInspectionInput!){ recordInspection(input:$in){ id responsibleStaff { id } } }`, map[string]any{"in": rec}, &x)
	if x.RecordInspection.ResponsibleStaff.ID != cleanerID {
		t.Fatalf("the schedule's responsible cleaner: %+v", x.RecordInspection)
	}
	if occ = due(inspector); occ[0].Status != "DONE" || occ[0].Inspection == nil || occ[0].Inspection.ID != x.RecordInspection.ID || occ[1].Status != "DUE" {
		t.Fatalf("after the upload: %+v", occ)
	}
	if l := owed(); len(l) != 1 || l["2026-11-24"].ID == "" {
		t.Fatalf("list after the upload: %+v", l)
	}

	vars := map[string]any{"c": w.X.ID, "from": sunday.Format(time.RFC3339), "to": sunday.AddDate(0, 0, 1).Format(time.RFC3339)}
	e.staff("x.cleaner", w.Password).fails("FORBIDDEN", dueInspectionsQ, vars)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", dueInspectionsQ, vars)
	vars["to"] = sunday.AddDate(0, 0, 32).Format(time.RFC3339)
	if r := e.staff(w.supervisorX, w.Password).fails("BAD_USER_INPUT", dueInspectionsQ, vars); r.field() != "to" {
		t.Fatalf("long window: %+v", r.Errors)
	}
}

// A page of inspections with every failed item's corrective task costs the
// same round trips for 2 inspections as for 6: the tasks come in one $in.
func TestInspectionPageLoadsCorrectiveTasksInOneBatch(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db)
	w := e.world()
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	for i := range 6 {
		inspector.ok(recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, fmt.Sprintf("b-%d", i), e.Clock.Now(), 2, 5)}, nil)
	}
	const q = `query($c:ID!,$n:Int!){ inspections(communityId:$c, first:$n){ edges { node { id results { seq correctiveTask { id status } } } } } }`
	cost := func(n int) int64 {
		best := int64(-1)
		for range 3 { // a background job may add a command to one try, never take one away
			var got struct {
				Inspections struct {
					Edges []struct {
						Node struct {
							Results []struct{ CorrectiveTask *struct{ ID string } }
						}
					}
				}
			}
			rt.n.Store(0)
			inspector.ok(q, map[string]any{"c": w.X.ID, "n": n}, &got)
			trips := rt.n.Load()
			tasks := 0
			for _, e := range got.Inspections.Edges {
				for _, r := range e.Node.Results {
					if r.CorrectiveTask != nil {
						tasks++
					}
				}
			}
			if tasks != 2*n {
				t.Fatalf("%d tasks on a page of %d", tasks, n)
			}
			if best < 0 || trips < best {
				best = trips
			}
		}
		return best
	}
	few, many := cost(2), cost(6)
	t.Logf("inspections with their corrective tasks: %d round trips for 2, %d for 6", few, many)
	if few != many {
		t.Errorf("%d round trips for 2 inspections, %d for 6", few, many)
	}
}

// An ended schedule owes nothing more: the day running when it ended stays
// only because it was done, later days are gone, its tasks leave the
// inspector's list, and the missed day before keeps its OVERDUE record
// until an inspection done before the end is uploaded for it.
func TestEndedInspectionScheduleOwesNothingMore(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.cleaner", access.Cleaner)
	inspectorID := staffID(t, e, "x.inspector")
	sup := e.staff(w.supervisorX, w.Password)
	var inspector *client // signed in after the clock moves
	var sch struct{ ScheduleInspection struct{ ID string } }
	sup.ok(`mutation($in: ScheduleInspectionInput!){ scheduleInspection(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"communityId": w.X.ID, "area": "LOBBY", "frequency": "DAILY", "assigneeId": inspectorID}}, &sch)
	id := sch.ScheduleInspection.ID
	sunday := time.Date(2026, 11, 22, 0, 0, 0, 0, inspZone) // the test clock's day
	monday := sunday.AddDate(0, 0, 1)
	due := func() []dueOccurrence {
		t.Helper()
		var out struct{ DueInspections []dueOccurrence }
		sup.ok(dueInspectionsQ, map[string]any{"c": w.X.ID, "from": sunday.Format(time.RFC3339), "to": sunday.AddDate(0, 0, 4).Format(time.RFC3339)}, &out)
		return out.DueInspections
	}
	owed := func() int {
		t.Helper()
		n := 0
		for _, x := range inspector.tasks(t, "").ButlerTasks.Tasks {
			if x.Kind == "INSPECTION_DUE" && x.SubjectID == id {
				n++
			}
		}
		return n
	}
	const recordQ = `mutation($in: RecordInspectionInput!){ recordInspection(input:$in){ id } }`
	record := func(key string, doneAt time.Time) map[string]any {
		rec := lobbyInspection(w.X.ID, key, doneAt)
		rec["scheduleId"] = id
		return map[string]any{"in": rec}
	}

	e.Clock.Advance(8 * time.Hour) // Monday 02:00: Sunday missed, Monday running
	sup, inspector = e.staff(w.supervisorX, w.Password), e.staff("x.inspector", w.Password)
	inspector.ok(recordQ, record("end-mon", monday.Add(time.Hour)), nil)
	if n := owed(); n != 1 {
		t.Fatalf("before the end, %d INSPECTION_DUE tasks (Sunday's overdue one)", n)
	}

	const endQ = `mutation($id:ID!){ endInspectionSchedule(id:$id){ id endedAt endedBy { id } } }`
	vars := map[string]any{"id": id}
	e.staff("x.cleaner", w.Password).fails("FORBIDDEN", endQ, vars)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", endQ, vars)
	e.owner(w.OwnerA.Phone).fails("NOT_FOUND", endQ, vars)
	sup.fails("NOT_FOUND", endQ, map[string]any{"id": "000000000000000000000000"})
	type ended struct {
		EndInspectionSchedule struct {
			ID      string
			EndedAt *time.Time
			EndedBy *struct{ ID string }
		}
	}
	var end ended
	inspector.ok(endQ, vars, &end)
	x := end.EndInspectionSchedule
	if x.EndedAt == nil || !x.EndedAt.Equal(e.Clock.Now()) || x.EndedBy == nil || x.EndedBy.ID != inspectorID {
		t.Fatalf("ended: %+v", x)
	}

	occ := due()
	if len(occ) != 2 || occ[0].Status != "OVERDUE" || !occ[1].Start.Equal(monday) || occ[1].Status != "DONE" {
		t.Fatalf("after the end: %+v", occ)
	}
	if n := owed(); n != 0 {
		t.Fatalf("after the end, %d INSPECTION_DUE tasks", n)
	}

	e.Clock.Advance(time.Minute)
	var again ended
	sup.ok(endQ, vars, &again)
	if y := again.EndInspectionSchedule; !y.EndedAt.Equal(*x.EndedAt) || y.EndedBy.ID != inspectorID {
		t.Fatalf("ended twice: %+v", y)
	}
	if r := inspector.fails("BAD_USER_INPUT", recordQ, record("end-late", e.Clock.Now())); r.field() != "input.scheduleId" {
		t.Fatalf("done after the end: %+v", r.Errors)
	}
	// Done on Sunday evening offline, uploaded after the end: it still counts.
	inspector.ok(recordQ, record("end-sun", sunday.Add(20*time.Hour)), nil)
	if occ = due(); len(occ) != 2 || occ[0].Status != "DONE" || occ[1].Status != "DONE" {
		t.Fatalf("after the offline upload: %+v", occ)
	}

	var list struct {
		InspectionSchedules struct {
			Edges []struct {
				Node struct {
					ID      string
					EndedAt *time.Time
				}
			}
		}
	}
	sup.ok(`query($c:ID!){ inspectionSchedules(communityId:$c){ edges { node { id endedAt } } } }`, map[string]any{"c": w.X.ID}, &list)
	if es := list.InspectionSchedules.Edges; len(es) != 1 || es[0].Node.EndedAt == nil {
		t.Fatalf("schedules: %+v", es)
	}
}
