package e2e

import (
	"context"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/inspection"
)

const reportFields = `id period version previousId changeNote status revision latest publishedAt pdfUrl
	versions { id version status }
	sections { section title commentary figures { key label unit value denominator rate available } items { label text } }`

type reportFigure struct {
	Key, Label, Unit string
	Value            int64
	Denominator      *int64
	Rate             *float64
	Available        bool
}

type reportOut struct {
	ID, Period, Status, PdfURL string
	Version, Revision          int
	PreviousID, ChangeNote     *string
	PublishedAt                *string
	Latest                     bool
	Versions                   []struct {
		ID, Status string
		Version    int
	}
	Sections []struct {
		Section, Title string
		Commentary     *string
		Figures        []reportFigure
		Items          []struct {
			Label string
			Text  *string
		}
	}
}

// figures are the report's figures by key.
func (r reportOut) figures() map[string]reportFigure {
	out := map[string]reportFigure{}
	for _, s := range r.Sections {
		for _, f := range s.Figures {
			out[f.Key] = f
		}
	}
	return out
}

// reportWorld records a month of the estate's running through the API:
// November 2026 in 春晖苑 (Asia/Shanghai), with records on both sides of
// its edges. It returns the report's expected figures, each counted here
// from what was recorded: counts as ints, ratios as [numerator, denominator].
func reportWorld(t *testing.T, e *env, w *world) (counts map[string]int64, ratios map[string][2]int64) {
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	at := func(month, day, h, m int) time.Time { return time.Date(2026, time.Month(month), day, h, m, 0, 0, cst) }
	e.Clock.Set(at(10, 31, 22, 0))
	e.staffWithRole(w, "x.inspector", access.Inspector)
	e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	as := func(account string) *client { return e.staff(account, w.Password) }
	sup := as(w.supervisorX)

	// A lift and the fire system serviced monthly, a pest-control point
	// every two weeks.
	plan := func(kind, name string, every int, unit, start string) {
		t.Helper()
		var eq struct{ RegisterEquipment struct{ ID string } }
		sup.ok(`mutation($in:RegisterEquipmentInput!){ registerEquipment(input:$in){ id } }`, map[string]any{"in": map[string]any{
			"communityId": w.X.ID, "kind": kind, "name": name, "buildingId": w.XB1.ID}}, &eq)
		sup.ok(`mutation($in:MaintenancePlanInput!){ upsertMaintenancePlan(input:$in){ id } }`, map[string]any{"in": map[string]any{
			"equipmentId": eq.RegisterEquipment.ID, "title": name + "保养", "every": every, "unit": unit, "start": start,
			"checklist": []string{"检查"}, "minutes": 30, "active": true}}, nil)
	}
	plan("LIFT", "1号电梯", 1, "MONTH", "2026-11-03")
	plan("FIRE_SYSTEM", "消防系统", 1, "MONTH", "2026-11-05")
	plan("PEST_CONTROL", "1号消杀点", 2, "WEEK", "2026-11-04")
	tick := func() {
		t.Helper()
		if err := e.App.Services.Facilities.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
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
					"results": []map[string]any{{"step": "检查", "ok": true}}}}, nil)
				return
			}
		}
		t.Fatalf("no order due %s: %+v", due, os)
	}
	inspect := func(area inspection.Area, key string, done time.Time, fail ...int) (passed, total int) {
		t.Helper()
		items := len(inspection.Default(w.X.ID, area).Items)
		var results []map[string]any
		for seq := 1; seq <= items; seq++ {
			r := map[string]any{"seq": seq, "passed": true}
			for _, f := range fail {
				if f == seq {
					r["passed"], r["note"] = false, "不合格"
				}
			}
			results = append(results, r)
		}
		as("x.inspector").ok(recordInspectionQ, map[string]any{"in": map[string]any{"communityId": w.X.ID, "area": string(area), "templateVersion": 1,
			"doneAt": done.UTC().Format(time.RFC3339), "idempotencyKey": key, "results": results}}, nil)
		return items - len(fail), items
	}
	incident := func(typ string, occurred time.Time, key string) (string, int) {
		t.Helper()
		var r struct {
			ReportIncident struct {
				ID      string
				Version int
			}
		}
		as("x.security-lead").ok(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id version } }`, map[string]any{"in": map[string]any{
			"communityId": w.X.ID, "type": typ, "occurredAt": occurred, "buildingIds": []string{w.XB1.ID}, "location": "1栋", "description": "事件经过",
			"idempotencyKey": key}}, &r)
		return r.ReportIncident.ID, r.ReportIncident.Version
	}

	// 31 October 23:30 is October in Shanghai (15:30 UTC); 1 November
	// 00:30 is November there, though still 31 October in UTC.
	e.Clock.Set(at(10, 31, 23, 40))
	inspect(inspection.Lobby, "rep-0001", at(10, 31, 23, 30), 1, 2, 3)
	e.Clock.Set(at(11, 1, 0, 40))
	lobbyP, lobbyT := inspect(inspection.Lobby, "rep-0002", at(11, 1, 0, 30), 1)

	e.Clock.Set(at(11, 3, 10, 0))
	tick()
	complete("2026-11-03") // the lift, on plan
	e.Clock.Set(at(11, 4, 10, 0))
	complete("2026-11-04") // pest control, on plan
	e.Clock.Set(at(11, 6, 9, 0))
	incident("FIRE_ALARM", at(11, 6, 8, 50), "rep-phone-0001")
	e.Clock.Set(at(11, 7, 10, 0))
	tick()
	complete("2026-11-05") // the fire system, two days late

	e.Clock.Set(at(11, 10, 10, 0))
	corrP, corrT := inspect(inspection.Corridor, "rep-0003", at(11, 10, 9, 0), 1, 2)
	gardenP, gardenT := inspect(inspection.Garden, "rep-0004", at(11, 10, 9, 30))
	stairsP, stairsT := inspect(inspection.Stairs, "rep-0005", at(11, 10, 9, 40), 1)
	garageP, garageT := inspect(inspection.BasementGarage, "rep-0006", at(11, 10, 9, 50))
	sup = as(w.supervisorX)
	for code, hh := range map[string]string{"A-001": w.HA.ID, "A-002": w.HB.ID} {
		sup.ok(`mutation($c:ID!,$s:String!,$h:ID!){ assignParkingSpace(communityId:$c, code:$s, householdId:$h){ code } }`, map[string]any{"c": w.X.ID, "s": code, "h": hh}, nil)
	}
	sup.ok(`mutation($c:ID!){ releaseParkingSpace(communityId:$c, code:"A-002"){ code } }`, map[string]any{"c": w.X.ID}, nil)

	e.Clock.Set(at(11, 12, 9, 0))
	leak, v := incident("WATER_LEAK", at(11, 12, 7, 30), "rep-phone-0002")
	as("x.security-lead").ok(`mutation($id:ID!,$v:Int!){ closeIncident(id:$id, version:$v, summary:"水管已更换"){ status } }`, map[string]any{"id": leak, "v": v}, nil)

	e.Clock.Set(at(11, 15, 10, 0))
	e.owner(w.OwnerA.Phone).ok(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "category": "WATER", "description": "厨房水龙头漏水"}}, nil)
	e.owner(w.OwnerB.Phone).ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"householdId": w.HB.ID, "category": "HYGIENE", "severity": "NORMAL", "description": "楼道垃圾未及时清理"}}, nil)

	e.Clock.Set(at(11, 19, 10, 0))
	tick() // pest control due 18 November: never done

	e.Clock.Set(at(11, 30, 20, 0))
	as(w.supervisorX).ok(`mutation($c:ID!,$in:PublishFinanceStatementInput!){ publishFinanceStatement(communityId:$c, period:"2026-11", input:$in){ id } }`,
		map[string]any{"c": w.X.ID, "in": map[string]any{"lines": []map[string]any{
			{"category": "MANAGEMENT_FEES", "amount": 1000000}, {"category": "PARKING", "amount": 50000},
			{"category": "STAFF", "amount": 600000}, {"category": "GREENING", "amount": 30000}}}}, nil)

	counts = map[string]int64{
		"equipment.maintenanceDue": 2, "equipment.maintenanceDone": 2, "equipment.defects": 0, "equipment.defectsFixed": 0, "equipment.lifts": 1,
		"security.incidents": 2, "security.incidentsClosed": 1, "security.incidents.FIRE_ALARM": 1, "security.incidents.WATER_LEAK": 1,
		"security.incidents.THEFT": 0, "security.incidents.INJURY": 0, "security.incidents.DISPUTE": 0, "security.incidents.OTHER": 0,
		"fire.systems": 1, "fire.maintenanceDue": 1, "fire.alarms": 1,
		"parking.billed": 0, "parking.income": 50000, "greening.expense": 30000,
		"pest.points": 1, "pest.roundsDue": 2, "pest.roundsDone": 1,
		"repairs.new": 1, "repairs.reopened": 0, "complaints.received": 1, "enquiries.received": 0,
		"events.held": 0, "events.signUps": 0, "surveys.closed": 0, "surveys.responses": 0,
		"finance.statementVersion": 1, "finance.income": 1050000, "finance.expense": 630000, "finance.surplus": 420000,
	}
	ratios = map[string][2]int64{
		"equipment.maintenanceOnPlan": {1, 2}, "equipment.liftMaintenanceOnPlan": {1, 1},
		"security.patrolCompleteness": {0, 0}, "security.patrolOnTime": {0, 0},
		"fire.maintenanceOnPlan": {0, 1}, "fire.stairsPass": {int64(stairsP), int64(stairsT)},
		"parking.spacesAssigned": {1, 2}, "parking.garagePass": {int64(garageP), int64(garageT)},
		"cleaning.pass":       {int64(lobbyP + corrP), int64(lobbyT + corrT)},
		"cleaning.pass.LOBBY": {int64(lobbyP), int64(lobbyT)}, "cleaning.pass.CORRIDOR": {int64(corrP), int64(corrT)},
		"cleaning.pass.LIFT_CAR": {0, 0}, "cleaning.pass.PUBLIC_TOILET": {0, 0}, "cleaning.pass.ROOF": {0, 0},
		"greening.gardenPass": {int64(gardenP), int64(gardenT)},
		"pest.onPlan":         {1, 2},
		// The repair was never taken: its deadlines to respond and to
		// finish fell due in November unmet.
		"repairs.passRate": {0, 0}, "repairs.respondOnTime": {0, 1}, "repairs.finishOnTime": {0, 1}, "repairs.satisfaction": {0, 0},
		"complaints.closure": {0, 1},
		"enquiries.answered": {0, 0}, "enquiries.onTheSpot": {0, 0}, "enquiries.onTime": {0, 0}, "events.attendance": {0, 0}, "surveys.satisfaction": {0, 0},
		"finance.collection": {0, 0},
	}
	return counts, ratios
}

// Every figure of a generated report is what the test recorded through
// the API, counted here; the draft is regenerated with a late record
// (figures move, the commentary stays); publication freezes it; a
// correction is version 2 naming version 1, which stays readable.
func TestManagementReportFiguresFromTheRecord(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	counts, ratios := reportWorld(t, e, w)
	cst := time.FixedZone("CST", 8*3600)
	e.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, cst))
	sup := e.staff(w.supervisorX, w.Password)
	const generate = `mutation($c:ID!,$p:String!){ generateManagementReport(communityId:$c, period:$p){ ` + reportFields + ` } }`
	if r := sup.fails("BAD_USER_INPUT", generate, map[string]any{"c": w.X.ID, "p": "2026-12"}); r.field() != "period" {
		t.Errorf("an open period: field %q, want period", r.field())
	}
	var g struct{ GenerateManagementReport reportOut }
	sup.ok(generate, map[string]any{"c": w.X.ID, "p": "2026-11"}, &g)
	r := g.GenerateManagementReport
	if r.ID != w.X.ID+":2026-11:v1" || r.Status != "DRAFT" || r.Version != 1 || r.Revision != 1 || len(r.Sections) != 12 {
		t.Fatalf("draft: %+v", r)
	}
	checkFigures(t, r, counts, ratios)

	// The manager's commentary; a phone number is refused.
	const comment = `mutation($id:ID!,$s:ManagementReportSection!,$t:String!){ setManagementReportCommentary(id:$id, section:$s, text:$t){ revision sections { section commentary } } }`
	if res := sup.fails("BAD_USER_INPUT", comment, map[string]any{"id": r.ID, "s": "SECURITY", "t": "如有疑问请致电 138 1234 5678"}); res.field() != "text" {
		t.Errorf("phone in commentary: field %q", res.field())
	}
	sup.ok(comment, map[string]any{"id": r.ID, "s": "SECURITY", "t": "本月火警一起，为烟感误报，已更换探头。"}, nil)

	// A water leak on 30 November uploaded on 1 December: regenerating
	// counts it; the commentary is kept.
	sec := e.staff("x.security-lead", w.Password)
	sec.ok(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "type": "WATER_LEAK", "occurredAt": time.Date(2026, 11, 30, 23, 0, 0, 0, cst), "buildingIds": []string{w.XB1.ID},
		"location": "2栋", "description": "事件经过", "idempotencyKey": "rep-phone-0003"}}, nil)
	sup.ok(generate, map[string]any{"c": w.X.ID, "p": "2026-11"}, &g)
	r = g.GenerateManagementReport
	counts["security.incidents"], counts["security.incidents.WATER_LEAK"] = 3, 2
	checkFigures(t, r, counts, ratios)
	if r.Version != 1 || r.Revision != 3 || commentary(r, "SECURITY") != "本月火警一起，为烟感误报，已更换探头。" {
		t.Errorf("regenerated draft: version %d revision %d commentary %q", r.Version, r.Revision, commentary(r, "SECURITY"))
	}

	// Publish what was reviewed: a stale revision is CONFLICT.
	const publish = `mutation($id:ID!,$in:PublishManagementReportInput){ publishManagementReport(id:$id, input:$in){ ` + reportFields + ` } }`
	sup.fails("CONFLICT", publish, map[string]any{"id": r.ID, "in": map[string]any{"revision": 2}})
	var p struct{ PublishManagementReport reportOut }
	sup.ok(publish, map[string]any{"id": r.ID, "in": map[string]any{"revision": 3}}, &p)
	if p.PublishManagementReport.Status != "PUBLISHED" || p.PublishManagementReport.PublishedAt == nil {
		t.Fatalf("published: %+v", p.PublishManagementReport)
	}
	// Immutable: no commentary, no second publication.
	sup.fails("CONFLICT", comment, map[string]any{"id": r.ID, "s": "SECURITY", "t": "改"})
	sup.fails("CONFLICT", publish, map[string]any{"id": r.ID})

	// A correction: generating again starts version 2 from the published
	// commentary; it must say what it changes.
	sup.ok(generate, map[string]any{"c": w.X.ID, "p": "2026-11"}, &g)
	v2 := g.GenerateManagementReport
	if v2.ID != w.X.ID+":2026-11:v2" || v2.Status != "DRAFT" || v2.PreviousID == nil || *v2.PreviousID != r.ID || commentary(v2, "SECURITY") == "" {
		t.Fatalf("correction draft: %+v", v2)
	}
	if res := sup.fails("BAD_USER_INPUT", publish, map[string]any{"id": v2.ID}); res.field() != "input.changeNote" {
		t.Errorf("correction without a note: field %q", res.field())
	}
	sup.ok(publish, map[string]any{"id": v2.ID, "in": map[string]any{"changeNote": "补充说明安全事件"}}, &p)
	if got := p.PublishManagementReport; got.Version != 2 || got.ChangeNote == nil || len(got.Versions) != 2 || !got.Latest {
		t.Fatalf("version 2: %+v", got)
	}
	var one struct{ ManagementReport reportOut }
	e.owner(w.OwnerA.Phone).ok(`query($id:ID!){ managementReport(id:$id){ `+reportFields+` } }`, map[string]any{"id": r.ID}, &one)
	if one.ManagementReport.Status != "PUBLISHED" || one.ManagementReport.Latest || len(one.ManagementReport.Versions) != 2 {
		t.Errorf("version 1 as an owner reads it: %+v", one.ManagementReport)
	}
	checkFigures(t, one.ManagementReport, counts, ratios)
}

func commentary(r reportOut, section string) string {
	for _, s := range r.Sections {
		if s.Section == section && s.Commentary != nil {
			return *s.Commentary
		}
	}
	return ""
}

func checkFigures(t *testing.T, r reportOut, counts map[string]int64, ratios map[string][2]int64) {
	t.Helper()
	got := r.figures()
	for k, want := range counts {
		f, ok := got[k]
		if !ok || f.Value != want || f.Unit == "RATIO" || !f.Available || f.Label == "" {
			t.Errorf("%s: %+v (present %v), want %d", k, f, ok, want)
		}
	}
	for k, want := range ratios {
		f, ok := got[k]
		if !ok || f.Unit != "RATIO" || f.Value != want[0] || f.Denominator == nil || *f.Denominator != want[1] || !f.Available {
			t.Errorf("%s: %+v (present %v), want %d/%d", k, f, ok, want[0], want[1])
			continue
		}
		if want[1] == 0 && f.Rate != nil || want[1] != 0 && (f.Rate == nil || *f.Rate != float64(want[0])/float64(want[1])) {
			t.Errorf("%s: rate %v, want %d/%d", k, f.Rate, want[0], want[1])
		}
	}
	for k := range got {
		if _, c := counts[k]; !c {
			if _, r := ratios[k]; !r {
				t.Errorf("figure %s is not checked by the test", k)
			}
		}
	}
}
