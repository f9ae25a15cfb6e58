package e2e

import (
	"context"
	"testing"
	"time"

	"qinqing/internal/access"
)

// taskOf finds the task of kind about subject on a list.
func (l taskList) taskOf(kind, subject string) *butlerTask {
	for i, x := range l.ButlerTasks.Tasks {
		if x.Kind == kind && x.SubjectID == subject {
			return &l.ButlerTasks.Tasks[i]
		}
	}
	return nil
}

// A work order left open past its due date is on the community's
// supervisors' task lists (not another community's, not the engineers'),
// and leaves them when it is done; it is done where it is owed.
func TestOverdueMaintenanceOnTheSupervisorsList(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, shanghai))
	sup := e.staff(w.supervisorX, w.Password)
	var eq struct{ RegisterEquipment struct{ ID string } }
	sup.ok(`mutation($in:RegisterEquipmentInput!){ registerEquipment(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "kind": "FIRE_SYSTEM", "name": "消防报警主机", "area": "消防控制室"}}, &eq)
	sup.ok(`mutation($in:MaintenancePlanInput!){ upsertMaintenancePlan(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"equipmentId": eq.RegisterEquipment.ID, "title": "消防系统季度检测", "every": 3, "unit": "MONTH", "start": "2026-12-02",
		"checklist": []string{"报警联动测试"}, "minutes": 90, "active": true}}, nil)
	if err := e.App.Services.Facilities.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	var os struct {
		MaintenanceOrders struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	sup.ok(`query($c:ID!){ maintenanceOrders(communityId:$c){ edges { node { id } } } }`, map[string]any{"c": w.X.ID}, &os)
	if len(os.MaintenanceOrders.Edges) != 1 {
		t.Fatalf("orders: %+v", os)
	}
	orderID := os.MaintenanceOrders.Edges[0].Node.ID
	// Due on Wednesday: not yet owed on Wednesday itself.
	e.Clock.Set(time.Date(2026, 12, 2, 20, 0, 0, 0, shanghai))
	if l := e.staff(w.supervisorX, w.Password).tasks(t, ""); l.taskOf("MAINTENANCE_OVERDUE", orderID) != nil {
		t.Fatalf("owed before its due date ended: %+v", l.ButlerTasks)
	}
	e.Clock.Set(time.Date(2026, 12, 3, 8, 0, 0, 0, shanghai))
	sup = e.staff(w.supervisorX, w.Password)
	eng, supY := e.staff(w.engineerX, w.Password), e.staff(w.supervisorY, w.Password)
	l := sup.tasks(t, "")
	x := l.taskOf("MAINTENANCE_OVERDUE", orderID)
	if x == nil || !x.Overdue || l.ButlerTasks.Overdue != 1 || x.Household.ID != "" ||
		!x.DueAt.Equal(time.Date(2026, 12, 3, 0, 0, 0, 0, shanghai)) {
		t.Fatalf("the supervisor's list: %+v", l.ButlerTasks)
	}
	if l := eng.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("the engineer's list: %+v", l.ButlerTasks)
	}
	if l := supY.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("another community's supervisor: %+v", l.ButlerTasks)
	}
	var ids struct {
		Me struct{ Staff struct{ ID string } }
	}
	eng.ok(`{ me { staff { id } } }`, nil, &ids)
	if l := sup.tasks(t, ids.Me.Staff.ID); l.ButlerTasks.Total != 0 {
		t.Fatalf("the engineer's list as the supervisor opens it: %+v", l.ButlerTasks)
	}
	supY.fails("NOT_FOUND", butlerTasksQ, map[string]any{"b": ids.Me.Staff.ID})
	sup.fails("BAD_USER_INPUT", `mutation($id:ID!){ completeButlerTask(id:$id){ id } }`, map[string]any{"id": x.ID})

	eng.ok(`mutation($in:CompleteMaintenanceInput!){ completeMaintenance(input:$in){ status } }`, map[string]any{"in": map[string]any{
		"orderId": orderID, "doneAt": e.Clock.Now().Format(time.RFC3339), "idempotencyKey": "fire-0001",
		"results": []map[string]any{{"step": "报警联动测试", "ok": true}}}}, nil)
	if l := sup.tasks(t, ""); l.taskOf("MAINTENANCE_OVERDUE", orderID) != nil || l.ButlerTasks.Total != 0 {
		t.Fatalf("still owed when done: %+v", l.ButlerTasks)
	}
}

const handoverQ = `mutation($in: RecordInspectionInput!){ recordInspection(input:$in){ id
	results { seq passed correctiveTask { id } workOrder { id kind status dueDate checklist assigneeTeam
		defect { inspectionId seq text standard note location } } } } }`

type handoverRecord struct {
	RecordInspection struct {
		ID      string
		Results []struct {
			Seq            int
			Passed         bool
			CorrectiveTask *struct{ ID string }
			WorkOrder      *struct {
				ID, Kind, Status, DueDate, AssigneeTeam string
				Checklist                               []string
				Defect                                  struct {
					InspectionID, Text, Standard, Note, Location string
					Seq                                          int
				}
			}
		}
	}
}

// The handover inspection (承接查验) of a new community's shared parts, on
// its own checklist: each defect becomes a work order for the engineers
// with a deadline (not a corrective task), filed once however often the
// phone retries, on the engineers' task lists and, once overdue, the
// supervisors'; an engineer completes it like any work order.
func TestHandoverDefectsBecomeWorkOrders(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai))
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	var tpl struct {
		InspectionTemplates []struct {
			Version int
			Items   []struct {
				Seq  int
				Text string
			}
		}
	}
	inspector.ok(`query($c:ID!){ inspectionTemplates(communityId:$c, area: HANDOVER){ version items { seq text } } }`, map[string]any{"c": w.X.ID}, &tpl)
	items := tpl.InspectionTemplates[0].Items
	if len(items) < 15 || items[1].Text != "屋面及防水" {
		t.Fatalf("the handover checklist: %+v", items)
	}
	var results []map[string]any
	for _, it := range items {
		r := map[string]any{"seq": it.Seq, "passed": true}
		switch it.Seq {
		case 2:
			r["passed"], r["note"] = false, "3号楼屋面东侧落水口堵塞，雨后积水"
		case 7:
			r["passed"], r["note"] = false, "2号生活水泵机械密封渗水"
		}
		results = append(results, r)
	}
	in := map[string]any{"communityId": w.X.ID, "area": "HANDOVER", "location": "一期全部共用部位", "templateVersion": 1,
		"doneAt": e.Clock.Now().Format(time.RFC3339), "idempotencyKey": "handover-0001", "results": results}
	var rec, again handoverRecord
	inspector.ok(handoverQ, map[string]any{"in": in}, &rec)
	inspector.ok(handoverQ, map[string]any{"in": in}, &again) // the retried upload
	var orders []string
	for i, r := range rec.RecordInspection.Results {
		if r.CorrectiveTask != nil {
			t.Fatalf("item %d became a corrective task", r.Seq)
		}
		if r.Passed != (r.WorkOrder == nil) {
			t.Fatalf("item %d: passed %v, work order %+v", r.Seq, r.Passed, r.WorkOrder)
		}
		if r.WorkOrder == nil {
			continue
		}
		o := r.WorkOrder
		if o.Kind != "DEFECT" || o.Status != "OPEN" || o.AssigneeTeam != "ENGINEER" || o.DueDate != "2026-12-15" ||
			o.Defect.InspectionID != rec.RecordInspection.ID || o.Defect.Seq != r.Seq || o.Defect.Location != "一期全部共用部位" ||
			len(o.Checklist) != 1 || again.RecordInspection.Results[i].WorkOrder.ID != o.ID {
			t.Fatalf("work order of item %d: %+v", r.Seq, o)
		}
		orders = append(orders, o.ID)
	}
	if len(orders) != 2 {
		t.Fatalf("work orders: %v", orders)
	}
	var counts struct {
		CorrectiveTasks            struct{ TotalCount int }
		MaintenanceOrders, Planned struct{ TotalCount int }
	}
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(`query($c:ID!){ correctiveTasks(communityId:$c){ totalCount } maintenanceOrders(communityId:$c, kind: DEFECT){ totalCount }
		planned: maintenanceOrders(communityId:$c, kind: PLANNED){ totalCount } }`, map[string]any{"c": w.X.ID}, &counts)
	if counts.CorrectiveTasks.TotalCount != 0 || counts.MaintenanceOrders.TotalCount != 2 || counts.Planned.TotalCount != 0 {
		t.Fatalf("filed: %+v", counts)
	}

	// On every engineer's list at once; on the supervisors' only when late.
	eng := e.staff(w.engineerX, w.Password)
	eng2 := e.staffWithRole(w, "x.engineer2", access.Engineer)
	for _, c := range []*client{eng, eng2} {
		if l := c.tasks(t, ""); l.ButlerTasks.Total != 2 || l.ButlerTasks.Overdue != 0 || l.taskOf("HANDOVER_DEFECT", orders[0]) == nil {
			t.Fatalf("an engineer's list: %+v", l.ButlerTasks)
		}
	}
	if l := sup.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("the supervisor's list before the deadline: %+v", l.ButlerTasks)
	}
	var one struct{ MaintenanceOrder *struct{ ID string } }
	eng.ok(`query($id:ID!){ maintenanceOrder(id:$id){ id } }`, map[string]any{"id": orders[0]}, &one)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", `query($id:ID!){ maintenanceOrder(id:$id){ id } }`, map[string]any{"id": orders[0]})

	e.Clock.Set(time.Date(2026, 12, 16, 9, 0, 0, 0, shanghai))
	sup, eng = e.staff(w.supervisorX, w.Password), e.staff(w.engineerX, w.Password)
	if l := sup.tasks(t, ""); l.ButlerTasks.Total != 2 || l.ButlerTasks.Overdue != 2 {
		t.Fatalf("the supervisor's list after the deadline: %+v", l.ButlerTasks)
	}
	var fix struct {
		MaintenanceOrder struct{ Checklist []string }
	}
	eng.ok(`query($id:ID!){ maintenanceOrder(id:$id){ checklist } }`, map[string]any{"id": orders[1]}, &fix)
	eng.ok(`mutation($in:CompleteMaintenanceInput!){ completeMaintenance(input:$in){ status } }`, map[string]any{"in": map[string]any{
		"orderId": orders[1], "doneAt": e.Clock.Now().Format(time.RFC3339), "idempotencyKey": "defect-0002",
		"results": []map[string]any{{"step": fix.MaintenanceOrder.Checklist[0], "ok": true, "note": "开发商已更换机械密封"}}}}, nil)
	for _, c := range []*client{sup, eng} {
		if l := c.tasks(t, ""); l.ButlerTasks.Total != 1 || l.taskOf("HANDOVER_DEFECT", orders[0]) == nil {
			t.Fatalf("after the fix: %+v", l.ButlerTasks)
		}
	}
}
