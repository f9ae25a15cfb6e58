package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A lift plan through the API: its monthly work order is raised once
// (two scheduler runs), held to the work windows unless an emergency; the
// lift's building is told the day before and when the lift runs again, the
// other building nothing; an order left open is overdue on the
// supervisor's list; nobody crosses communities.
func TestMaintenanceThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// Monday 2026-11-30, 08:00 in Shanghai; the plan is due on Wednesday.
	e.Clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, shanghai))
	// Sessions expire over the days the clock moves: log in when acting.
	sup, eng, supY := e.staff(w.supervisorX, w.Password), e.staff(w.engineerX, w.Password), e.staff(w.supervisorY, w.Password)

	var eq struct{ RegisterEquipment struct{ ID string } }
	reg := `mutation($in:RegisterEquipmentInput!){ registerEquipment(input:$in){ id } }`
	in := map[string]any{"communityId": w.X.ID, "kind": "LIFT", "name": "1号梯", "buildingId": w.XB1.ID, "supplier": "奥的斯", "serves": []string{w.XB1.ID}}
	eng.fails("NOT_FOUND", reg, map[string]any{"in": in})
	supY.fails("NOT_FOUND", reg, map[string]any{"in": in})
	sup.ok(reg, map[string]any{"in": in}, &eq)
	plan := `mutation($in:MaintenancePlanInput!){ upsertMaintenancePlan(input:$in){ id nextDue } }`
	pin := map[string]any{"equipmentId": eq.RegisterEquipment.ID, "title": "电梯月度保养", "every": 1, "unit": "MONTH", "start": "2026-12-02",
		"checklist": []string{"曳引机润滑", "门机调整"}, "disturbs": []string{"LIFT_OUT"}, "minutes": 120, "active": true}
	eng.fails("NOT_FOUND", plan, map[string]any{"in": pin})
	sup.ok(plan, map[string]any{"in": pin}, nil)

	tick := func() {
		t.Helper()
		for i := 0; i < 2; i++ {
			if err := e.App.Services.Facilities.Tick(ctx, e.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	tick()
	type orders struct {
		MaintenanceOrders struct {
			Edges []struct {
				Node struct {
					ID, DueDate, Status, ScheduledAt string
					Overdue                          bool
				}
			}
		}
	}
	list := `query($c:ID!,$f:MaintenanceOrderFilter){ maintenanceOrders(communityId:$c, filter:$f){ edges { node { id dueDate status scheduledAt overdue } } } }`
	var os orders
	eng.ok(list, map[string]any{"c": w.X.ID}, &os)
	if len(os.MaintenanceOrders.Edges) != 1 || os.MaintenanceOrders.Edges[0].Node.DueDate != "2026-12-02" {
		t.Fatalf("orders: %+v", os)
	}
	o := os.MaintenanceOrders.Edges[0].Node
	if at, _ := time.Parse(time.RFC3339, o.ScheduledAt); !at.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, shanghai)) {
		t.Fatalf("scheduled at %s, want the Wednesday morning window", o.ScheduledAt)
	}
	supY.fails("NOT_FOUND", list, map[string]any{"c": w.X.ID})

	sched := `mutation($id:ID!,$at:Time!,$em:Boolean){ scheduleMaintenance(id:$id, at:$at, emergency:$em){ id scheduledAt emergency } }`
	evening := time.Date(2026, 12, 2, 20, 0, 0, 0, shanghai).Format(time.RFC3339)
	r := sup.fails("CONFLICT", sched, map[string]any{"id": o.ID, "at": evening})
	if !strings.Contains(r.Errors[0].Message, "周一至周五 09:00–11:30") {
		t.Errorf("conflict %q does not name the windows", r.Errors[0].Message)
	}
	eng.fails("NOT_FOUND", sched, map[string]any{"id": o.ID, "at": evening, "em": true})
	sup.ok(sched, map[string]any{"id": o.ID, "at": time.Date(2026, 12, 2, 14, 0, 0, 0, shanghai).Format(time.RFC3339)}, nil)

	inbox := func(phone string) []string {
		c := e.owner(phone)
		var in struct {
			Notifications struct {
				Edges []struct{ Node struct{ Kind, Body string } }
			}
		}
		c.ok(`{ notifications(first:50){ edges { node { kind body } } } }`, nil, &in)
		var out []string
		for _, x := range in.Notifications.Edges {
			if strings.HasPrefix(x.Node.Kind, "OUTAGE") {
				out = append(out, x.Node.Kind+" "+x.Node.Body)
			}
		}
		return out
	}
	ownerA, ownerB, ownerC, ownerY := w.OwnerA.Phone, w.OwnerB.Phone, "13900000003", w.OwnerY.Phone
	e.Clock.Set(time.Date(2026, 12, 1, 13, 59, 0, 0, shanghai))
	tick()
	if n := inbox(ownerA); len(n) != 0 {
		t.Fatalf("told early: %v", n)
	}
	e.Clock.Set(time.Date(2026, 12, 1, 14, 0, 0, 0, shanghai))
	tick()
	for _, c := range []string{ownerA, ownerB} {
		if n := inbox(c); len(n) != 1 || !strings.Contains(n[0], "12月2日 14:00起电梯停运") {
			t.Fatalf("outage notice: %v", n)
		}
	}
	for _, c := range []string{ownerC, ownerY} {
		if n := inbox(c); len(n) != 0 {
			t.Fatalf("another building was told: %v", n)
		}
	}

	e.Clock.Set(time.Date(2026, 12, 2, 16, 0, 0, 0, shanghai))
	eng = e.staff(w.engineerX, w.Password)
	done := `mutation($in:CompleteMaintenanceInput!){ completeMaintenance(input:$in){ status doneAt results { step ok } } }`
	cin := map[string]any{"orderId": o.ID, "doneAt": e.Clock.Now().Format(time.RFC3339), "idempotencyKey": "phone-0001",
		"results": []map[string]any{{"step": "曳引机润滑", "ok": true}, {"step": "门机调整", "ok": true}}}
	e.staff(w.butlerX, w.Password).fails("NOT_FOUND", done, map[string]any{"in": cin})
	eng.ok(done, map[string]any{"in": cin}, nil)
	eng.ok(done, map[string]any{"in": cin}, nil) // the retried upload
	for _, c := range []string{ownerA, ownerB} {
		if n := inbox(c); len(n) != 2 || !strings.Contains(strings.Join(n, "|"), "OUTAGE_RESTORED") {
			t.Fatalf("restored notice: %v", n)
		}
	}
	if n := inbox(ownerC); len(n) != 0 {
		t.Fatalf("another building was told: %v", n)
	}

	// January's order, left open into February, is overdue for the supervisor.
	e.Clock.Set(time.Date(2027, 1, 2, 8, 0, 0, 0, shanghai))
	tick()
	e.Clock.Set(time.Date(2027, 1, 5, 8, 0, 0, 0, shanghai))
	sup = e.staff(w.supervisorX, w.Password)
	sup.ok(list, map[string]any{"c": w.X.ID, "f": "OVERDUE"}, &os)
	if len(os.MaintenanceOrders.Edges) != 1 || os.MaintenanceOrders.Edges[0].Node.DueDate != "2027-01-02" || !os.MaintenanceOrders.Edges[0].Node.Overdue {
		t.Fatalf("overdue: %+v", os)
	}
}
