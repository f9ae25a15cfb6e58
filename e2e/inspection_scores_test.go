package e2e

import (
	"testing"
	"time"

	"qinqing/internal/access"
)

const scoresQ = `query($c:ID!,$from:Time!,$to:Time!,$by:InspectionScoreGroup!,$b:InspectionScoreBucket!,$s:ID){
	inspectionScores(communityId:$c, from:$from, to:$to, by:$by, bucket:$b, staffId:$s){
		area team staffId staff { id } passed total perMille points { start passed total perMille } } }`

type scoreSeries struct {
	Area, Team, StaffID string
	Passed, Total       int
	PerMille            *int
	Points              []struct {
		Start         string
		Passed, Total int
		PerMille      *int
	}
}

// inspZone is the company's calendar (the test epoch is Sunday 22 Nov 2026, 18:00 there).
var inspZone = time.FixedZone("CST", 8*3600)

func inspScores(c *client, vars map[string]any) []scoreSeries {
	var out struct{ InspectionScores []scoreSeries }
	c.ok(scoresQ, vars, &out)
	return out.InspectionScores
}

// frontDeskInspection is a front-desk conduct inspection (6 items) failing fail.
func frontDeskInspection(communityID, key string, doneAt time.Time, fail int) map[string]any {
	var results []map[string]any
	for seq := 1; seq <= 6; seq++ {
		results = append(results, map[string]any{"seq": seq, "passed": seq != fail})
	}
	return map[string]any{"communityId": communityID, "area": "FRONT_DESK", "templateVersion": 1,
		"doneAt": doneAt.UTC().Format(time.RFC3339), "idempotencyKey": key, "results": results}
}

// Scores count each item for the area inspected, for the team and staff
// member its task went to (or, passed, the area's team and responsible
// staff member), per week and per month.
func TestInspectionScoresByAreaTeamAndStaff(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.cleaner", access.Cleaner)
	e.staffWithRole(w, "x.cleaner2", access.Cleaner)
	c1, c2 := staffID(t, e, "x.cleaner"), staffID(t, e, "x.cleaner2")
	inspector := e.staff("x.inspector", w.Password)
	now := e.Clock.Now()

	// Sunday: the lobby's cleaner is named; the failed item is theirs.
	a := lobbyInspection(w.X.ID, "s-1", now, 4)
	a["responsibleStaffId"] = c1
	inspector.ok(recordInspectionQ, map[string]any{"in": a}, nil)
	// Saturday: nobody named; the failed item is given to the other cleaner.
	b := lobbyInspection(w.X.ID, "s-2", now.Add(-24*time.Hour), 1)
	b["results"].([]map[string]any)[0]["assigneeStaffId"] = c2
	inspector.ok(recordInspectionQ, map[string]any{"in": b}, nil)
	// Next Tuesday: the front desk, its failure the desk team's.
	e.Clock.Advance(48 * time.Hour)
	inspector = e.staff("x.inspector", w.Password)
	inspector.ok(recordInspectionQ, map[string]any{"in": frontDeskInspection(w.X.ID, "s-3", e.Clock.Now(), 3)}, nil)

	from := time.Date(2026, 11, 16, 0, 0, 0, 0, inspZone)
	vars := func(by, bucket string) map[string]any {
		return map[string]any{"c": w.X.ID, "from": from.Format(time.RFC3339), "to": from.AddDate(0, 0, 14).Format(time.RFC3339), "by": by, "b": bucket}
	}
	check := func(what string, got scoreSeries, passed, total, perMille int, points ...[2]int) {
		t.Helper()
		if got.Passed != passed || got.Total != total || got.PerMille == nil || *got.PerMille != perMille || len(got.Points) != len(points) {
			t.Fatalf("%s: %+v", what, got)
		}
		for i, p := range points {
			if got.Points[i].Passed != p[0] || got.Points[i].Total != p[1] || (p[1] == 0) != (got.Points[i].PerMille == nil) {
				t.Fatalf("%s point %d: %+v", what, i, got.Points[i])
			}
		}
	}
	sup := e.staff(w.supervisorX, w.Password)
	byArea := inspScores(sup, vars("AREA", "WEEK"))
	if len(byArea) != 2 || byArea[0].Area != "LOBBY" || byArea[1].Area != "FRONT_DESK" ||
		byArea[0].Points[0].Start != "2026-11-16" || byArea[0].Points[1].Start != "2026-11-23" {
		t.Fatalf("by area: %+v", byArea)
	}
	check("lobby", byArea[0], 14, 16, 875, [2]int{14, 16}, [2]int{0, 0})
	check("front desk", byArea[1], 5, 6, 833, [2]int{0, 0}, [2]int{5, 6})

	byTeam := inspScores(inspector, vars("TEAM", "MONTH"))
	if len(byTeam) != 2 || byTeam[0].Team != "CLEANER" || byTeam[1].Team != "CUSTOMER_SERVICE" || byTeam[0].Points[0].Start != "2026-11-01" {
		t.Fatalf("by team: %+v", byTeam)
	}
	check("cleaners", byTeam[0], 14, 16, 875, [2]int{14, 16})
	check("front desk team", byTeam[1], 5, 6, 833, [2]int{5, 6})

	byStaff := map[string]scoreSeries{}
	for _, s := range inspScores(sup, vars("STAFF", "WEEK")) {
		byStaff[s.StaffID] = s
	}
	if len(byStaff) != 2 {
		t.Fatalf("by staff: %+v", byStaff)
	}
	check("named cleaner", byStaff[c1], 7, 8, 875, [2]int{7, 8}, [2]int{0, 0})
	check("cleaner given the failure", byStaff[c2], 0, 1, 0, [2]int{0, 1}, [2]int{0, 0})

	// A cleaner sees their own score and nothing else.
	cleaner := e.staff("x.cleaner", w.Password)
	own := inspScores(cleaner, vars("STAFF", "WEEK"))
	if len(own) != 1 || own[0].StaffID != c1 {
		t.Fatalf("cleaner's own: %+v", own)
	}
	cleaner.fails("FORBIDDEN", scoresQ, vars("AREA", "WEEK"))
	other := vars("STAFF", "WEEK")
	other["s"] = c2
	cleaner.fails("FORBIDDEN", scoresQ, other)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", scoresQ, vars("AREA", "WEEK"))
	e.owner(w.OwnerA.Phone).fails("NOT_FOUND", scoresQ, vars("AREA", "WEEK"))
	long := vars("AREA", "MONTH")
	long["to"] = from.Add(367 * 24 * time.Hour).Format(time.RFC3339)
	if r := sup.fails("BAD_USER_INPUT", scoresQ, long); r.field() != "to" {
		t.Fatalf("long window: %+v", r.Errors)
	}
}

// A corrective task for a team is on every member's list, its re-check on
// the inspector's; a passing re-check takes both off.
func TestCorrectiveTasksOnStaffTaskLists(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.cleaner", access.Cleaner)
	e.staffWithRole(w, "x.cleaner2", access.Cleaner)
	c1, c2 := staffID(t, e, "x.cleaner"), staffID(t, e, "x.cleaner2")
	inspector := e.staff("x.inspector", w.Password)

	in := lobbyInspection(w.X.ID, "t-1", e.Clock.Now(), 2, 3)
	in["results"].([]map[string]any)[2]["assigneeStaffId"] = c2
	var rec struct{ RecordInspection recordedInspection }
	inspector.ok(recordInspectionQ, map[string]any{"in": in}, &rec)
	team, own := rec.RecordInspection.Results[1].CorrectiveTask, rec.RecordInspection.Results[2].CorrectiveTask
	if team == nil || own == nil || team.AssigneeTeam != "CLEANER" {
		t.Fatalf("tasks %+v", rec.RecordInspection.Results)
	}
	owed := func(c *client, staff string, kind string) map[string]butlerTask {
		t.Helper()
		out := map[string]butlerTask{}
		for _, x := range c.tasks(t, staff).ButlerTasks.Tasks {
			if x.Kind == kind {
				out[x.SubjectID] = x
			}
		}
		return out
	}
	lists := func(step string, want1, want2, rechecks []string) {
		t.Helper()
		for _, l := range []struct {
			name string
			got  map[string]butlerTask
			want []string
		}{
			{"cleaner 1", owed(e.staff("x.cleaner", w.Password), "", "CORRECTIVE_TASK"), want1},
			{"cleaner 2", owed(e.staff("x.cleaner2", w.Password), "", "CORRECTIVE_TASK"), want2},
			{"inspector", owed(e.staff("x.inspector", w.Password), "", "INSPECTION_RECHECK"), rechecks},
			{"engineer", owed(e.staff(w.engineerX, w.Password), "", "CORRECTIVE_TASK"), nil},
		} {
			if len(l.got) != len(l.want) {
				t.Fatalf("%s: %s owes %+v, want %v", step, l.name, l.got, l.want)
			}
			for _, id := range l.want {
				if _, ok := l.got[id]; !ok {
					t.Fatalf("%s: %s owes %+v, want %v", step, l.name, l.got, l.want)
				}
			}
		}
	}
	lists("recorded", []string{team.ID}, []string{team.ID, own.ID}, []string{team.ID, own.ID})
	deadline, _ := time.Parse(time.RFC3339, team.Deadline)
	sup := e.staff(w.supervisorX, w.Password)
	if got := owed(sup, c1, "CORRECTIVE_TASK")[team.ID]; !got.DueAt.Equal(deadline) || got.Overdue {
		t.Fatalf("supervisor's view of cleaner 1's list: %+v (deadline %s)", got, deadline)
	}
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", butlerTasksQ, map[string]any{"b": c1})

	e.Clock.Advance(25 * time.Hour)
	if got := owed(e.staff("x.cleaner", w.Password), "", "CORRECTIVE_TASK")[team.ID]; !got.Overdue {
		t.Fatalf("past its deadline: %+v", got)
	}
	inspector = e.staff("x.inspector", w.Password)
	const recheckQ = `mutation($in: RecheckCorrectiveTaskInput!){ recheckCorrectiveTask(input:$in){ status } }`
	inspector.ok(recheckQ, map[string]any{"in": map[string]any{"taskId": team.ID, "version": 0, "passed": true}}, nil)
	lists("team's task re-checked", nil, []string{own.ID}, []string{own.ID})
	// A failed re-check keeps it on the list, with the new deadline.
	inspector.ok(recheckQ, map[string]any{"in": map[string]any{"taskId": own.ID, "version": 0, "passed": false, "note": "仍有污渍"}}, nil)
	lists("own task escalated", nil, []string{own.ID}, []string{own.ID})
	if got := owed(e.staff("x.cleaner2", w.Password), "", "CORRECTIVE_TASK")[own.ID]; got.Overdue {
		t.Fatalf("escalated with a new deadline, still overdue: %+v", got)
	}
}
