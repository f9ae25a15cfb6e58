package e2e

import (
	"context"
	"testing"
	"time"
)

const butlerTasksQ = `query($b:ID){ butlerTasks(butlerId:$b){ totalCount overdue edges { node { id kind title household { id } subjectId dueAt overdue } } } }`

type butlerTask struct {
	ID, Kind, Title, SubjectID string
	Household                  struct{ ID string }
	DueAt                      time.Time
	Overdue                    bool
}

// taskList is a first page of a butler's list in the shape the tests read.
type taskList struct {
	ButlerTasks struct {
		Total, Overdue int
		Tasks          []butlerTask
	}
}

func (c *client) tasks(t *testing.T, butlerID string) taskList {
	t.Helper()
	var conn struct {
		ButlerTasks struct {
			TotalCount, Overdue int
			Edges               []struct{ Node butlerTask }
		}
	}
	vars := map[string]any{}
	if butlerID != "" {
		vars["b"] = butlerID
	}
	c.ok(butlerTasksQ, vars, &conn)
	var l taskList
	l.ButlerTasks.Total, l.ButlerTasks.Overdue = conn.ButlerTasks.TotalCount, conn.ButlerTasks.Overdue
	for _, e := range conn.ButlerTasks.Edges {
		l.ButlerTasks.Tasks = append(l.ButlerTasks.Tasks, e.Node)
	}
	return l
}

func (l taskList) kinds() map[string]string {
	out := map[string]string{}
	for _, x := range l.ButlerTasks.Tasks {
		out[x.Kind] = x.Household.ID
	}
	return out
}

// The butler's list holds what is owed to the households in their care: a
// repair waiting for its callback, a follow-up promised on a visit, and a
// congratulation visit written down after a move-in; each leaves the list
// where it is done, and comes due as a reminder once.
func TestButlerTaskList(t *testing.T) {
	w := raSetup(t, newEnv(t))
	e := w.e
	ctx := context.Background()
	butler, butler2 := w.staff(w.butlerX), w.staff(w.butlerX2)
	owner := e.owner(w.OwnerA.Phone)

	// A repair in HA (butler X's building 1) signed off by the owner.
	r := raSubmit(t, owner, w.HA.ID, "WATER", "NORMAL")
	raStep(t, butler, raTake, raID(r.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	eng := w.staff(w.engineerX)
	raStep(t, eng, raAccept, raID(r.ID), "ACCEPTED")
	raStep(t, eng, raStart, raID(r.ID), "IN_PROGRESS")
	raStep(t, eng, raComplete, raID(r.ID), "COMPLETED")
	owner.multipart(raConfirm+`{ status } }`, map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes})

	// A follow-up promised in HB, and a congratulation visit for HA.
	butler.ok(`mutation($in:RecordVisitInput!){ recordVisit(input:$in){ id } }`, map[string]any{"in": map[string]any{"householdId": w.HB.ID,
		"visitedAt": "2026-11-22T09:30:00+08:00", "topics": []string{"楼道灯不亮"}, "followUp": "安排电工", "followUpDue": "2026-11-25"}}, nil)
	due := e.Clock.Now().Add(30 * time.Hour)
	if err := e.App.Services.Tasks.AddButlerTask(ctx, "move:test:congratulate", "CONGRATULATION_VISIT", w.X.ID, w.HA.ID, "王建国家入住祝贺", due); err != nil {
		t.Fatal(err)
	}
	// Written twice (a second server, a retried tick): still one task.
	if err := e.App.Services.Tasks.AddButlerTask(ctx, "move:test:congratulate", "CONGRATULATION_VISIT", w.X.ID, w.HA.ID, "王建国家入住祝贺", due); err != nil {
		t.Fatal(err)
	}

	l := butler.tasks(t, "")
	if k := l.kinds(); l.ButlerTasks.Total != 3 || k["REPAIR_CALLBACK"] != w.HA.ID || k["VISIT_FOLLOW_UP"] != w.HB.ID || k["CONGRATULATION_VISIT"] != w.HA.ID {
		t.Fatalf("butler X's list: %+v", l.ButlerTasks)
	}
	if l.ButlerTasks.Overdue != 0 || l.ButlerTasks.Tasks[0].Kind != "REPAIR_CALLBACK" || l.ButlerTasks.Tasks[0].SubjectID != r.ID {
		t.Fatalf("earliest due first, nothing overdue yet: %+v", l.ButlerTasks)
	}
	// Building 2's butler owes none of it.
	if l := butler2.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("butler X2 sees %+v", l.ButlerTasks)
	}
	// A supervisor opens butler X's list; another community's cannot; owners
	// have no list, and the engineer's owes nothing of the households.
	if l := w.staff(w.supervisorX).tasks(t, w.ids[w.butlerX]); l.ButlerTasks.Total != 3 {
		t.Fatalf("supervisor's view: %+v", l.ButlerTasks)
	}
	w.staff(w.supervisorY).fails("NOT_FOUND", butlerTasksQ, map[string]any{"b": w.ids[w.butlerX]})
	owner.fails("FORBIDDEN", butlerTasksQ, nil)
	if l := eng.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("engineer's list %+v", l.ButlerTasks)
	}

	// Four days on, the callback and the visit are overdue, and the written
	// task comes due: one reminder to its butler, however often it ticks.
	e.Clock.Advance(96 * time.Hour)
	butler, butler2 = w.staff(w.butlerX), w.staff(w.butlerX2) // their tokens expired meanwhile
	if l := butler.tasks(t, ""); l.ButlerTasks.Overdue != 3 {
		t.Fatalf("after four days: %+v", l.ButlerTasks)
	}
	for range 2 {
		if err := e.App.Services.Tasks.Remind(ctx, e.Clock.Now(), e.App.Services.Notify, e.App.Services.Staff); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, x := range butler.inbox().Notifications.Edges {
		if x.Node.Kind == "BUTLER_TASK_DUE" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d task reminders in butler X's inbox, want 1", n)
	}
	if n := len(butler2.inbox().Notifications.Edges); n != 0 {
		t.Fatalf("butler X2 was reminded of another's task (%d)", n)
	}

	// Done where owed: the callback on the repair, the written task here.
	complete := `mutation($id:ID!){ completeButlerTask(id:$id, note:"送了月饼"){ id doneAt note } }`
	butler.fails("BAD_USER_INPUT", complete, raID("REPAIR_CALLBACK:"+r.ID))
	butler2.fails("FORBIDDEN", complete, raID("move:test:congratulate"))
	w.staff(w.supervisorY).fails("NOT_FOUND", complete, raID("move:test:congratulate"))
	butler.ok(complete, raID("move:test:congratulate"), nil)
	butler.fails("CONFLICT", complete, raID("move:test:congratulate"))
	raStep(t, butler, `mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:true)`, raID(r.ID), "CLOSED")
	if l := butler.tasks(t, ""); l.ButlerTasks.Total != 1 || l.kinds()["VISIT_FOLLOW_UP"] != w.HB.ID {
		t.Fatalf("after the callback and the visit: %+v", l.ButlerTasks)
	}
}

// A move-in puts a congratulation visit (with a small gift) and the move-in
// callback on the butler's list once the day has passed, and the butler is
// reminded of each when it comes due.
func TestMoveInPutsVisitsOnTheButlersList(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	owner := e.owner(w.OwnerA.Phone)
	var b struct{ BookMove struct{ ID, Date string } }
	owner.ok(bookMoveMutation, map[string]any{"in": moveInput(w.HA.ID, "09:00", "11:00", "1号梯")}, &b)

	e.Clock.Advance(96 * time.Hour) // the move day (25th) is over
	if err := e.App.Services.Moves.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	butler := e.staff(w.butlerX, w.Password)
	l := butler.tasks(t, "")
	k := l.kinds()
	if k["CONGRATULATION_VISIT"] != w.HA.ID || k["MOVE_IN_CALLBACK"] != w.HA.ID {
		t.Fatalf("butler X's list after the move-in: %+v", l.ButlerTasks)
	}
	var congrats, callback time.Time
	for _, x := range l.ButlerTasks.Tasks {
		switch x.Kind {
		case "CONGRATULATION_VISIT":
			congrats = x.DueAt
		case "MOVE_IN_CALLBACK":
			callback = x.DueAt
		}
	}
	if d := callback.Sub(congrats); d != 4*24*time.Hour {
		t.Fatalf("the callback is due %v after the visit, want a week after the move (visit at 3 days)", d)
	}
	if l := e.staff(w.butlerX2, w.Password).tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("another building's butler: %+v", l.ButlerTasks)
	}
	// A week and a day after the move both are due: two reminders, once.
	e.Clock.Advance(7 * 24 * time.Hour)
	for range 2 {
		if err := e.App.Services.Tasks.Remind(ctx, e.Clock.Now(), e.App.Services.Notify, e.App.Services.Staff); err != nil {
			t.Fatal(err)
		}
	}
	butler = e.staff(w.butlerX, w.Password)
	n := 0
	for _, x := range butler.inbox().Notifications.Edges {
		if x.Node.Kind == "BUTLER_TASK_DUE" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d task reminders, want 2", n)
	}
}
