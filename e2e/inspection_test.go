package e2e

import (
	"testing"
	"time"

	"qinqing/internal/access"
)

const recordInspectionQ = `mutation($in: RecordInspectionInput!){ recordInspection(input:$in){
	id doneAt recordedAt passedCount itemCount templateVersion
	results { seq passed correctiveTask { id status assigneeTeam deadline } } } }`

type recordedInspection struct {
	ID, DoneAt, RecordedAt string
	PassedCount, ItemCount int
	Results                []struct {
		Seq            int
		Passed         bool
		CorrectiveTask *struct{ ID, Status, AssigneeTeam, Deadline string }
	}
}

// lobbyInspection is a lobby inspection on the built-in checklist (8 items)
// failing the items in fail.
func lobbyInspection(communityID, key string, doneAt time.Time, fail ...int) map[string]any {
	var results []map[string]any
	for seq := 1; seq <= 8; seq++ {
		r := map[string]any{"seq": seq, "passed": true}
		for _, f := range fail {
			if f == seq {
				r["passed"], r["note"] = false, "烟头 5 个，超过 3 个"
			}
		}
		results = append(results, r)
	}
	return map[string]any{"communityId": communityID, "area": "LOBBY", "location": "1号楼大堂", "templateVersion": 1,
		"doneAt": doneAt.UTC().Format(time.RFC3339), "idempotencyKey": key, "results": results}
}

func TestInspectionFailureBecomesACorrectiveTaskAndEscalates(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	cleaner := e.staffWithRole(w, "x.cleaner", access.Cleaner)

	var tpl struct {
		InspectionTemplates []struct {
			Version int
			Items   []struct {
				Seq      int
				Standard string
			}
		}
	}
	inspector.ok(`query($c:ID!){ inspectionTemplates(communityId:$c, area: LOBBY){ version items { seq standard } } }`, map[string]any{"c": w.X.ID}, &tpl)
	if len(tpl.InspectionTemplates) != 1 || len(tpl.InspectionTemplates[0].Items) != 8 ||
		tpl.InspectionTemplates[0].Items[3].Standard != "烟灰装置应当无痰迹污物、石砂洁净且装量不超过烟盖的2/3，烟头应当不超过3个" {
		t.Fatalf("lobby checklist %+v", tpl)
	}

	var rec struct{ RecordInspection recordedInspection }
	inspector.ok(recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, "phone-1", e.Clock.Now(), 4)}, &rec)
	x := rec.RecordInspection
	task := x.Results[3].CorrectiveTask
	if x.PassedCount != 7 || x.ItemCount != 8 || task == nil || task.Status != "OPEN" || task.AssigneeTeam != "CLEANER" {
		t.Fatalf("inspection %+v", x)
	}

	// The task is on the cleaners' list; the cleaner sees no inspection behind it.
	var mine struct {
		CorrectiveTasks struct {
			Edges []struct {
				Node struct {
					ID, Status string
					Version    int
					Inspection *struct{ ID string }
					Item       struct{ Text string }
				}
			}
		}
	}
	cleaner.ok(`query($c:ID!){ correctiveTasks(communityId:$c){ edges { node { id status version inspection { id } item { text } } } } }`, map[string]any{"c": w.X.ID}, &mine)
	if len(mine.CorrectiveTasks.Edges) != 1 || mine.CorrectiveTasks.Edges[0].Node.ID != task.ID || mine.CorrectiveTasks.Edges[0].Node.Inspection != nil {
		t.Fatalf("cleaner's tasks %+v", mine)
	}
	version := mine.CorrectiveTasks.Edges[0].Node.Version

	const recheckQ = `mutation($in: RecheckCorrectiveTaskInput!){ recheckCorrectiveTask(input:$in){ id status version escalations deadline overdue } }`
	cleaner.fails("FORBIDDEN", recheckQ, map[string]any{"in": map[string]any{"taskId": task.ID, "version": version, "passed": true}})

	e.Clock.Advance(26 * time.Hour)
	// A day on, the access tokens have expired: sign in again.
	inspector = e.staff("x.inspector", w.Password)
	supervisor := e.staff(w.supervisorX, w.Password)
	var re struct {
		RecheckCorrectiveTask struct {
			ID, Status, Deadline string
			Version, Escalations int
			Overdue              bool
		}
	}
	inspector.ok(recheckQ, map[string]any{"in": map[string]any{"taskId": task.ID, "version": version, "passed": false, "note": "仍有烟头"}}, &re)
	got := re.RecheckCorrectiveTask
	if got.Status != "ESCALATED" || got.Escalations != 1 || got.Overdue {
		t.Fatalf("after a failed re-check %+v", got)
	}
	var inbox struct {
		Notifications struct {
			Edges []struct {
				Node struct{ Kind, Title, Body string }
			}
		}
	}
	supervisor.ok(`{ notifications(first:20){ edges { node { kind title body } } } }`, nil, &inbox)
	found := false
	for _, n := range inbox.Notifications.Edges {
		if n.Node.Kind == "INSPECTION_ESCALATED" {
			found = true
			t.Logf("notice: %s — %s", n.Node.Title, n.Node.Body)
		}
	}
	if !found {
		t.Fatalf("supervisor's inbox has no escalation: %+v", inbox)
	}

	inspector.ok(recheckQ, map[string]any{"in": map[string]any{"taskId": task.ID, "version": got.Version, "passed": true}}, &re)
	if re.RecheckCorrectiveTask.Status != "CLOSED" {
		t.Fatalf("after a passing re-check %+v", re.RecheckCorrectiveTask)
	}
}

func TestOfflineInspectionUploadedLaterRecordsOnce(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	doneAt := e.Clock.Now().Add(-2 * 24 * time.Hour).Truncate(time.Second)
	in := lobbyInspection(w.X.ID, "offline-42", doneAt, 2)

	var first, retry struct{ RecordInspection recordedInspection }
	inspector.ok(recordInspectionQ, map[string]any{"in": in}, &first)
	// The answer was lost; the phone uploads the same record again.
	inspector.ok(recordInspectionQ, map[string]any{"in": in}, &retry)
	if retry.RecordInspection.ID != first.RecordInspection.ID {
		t.Fatalf("retry made another inspection: %s vs %s", retry.RecordInspection.ID, first.RecordInspection.ID)
	}
	at, err := time.Parse(time.RFC3339, first.RecordInspection.DoneAt)
	if err != nil || !at.Equal(doneAt) {
		t.Fatalf("doneAt %s, want %s", first.RecordInspection.DoneAt, doneAt)
	}
	var list struct {
		Inspections     struct{ TotalCount int }
		CorrectiveTasks struct{ TotalCount int }
	}
	inspector.ok(`query($c:ID!){ inspections(communityId:$c){ totalCount } correctiveTasks(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID}, &list)
	if list.Inspections.TotalCount != 1 || list.CorrectiveTasks.TotalCount != 1 {
		t.Fatalf("after a retried upload: %+v", list)
	}
	tooOld := lobbyInspection(w.X.ID, "offline-43", e.Clock.Now().Add(-8*24*time.Hour))
	r := inspector.fails("BAD_USER_INPUT", recordInspectionQ, map[string]any{"in": tooOld})
	if r.Errors[0].Extensions["field"] != "input.doneAt" {
		t.Fatalf("too old: %+v", r.Errors)
	}
}

func TestInspectionPermissions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	cleaner := e.staffWithRole(w, "x.cleaner", access.Cleaner)
	otherSupervisor := e.staff(w.supervisorY, w.Password)
	owner := e.owner(w.OwnerA.Phone)
	var rec struct{ RecordInspection recordedInspection }
	inspector.ok(recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, "p-1", e.Clock.Now(), 1)}, &rec)
	vars := map[string]any{"c": w.X.ID}
	for _, tc := range []struct {
		name  string
		c     *client
		query string
		vars  map[string]any
		code  string
	}{
		{"other community reads inspections", otherSupervisor, `query($c:ID!){ inspections(communityId:$c){ totalCount } }`, vars, "NOT_FOUND"},
		{"other community reads tasks", otherSupervisor, `query($c:ID!){ correctiveTasks(communityId:$c){ totalCount } }`, vars, "NOT_FOUND"},
		{"other community records", otherSupervisor, recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, "p-2", e.Clock.Now())}, "NOT_FOUND"},
		{"cleaner records", cleaner, recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, "p-3", e.Clock.Now())}, "FORBIDDEN"},
		{"cleaner reads inspections", cleaner, `query($c:ID!){ inspections(communityId:$c){ totalCount } }`, vars, "FORBIDDEN"},
		{"resident reads templates", owner, `query($c:ID!){ inspectionTemplates(communityId:$c){ version } }`, vars, "NOT_FOUND"},
		{"resident reads tasks", owner, `query($c:ID!){ correctiveTasks(communityId:$c){ totalCount } }`, vars, "NOT_FOUND"},
		{"resident records", owner, recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, "p-4", e.Clock.Now())}, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.c.fails(tc.code, tc.query, tc.vars) })
	}
}
