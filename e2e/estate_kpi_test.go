package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
)

// The estate's KPIs (serviceKpis.estate and the weekly report) over a week
// of inspections, re-checks, night patrols and daily maintenance, each
// figure the count of what was recorded through the API:
//   - 4 lobby inspections of 8 items, 3 items failed: 29/32 passed;
//   - their 3 corrective tasks: A closed by its first re-check in time,
//     B escalated, C still within its deadline (not known yet): 1/2;
//   - 2 nights of a 2-checkpoint round: the gate scanned on time both
//     nights, the garage missed both nights and scanned late the first:
//     3/4 scanned, 2/4 on time;
//   - a daily plan from Tuesday: Tuesday's order done that day, Wednesday's
//     done on Thursday, Thursday's due today (not known yet): 1/2 on plan.
func TestEstateKPIs(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	day := func(d, h, m int) time.Time { // d: days from Monday 30 November
		return time.Date(2026, 11, 30, h, m, 0, 0, cst).AddDate(0, 0, d)
	}
	e.Clock.Set(day(0, 8, 0))
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	e.staffWithRole(w, "x.guard", access.Security)
	// Access tokens last 15 minutes of the test clock: sign in when acting.
	as := func(account string) *client { return e.staff(account, w.Password) }
	sup := as(w.supervisorX)

	// The patrol route and the maintenance plan.
	var route struct {
		UpsertPatrolRoute struct{ Checkpoints []struct{ Code string } }
	}
	as("x.security-lead").ok(`mutation($in:UpsertPatrolRouteInput!){ upsertPatrolRoute(input:$in){ checkpoints { code } } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "name": "夜间巡更", "shiftStart": "22:00", "shiftEnd": "23:00", "everyMinutes": 60,
		"checkpoints": []map[string]any{
			{"name": "东门", "offsetMinutes": 0, "toleranceMinutes": 10},
			{"name": "地下车库", "offsetMinutes": 30, "toleranceMinutes": 10},
		}}}, &route)
	gate, garage := route.UpsertPatrolRoute.Checkpoints[0].Code, route.UpsertPatrolRoute.Checkpoints[1].Code
	var eq struct{ RegisterEquipment struct{ ID string } }
	sup.ok(`mutation($in:RegisterEquipmentInput!){ registerEquipment(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "kind": "WATER_PUMP", "name": "生活水泵", "buildingId": w.XB1.ID, "supplier": "格兰富"}}, &eq)
	sup.ok(`mutation($in:MaintenancePlanInput!){ upsertMaintenancePlan(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"equipmentId": eq.RegisterEquipment.ID, "title": "水泵日常巡检", "every": 1, "unit": "DAY", "start": "2026-12-01",
		"checklist": []string{"运行声音", "压力表读数"}, "minutes": 30, "active": true}}, nil)
	tick := func() {
		t.Helper()
		if err := e.App.Services.Facilities.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.App.Services.Patrols.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tick()

	// Monday: three inspections uploaded at noon, then A re-checked in time.
	e.Clock.Set(day(0, 12, 0))
	inspector = as("x.inspector")
	record := func(key string, done time.Time, fail ...int) string {
		t.Helper()
		var rec struct{ RecordInspection recordedInspection }
		inspector.ok(recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, key, done, fail...)}, &rec)
		for _, r := range rec.RecordInspection.Results {
			if r.CorrectiveTask != nil {
				return r.CorrectiveTask.ID
			}
		}
		return ""
	}
	taskA := record("kpi-0001", day(0, 9, 0), 4)
	record("kpi-0002", day(0, 10, 0))
	taskB := record("kpi-0003", day(0, 11, 0), 2)
	const recheckQ = `mutation($in: RecheckCorrectiveTaskInput!){ recheckCorrectiveTask(input:$in){ status } }`
	e.Clock.Set(day(0, 15, 0))
	as("x.inspector").ok(recheckQ, map[string]any{"in": map[string]any{"taskId": taskA, "version": 0, "passed": true}}, nil)

	scan := func(code string, done time.Time, key string) {
		t.Helper()
		as("x.guard").ok(`mutation($in:RecordCheckpointScanInput!){ recordCheckpointScan(input:$in){ id } }`,
			map[string]any{"in": map[string]any{"communityId": w.X.ID, "code": code, "doneAt": done, "idempotencyKey": key}}, nil)
	}
	night := func(d int, lateGarage bool) {
		e.Clock.Set(day(d, 22, 5))
		scan(gate, day(d, 22, 3), "guard-gate-"+string(rune('0'+d)))
		e.Clock.Set(day(d, 22, 45))
		tick()
		if lateGarage {
			e.Clock.Set(day(d, 22, 52))
			scan(garage, day(d, 22, 50), "guard-garage-"+string(rune('0'+d)))
		}
	}
	night(0, true)

	complete := func(due string) {
		t.Helper()
		var os struct {
			MaintenanceOrders struct {
				Edges []struct{ Node struct{ ID, DueDate string } }
			}
		}
		eng := as(w.engineerX)
		eng.ok(`query($c:ID!){ maintenanceOrders(communityId:$c){ edges { node { id dueDate } } } }`, map[string]any{"c": w.X.ID}, &os)
		for _, o := range os.MaintenanceOrders.Edges {
			if o.Node.DueDate == due {
				eng.ok(`mutation($in:CompleteMaintenanceInput!){ completeMaintenance(input:$in){ status } }`, map[string]any{"in": map[string]any{
					"orderId": o.Node.ID, "doneAt": e.Clock.Now().Format(time.RFC3339), "idempotencyKey": "done-" + due,
					"results": []map[string]any{{"step": "运行声音", "ok": true}, {"step": "压力表读数", "ok": true}}}}, nil)
				return
			}
		}
		t.Fatalf("no order due %s: %+v", due, os)
	}
	// Tuesday: the day's maintenance done; B's re-check fails (escalated).
	e.Clock.Set(day(1, 10, 0))
	tick()
	complete("2026-12-01")
	e.Clock.Set(day(1, 13, 0))
	as("x.inspector").ok(recheckQ, map[string]any{"in": map[string]any{"taskId": taskB, "version": 0, "passed": false, "note": "仍未整改"}}, nil)
	night(1, false)

	// Thursday: Wednesday's maintenance done a day late; a fourth
	// inspection gives C, due tomorrow.
	e.Clock.Set(day(3, 10, 0))
	tick()
	complete("2026-12-02")
	inspector = as("x.inspector")
	record("kpi-0004", day(3, 10, 0), 1)

	e.Clock.Set(day(3, 12, 0))
	sup = as(w.supervisorX)
	const ratio = `{ rate numerator denominator available }`
	type kr struct {
		Rate                   *float64
		Numerator, Denominator int
		Available              bool
	}
	var k struct {
		ServiceKpis struct {
			Estate struct{ InspectionPassRate, CorrectiveTasksOnTime, PatrolCompleteness, PatrolOnTime, MaintenanceOnPlan kr }
		}
	}
	window := map[string]any{"c": w.X.ID, "f": day(0, 0, 0), "t": day(7, 0, 0)}
	sup.ok(`query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ estate {
		inspectionPassRate `+ratio+` correctiveTasksOnTime `+ratio+` patrolCompleteness `+ratio+` patrolOnTime `+ratio+` maintenanceOnPlan `+ratio+` } } }`, window, &k)
	got := k.ServiceKpis.Estate
	for _, c := range []struct {
		name    string
		r       kr
		num, of int
	}{
		{"inspection pass rate", got.InspectionPassRate, 29, 32},
		{"corrective tasks on time", got.CorrectiveTasksOnTime, 1, 2},
		{"patrol completeness", got.PatrolCompleteness, 3, 4},
		{"patrol on time", got.PatrolOnTime, 2, 4},
		{"maintenance on plan", got.MaintenanceOnPlan, 1, 2},
	} {
		if !c.r.Available || c.r.Numerator != c.num || c.r.Denominator != c.of || c.r.Rate == nil || *c.r.Rate != float64(c.num)/float64(c.of) {
			t.Errorf("%s: %+v, want %d/%d", c.name, c.r, c.num, c.of)
		}
	}

	var wr struct{ WeeklyReport struct{ Summary string } }
	sup.ok(`query($c:ID!){ weeklyReport(communityId:$c, weekOf:"2026-12-03"){ summary } }`, map[string]any{"c": w.X.ID}, &wr)
	for _, want := range []string{"品质检查合格率90.6%（29/32，上周—）", "整改按时完成率50.0%（1/2，上周—）", "巡更完成率75.0%（3/4，上周—），按时率50.0%（2/4，上周—）", "设备按计划保养率50.0%（1/2，上周—）"} {
		if !strings.Contains(wr.WeeklyReport.Summary, want) {
			t.Errorf("weekly report lacks %q:\n%s", want, wr.WeeklyReport.Summary)
		}
	}
	// The estate's figures are the supervisors', as every KPI is.
	as("x.inspector").fails("FORBIDDEN", `query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ estate { inspectionPassRate { rate } } } }`, window)
	as(w.supervisorY).fails("FORBIDDEN", `query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ estate { inspectionPassRate { rate } } } }`, window)
}
