package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

const workWindowsQ = `query($c:ID!){ workWindows(communityId:$c){ isDefault noticeHours updatedAt updatedBy { account } windows { days from to } } }`

const setWorkWindowsQ = `mutation($in:SetWorkWindowsInput!){ setWorkWindows(input:$in){ isDefault noticeHours updatedBy { account } windows { days from to } } }`

type workWindows struct {
	IsDefault   bool
	NoticeHours int
	UpdatedAt   *string
	UpdatedBy   *struct{ Account string }
	Windows     []struct {
		Days     []int
		From, To string
	}
}

// A community's work windows through the API: the defaults until a
// supervisor sets its own, every mistake refused naming its field, nobody
// else may set or read them; a disturbing plan then goes into the new
// windows, planning it outside them is CONFLICT naming them, and an
// emergency may go outside.
func TestWorkWindowsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// Monday 2026-11-30, 08:00 in Shanghai.
	e.Clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, shanghai))
	sup, eng, supY := e.staff(w.supervisorX, w.Password), e.staff(w.engineerX, w.Password), e.staff(w.supervisorY, w.Password)
	vars := map[string]any{"c": w.X.ID}

	var got struct{ WorkWindows workWindows }
	eng.ok(workWindowsQ, vars, &got)
	if ww := got.WorkWindows; !ww.IsDefault || ww.NoticeHours != 24 || ww.UpdatedAt != nil || len(ww.Windows) != 2 ||
		ww.Windows[0].From != "09:00" || ww.Windows[0].To != "11:30" || ww.Windows[1].From != "14:00" || len(ww.Windows[1].Days) != 5 {
		t.Fatalf("defaults: %+v", ww)
	}
	supY.fails("NOT_FOUND", workWindowsQ, vars)
	e.staff(w.butlerX, w.Password).fails("NOT_FOUND", workWindowsQ, vars)

	set := func(windows []map[string]any, notice int) map[string]any {
		return map[string]any{"in": map[string]any{"communityId": w.X.ID, "windows": windows, "noticeHours": notice}}
	}
	weekend := []map[string]any{{"days": []int{7, 6, 6}, "from": "10:00", "to": "16:00"}}
	eng.fails("NOT_FOUND", setWorkWindowsQ, set(weekend, 48))
	supY.fails("NOT_FOUND", setWorkWindowsQ, set(weekend, 48))
	for _, c := range []struct {
		windows []map[string]any
		notice  int
		field   string
	}{
		{[]map[string]any{{"days": []int{1}, "from": "9:00", "to": "11:00"}}, 24, "input.windows.0.from"},
		{[]map[string]any{{"days": []int{1}, "from": "09:00", "to": "24:00"}}, 24, "input.windows.0.to"},
		{[]map[string]any{{"days": []int{1}, "from": "12:00", "to": "11:00"}}, 24, "input.windows.0.to"},
		{[]map[string]any{{"days": []int{}, "from": "09:00", "to": "11:00"}}, 24, "input.windows.0.days"},
		{[]map[string]any{{"days": []int{8}, "from": "09:00", "to": "11:00"}}, 24, "input.windows.0.days"},
		{[]map[string]any{{"days": []int{1, 2}, "from": "09:00", "to": "11:00"}, {"days": []int{2}, "from": "10:30", "to": "12:00"}}, 24, "input.windows.1"},
		{[]map[string]any{}, 24, "input.windows"},
		{weekend, 0, "input.noticeHours"},
	} {
		r := sup.fails("BAD_USER_INPUT", setWorkWindowsQ, set(c.windows, c.notice))
		if r.field() != c.field {
			t.Errorf("%v: field %q, want %q (%s)", c.windows, r.field(), c.field, r.Errors[0].Message)
		}
	}
	// Back to back on a day is not an overlap.
	sup.ok(setWorkWindowsQ, set([]map[string]any{{"days": []int{1}, "from": "09:00", "to": "10:00"}, {"days": []int{1}, "from": "10:00", "to": "11:00"}}, 24), nil)
	var put struct{ SetWorkWindows workWindows }
	sup.ok(setWorkWindowsQ, set(weekend, 48), &put)
	if ww := put.SetWorkWindows; ww.IsDefault || ww.NoticeHours != 48 || ww.UpdatedBy == nil || ww.UpdatedBy.Account != w.supervisorX ||
		len(ww.Windows) != 1 || len(ww.Windows[0].Days) != 2 || ww.Windows[0].Days[0] != 6 {
		t.Fatalf("set: %+v", ww)
	}
	eng.ok(workWindowsQ, vars, &got)
	if got.WorkWindows.IsDefault || got.WorkWindows.UpdatedAt == nil {
		t.Fatalf("read back: %+v", got.WorkWindows)
	}

	// A pump plan that cuts the water, due on Wednesday: raised into
	// Saturday's window, the notice two days ahead.
	var eq struct{ RegisterEquipment struct{ ID string } }
	sup.ok(`mutation($in:RegisterEquipmentInput!){ registerEquipment(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "kind": "WATER_PUMP", "name": "1号生活水泵", "area": "水泵房", "serves": []string{w.XB1.ID}}}, &eq)
	sup.ok(`mutation($in:MaintenancePlanInput!){ upsertMaintenancePlan(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"equipmentId": eq.RegisterEquipment.ID, "title": "水泵月度保养", "every": 1, "unit": "MONTH", "start": "2026-12-02",
		"checklist": []string{"检查密封", "测试主备切换"}, "disturbs": []string{"WATER_OFF"}, "minutes": 60, "active": true}}, nil)
	if err := e.App.Services.Facilities.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	var os struct {
		MaintenanceOrders struct {
			Edges []struct {
				Node struct{ ID, Kind, ScheduledAt string }
			}
		}
	}
	eng.ok(`query($c:ID!){ maintenanceOrders(communityId:$c){ edges { node { id kind scheduledAt } } } }`, vars, &os)
	if len(os.MaintenanceOrders.Edges) != 1 || os.MaintenanceOrders.Edges[0].Node.Kind != "PLANNED" {
		t.Fatalf("orders: %+v", os)
	}
	o := os.MaintenanceOrders.Edges[0].Node
	if at, _ := time.Parse(time.RFC3339, o.ScheduledAt); !at.Equal(time.Date(2026, 12, 5, 10, 0, 0, 0, shanghai)) {
		t.Fatalf("scheduled at %s, want Saturday's window", o.ScheduledAt)
	}
	sched := `mutation($id:ID!,$at:Time!,$em:Boolean){ scheduleMaintenance(id:$id, at:$at, emergency:$em){ id scheduledAt emergency } }`
	wednesday := time.Date(2026, 12, 2, 14, 0, 0, 0, shanghai).Format(time.RFC3339)
	r := sup.fails("CONFLICT", sched, map[string]any{"id": o.ID, "at": wednesday})
	if !strings.Contains(r.Errors[0].Message, "周六、周日 10:00–16:00") {
		t.Errorf("conflict %q does not name the windows", r.Errors[0].Message)
	}
	supY.fails("NOT_FOUND", sched, map[string]any{"id": o.ID, "at": wednesday, "em": true})
	var em struct{ ScheduleMaintenance struct{ Emergency bool } }
	sup.ok(sched, map[string]any{"id": o.ID, "at": wednesday, "em": true}, &em)
	if !em.ScheduleMaintenance.Emergency {
		t.Fatalf("emergency: %+v", em)
	}
	sup.ok(sched, map[string]any{"id": o.ID, "at": time.Date(2026, 12, 6, 15, 0, 0, 0, shanghai).Format(time.RFC3339)}, nil)
}
