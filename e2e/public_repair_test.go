package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/identity"
	"qinqing/internal/staff"
)

const publicRepairQ = `query($c:ID!,$b:ID){ publicRepairs(communityId:$c, buildingId:$b, first:20){
  edges { node { id status reportedByMe area { building { id } floor kind place } progress { action status } } } } }`

type publicRepairList struct {
	PublicRepairs struct {
		Edges []struct {
			Node struct {
				ID, Status   string
				ReportedByMe bool
				Area         struct {
					Building    *struct{ ID string }
					Floor       *int
					Kind, Place string
				}
				Progress []struct{ Action, Status string }
			}
		}
	}
}

func (l publicRepairList) ids() []string {
	var out []string
	for _, e := range l.PublicRepairs.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

const submitPublicQ = `mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ id status household { id } reporter { id } publicArea { building { id } floor kind place } } }`

func publicInput(communityID, buildingID, kind, place, desc string) map[string]any {
	area := map[string]any{"communityId": communityID, "kind": kind, "place": place}
	if buildingID != "" {
		area["buildingId"] = buildingID
		area["floor"] = 1
	}
	return map[string]any{"in": map[string]any{"publicArea": area, "category": "PUBLIC_AREA", "description": desc}}
}

// A lift fault in building 1, found by a cleaner: filed without a household,
// taken, dispatched and worked like any repair, signed off by the
// supervisor (which closes it: nobody to call back), and followed by a
// resident of the building in the list and live. Residents of the other
// building and of the other community, and staff of the other community,
// neither see nor file it.
func TestPublicAreaRepairFiledByCleaner(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Services.Staff.Upsert(context.Background(), &staff.Staff{Account: "x.cleaner", Name: "保洁刘阿姨", PasswordHash: hash,
		Roles: []access.Role{access.Cleaner}, CommunityIDs: []string{w.X.ID}}); err != nil {
		t.Fatal(err)
	}
	cleaner := e.staff("x.cleaner", w.Password)
	butler := e.staff(w.butlerX, w.Password)
	eng := e.staff(w.engineerX, w.Password)
	sup := e.staff(w.supervisorX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)
	ownerA := e.owner(w.OwnerA.Phone) // lives in building 1
	ownerC := e.owner("13900000003")  // building 2 of the same community
	ownerY := e.owner(w.OwnerY.Phone) // the other community

	// Resident of building 1 follows its public faults live from before the report.
	sub, err := dialWS(t, e, ownerA.token)
	if err != nil {
		t.Fatal(err)
	}
	const liveQ = `subscription($c:ID!,$b:ID){ publicRepairUpdated(communityId:$c, buildingId:$b){ type at repair { id status } } }`
	sub.subscribe("1", liveQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID})

	var filed struct {
		SubmitRepairRequest struct {
			ID, Status string
			Household  *struct{ ID string }
			Reporter   *struct{ ID string }
			PublicArea struct {
				Building    struct{ ID string }
				Floor       int
				Kind, Place string
			}
		}
	}
	cleaner.ok(submitPublicQ, publicInput(w.X.ID, w.XB1.ID, "LIFT", "1栋1单元电梯", "电梯按钮失灵，3楼按了不亮"), &filed)
	req := filed.SubmitRepairRequest
	if req.Status != "SUBMITTED" || req.Household != nil || req.Reporter != nil || req.PublicArea.Kind != "LIFT" ||
		req.PublicArea.Building.ID != w.XB1.ID || req.PublicArea.Floor != 1 {
		t.Fatalf("filed = %+v", req)
	}
	// Staff of another community may not file here.
	supY.fails("FORBIDDEN", submitPublicQ, publicInput(w.X.ID, w.XB1.ID, "LIFT", "1栋电梯", "电梯异响"))

	id := map[string]any{"id": req.ID}
	step := func(c *client, q string, vars map[string]any, want string) {
		t.Helper()
		var out map[string]struct{ Status string }
		c.ok(q, vars, &out)
		for _, v := range out {
			if v.Status != want {
				t.Fatalf("%s: status %s, want %s", q, v.Status, want)
			}
		}
	}
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	step(butler, `mutation($id:ID!){ takeRepairRequest(id:$id){ status } }`, id, "TAKEN")
	step(butler, `mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ status } }`,
		map[string]any{"id": req.ID, "e": engs.Engineers[0].Engineer.ID}, "DISPATCHED")
	step(eng, `mutation($id:ID!){ acceptWorkOrder(id:$id){ status } }`, id, "ACCEPTED")
	step(eng, `mutation($id:ID!){ startWork(id:$id){ status } }`, id, "IN_PROGRESS")
	step(eng, `mutation($id:ID!){ completeWork(id:$id, input:{paid:false, notes:"更换3楼按钮，师傅手机13800000000"}){ status } }`, id, "COMPLETED")

	// The supervisor signs off, not a resident and not the butler.
	confirm := `mutation($id:ID!,$s:Upload!){ confirmRepair(id:$id, signature:$s, rating:5){ status acceptances { person { id } staff { account } rating } } }`
	if r := ownerA.multipart(confirm, map[string]any{"id": req.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}); r.code() != "NOT_FOUND" {
		t.Fatalf("resident signing: %+v", r.Errors)
	}
	if r := butler.multipart(confirm, map[string]any{"id": req.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}); r.code() != "FORBIDDEN" {
		t.Fatalf("butler signing: %+v", r.Errors)
	}
	r := sup.multipart(confirm, map[string]any{"id": req.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes})
	var signed struct {
		ConfirmRepair struct {
			Status      string
			Acceptances []struct {
				Person *struct{ ID string }
				Staff  struct{ Account string }
				Rating int
			}
		}
	}
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &signed) != nil {
		t.Fatalf("supervisor signing: %+v", r.Errors)
	}
	if s := signed.ConfirmRepair; s.Status != "CLOSED" || len(s.Acceptances) != 1 || s.Acceptances[0].Person != nil || s.Acceptances[0].Staff.Account != w.supervisorX {
		t.Fatalf("signed off = %+v", s)
	}

	// The resident of building 1 follows it: statuses and steps, nothing else.
	var list publicRepairList
	ownerA.ok(publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &list)
	if len(list.PublicRepairs.Edges) != 1 {
		t.Fatalf("building 1's public repairs = %+v", list)
	}
	n := list.PublicRepairs.Edges[0].Node
	last := n.Progress[len(n.Progress)-1]
	if n.ID != req.ID || n.Status != "CLOSED" || n.ReportedByMe || n.Area.Kind != "LIFT" || len(n.Progress) != 7 || last.Action != "SIGN_OFF_CLOSE" || last.Status != "CLOSED" {
		t.Fatalf("followed = %+v", n)
	}
	// The staff view (notes, staff phones) stays closed to residents.
	ownerA.fails("NOT_FOUND", `query($id:ID!){ repairRequest(id:$id){ id } }`, id)
	var mine struct {
		MyRepairRequests struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	ownerA.ok(`{ myRepairRequests { edges { node { id } } } }`, nil, &mine)
	if len(mine.MyRepairRequests.Edges) != 0 {
		t.Fatalf("a public repair among the resident's own: %+v", mine)
	}

	// One live update reached the follower.
	m, err := sub.read(15 * time.Second)
	if err != nil {
		t.Fatalf("no live update: %v", err)
	}
	var next struct {
		Data struct {
			PublicRepairUpdated struct {
				Type   string
				Repair struct{ ID, Status string }
			}
		}
	}
	_ = json.Unmarshal(m.Payload, &next)
	if m.Type != "next" || next.Data.PublicRepairUpdated.Repair.ID != req.ID {
		t.Fatalf("live update = %s %s", m.Type, m.Payload)
	}

	// Building 2's resident, the other community's resident and its staff
	// cannot follow building 1; building 2's own list does not show it.
	ownerC.fails("FORBIDDEN", publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID})
	ownerY.fails("FORBIDDEN", publicRepairQ, map[string]any{"c": w.X.ID})
	supY.fails("FORBIDDEN", publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID})
	ownerY.fails("NOT_FOUND", `query($id:ID!){ repairRequest(id:$id){ id } }`, id)
	var b2 publicRepairList
	ownerC.ok(publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB2.ID}, &b2)
	if len(b2.ids()) != 0 {
		t.Fatalf("building 2 sees %v", b2.ids())
	}
	for _, c := range []*client{ownerC, ownerY} {
		ws, err := dialWS(t, e, c.token)
		if err != nil {
			t.Fatal(err)
		}
		ws.subscribe("1", liveQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID})
		m, err := ws.read(10 * time.Second)
		var refused struct {
			Errors []struct{ Extensions struct{ Code string } }
		}
		_ = json.Unmarshal(m.Payload, &refused)
		if err != nil || len(refused.Errors) != 1 || refused.Errors[0].Extensions.Code != "FORBIDDEN" {
			t.Fatalf("an outsider's subscription: %s %s %v", m.Type, m.Payload, err)
		}
	}

	// The staff queue and its counts include it; the building filter works.
	var q struct {
		WorkOrders struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	butler.ok(`query($f:WorkOrderFilter){ workOrders(filter:$f){ edges { node { id } } } }`, map[string]any{"f": map[string]any{"communityId": w.X.ID, "buildingId": w.XB1.ID}}, &q)
	if len(q.WorkOrders.Edges) != 1 || q.WorkOrders.Edges[0].Node.ID != req.ID {
		t.Fatalf("building 1's queue = %+v", q)
	}
	butler.ok(`query($f:WorkOrderFilter){ workOrders(filter:$f){ edges { node { id } } } }`, map[string]any{"f": map[string]any{"communityId": w.X.ID, "buildingId": w.XB2.ID}}, &q)
	if len(q.WorkOrders.Edges) != 0 {
		t.Fatalf("building 2's queue = %+v", q)
	}
	var counts struct {
		WorkOrderCounts struct {
			ByStatus []struct {
				Status string
				Count  int
			}
		}
	}
	butler.ok(`query($c:ID!){ workOrderCounts(communityId:$c){ byStatus { status count } } }`, map[string]any{"c": w.X.ID}, &counts)
	for _, s := range counts.WorkOrderCounts.ByStatus {
		if s.Status == "CLOSED" && s.Count != 1 {
			t.Fatalf("counts = %+v", counts)
		}
	}
}

// A resident reports a fault in their own building's corridor: it waits,
// after the supervisor's sign-off, for a callback to that resident, who
// hears of its progress; a neighbour follows it without being told. A
// report names a household or a public place, never both nor neither.
func TestResidentReportsPublicAreaRepair(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	ownerB := e.owner(w.OwnerB.Phone) // same building
	ownerY := e.owner(w.OwnerY.Phone)
	butler := e.staff(w.butlerX, w.Password)
	eng := e.staff(w.engineerX, w.Password)
	sup := e.staff(w.supervisorX, w.Password)

	// Validation names the field.
	both := publicInput(w.X.ID, w.XB1.ID, "CORRIDOR", "1栋3楼走廊", "走廊灯不亮")
	both["in"].(map[string]any)["householdId"] = w.HA.ID
	if r := ownerA.fails("BAD_USER_INPUT", submitPublicQ, both); r.field() != "input.publicArea" {
		t.Fatalf("both: field %q", r.field())
	}
	neither := map[string]any{"in": map[string]any{"category": "PUBLIC_AREA", "description": "走廊灯不亮"}}
	if r := ownerA.fails("BAD_USER_INPUT", submitPublicQ, neither); r.field() != "input.householdId" {
		t.Fatalf("neither: field %q", r.field())
	}
	if r := ownerA.fails("NOT_FOUND", submitPublicQ, publicInput(w.X.ID, w.YB1.ID, "CORRIDOR", "走廊", "走廊灯不亮")); r.field() != "input.publicArea.buildingId" {
		t.Fatalf("another community's building: field %q", r.field())
	}
	if r := ownerA.fails("BAD_USER_INPUT", submitPublicQ, publicInput(w.X.ID, w.XB1.ID, "CORRIDOR", " ", "走廊灯不亮")); r.field() != "input.publicArea.place" {
		t.Fatalf("no place: field %q", r.field())
	}
	ownerY.fails("NOT_FOUND", submitPublicQ, publicInput(w.X.ID, w.XB1.ID, "CORRIDOR", "1栋3楼走廊", "走廊灯不亮"))

	var filed struct {
		SubmitRepairRequest struct {
			ID       string
			Reporter *struct{ ID string }
		}
	}
	in := publicInput(w.X.ID, w.XB1.ID, "CORRIDOR", "1栋3楼走廊", "走廊灯不亮")
	in["in"].(map[string]any)["photos"] = []any{nil}
	r := ownerA.multipart(submitPublicQ, in, map[string][]byte{"variables.in.photos.0": pngBytes})
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &filed) != nil {
		t.Fatalf("resident's report: %+v", r.Errors)
	}
	req := filed.SubmitRepairRequest
	if req.Reporter == nil || req.Reporter.ID != w.OwnerA.ID {
		t.Fatalf("filed = %+v", req)
	}
	id := map[string]any{"id": req.ID}
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ status } }`, id, nil)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ status } }`, map[string]any{"id": req.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	eng.ok(`mutation($id:ID!){ acceptWorkOrder(id:$id){ status } }`, id, nil)
	eng.ok(`mutation($id:ID!){ startWork(id:$id){ status } }`, id, nil)
	eng.ok(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false}){ status } }`, id, nil)
	r = sup.multipart(`mutation($id:ID!,$s:Upload!){ confirmRepair(id:$id, signature:$s){ status } }`, map[string]any{"id": req.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes})
	if len(r.Errors) > 0 || string(r.Data) != `{"confirmRepair":{"status":"CONFIRMED"}}` {
		t.Fatalf("sign-off: %s %+v", r.Data, r.Errors)
	}
	// The butler's task list owes the callback, with no household.
	var tasks struct {
		ButlerTasks struct {
			Edges []struct {
				Node struct {
					Kind      string
					Household *struct{ ID string }
				}
			}
		}
	}
	butler.ok(`{ butlerTasks { edges { node { kind household { id } } } } }`, nil, &tasks)
	if len(tasks.ButlerTasks.Edges) != 1 || tasks.ButlerTasks.Edges[0].Node.Kind != "REPAIR_CALLBACK" || tasks.ButlerTasks.Edges[0].Node.Household != nil {
		t.Fatalf("butler tasks = %+v", tasks)
	}
	butler.ok(`mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:true){ status } }`, id, nil)

	var list publicRepairList
	ownerB.ok(publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &list)
	if len(list.PublicRepairs.Edges) != 1 || list.PublicRepairs.Edges[0].Node.ReportedByMe || list.PublicRepairs.Edges[0].Node.Status != "CLOSED" {
		t.Fatalf("the neighbour's list = %+v", list)
	}
	ownerA.ok(publicRepairQ, map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &list)
	if !list.PublicRepairs.Edges[0].Node.ReportedByMe {
		t.Fatalf("the reporter's list = %+v", list)
	}
	// The reported photo reaches a neighbour who follows the building, also
	// with a token alone; not a resident of the other building.
	var photos struct {
		PublicRepairs struct {
			Edges []struct{ Node struct{ Photos []string } }
		}
	}
	ownerB.ok(`query($c:ID!,$b:ID){ publicRepairs(communityId:$c, buildingId:$b){ edges { node { photos } } } }`, map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &photos)
	if len(photos.PublicRepairs.Edges) != 1 || len(photos.PublicRepairs.Edges[0].Node.Photos) != 1 {
		t.Fatalf("photos = %+v", photos)
	}
	url := photos.PublicRepairs.Edges[0].Node.Photos[0]
	if status, _, body := ownerB.get(url); status != 200 || !bytes.Equal(body, pngBytes) {
		t.Fatalf("the neighbour's photo: %d", status)
	}
	if status, _, _ := e.owner("13900000003").get(url); status != 404 {
		t.Fatalf("building 2's resident fetched the photo: %d", status)
	}

	// The reporter hears every step up to the closing callback; the neighbour nothing.
	about := func(c *client) (n int, closed bool) {
		for _, ed := range c.inbox().Notifications.Edges {
			for _, d := range ed.Node.Data {
				if d.Key == "repairRequestId" && d.Value == req.ID {
					n++
					closed = closed || ed.Node.Title == "报修进度：已办结"
				}
			}
		}
		return n, closed
	}
	waitFor(t, "the reporter's progress notices", func() bool { n, closed := about(ownerA); return n >= 6 && closed })
	if n, _ := about(ownerB); n != 0 {
		t.Fatalf("the neighbour got %d notices", n)
	}
}

// An elderly resident rings the hotline about the lobby door: the front desk
// files the public-area fault by PHONE naming her, so she is its reporter
// and hears of it by SMS (she has no app); naming someone who does not live
// in the community, or the APP channel, is refused on the intake's field. A
// resident reporting through the mini program records the WECHAT channel.
func TestFrontDeskFilesPublicFaultForTheCaller(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	desk := e.staffWithRole(w, "x.desk", access.CustomerService)
	butler := e.staff(w.butlerX, w.Password)
	submit := `mutation($in:SubmitRepairRequestInput!,$i:IntakeInput){ submitRepairRequest(input:$in, intake:$i){ id reporter { id } intake { channel filedBy { account } } } }`
	lobby := publicInput(w.X.ID, w.XB1.ID, "LOBBY", "1栋大堂", "大堂门禁门关不上")
	with := func(i map[string]any) map[string]any { return map[string]any{"in": lobby["in"], "i": i} }

	if r := desk.fails("BAD_USER_INPUT", submit, with(map[string]any{"channel": "PHONE", "personId": w.OwnerY.ID})); r.field() != "intake.personId" {
		t.Fatalf("a resident of the other community: field %q", r.field())
	}
	if r := desk.fails("BAD_USER_INPUT", submit, with(map[string]any{"channel": "APP", "personId": w.OwnerA.ID})); r.field() != "intake.channel" {
		t.Fatalf("APP by staff: field %q", r.field())
	}
	type filed struct {
		SubmitRepairRequest struct {
			ID       string
			Reporter *struct{ ID string }
			Intake   *struct {
				Channel string
				FiledBy *struct{ Account string }
			}
		}
	}
	var out filed
	desk.ok(submit, with(map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}), &out)
	r := out.SubmitRepairRequest
	if r.Reporter == nil || r.Reporter.ID != w.OwnerA.ID || r.Intake == nil || r.Intake.Channel != "PHONE" || r.Intake.FiledBy == nil || r.Intake.FiledBy.Account != "x.desk" {
		t.Fatalf("filed = %+v", r)
	}
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, map[string]any{"id": r.ID}, nil)
	waitFor(t, "the caller's SMS", func() bool {
		for _, m := range e.SMS.texts(w.OwnerA.Phone) {
			if strings.Contains(m, "报修进度：已受理") {
				return true
			}
		}
		return false
	})

	var mine filed
	e.owner(w.OwnerB.Phone).ok(submit, with(map[string]any{"channel": "WECHAT"}), &mine)
	if m := mine.SubmitRepairRequest; m.Reporter == nil || m.Reporter.ID != w.OwnerB.ID || m.Intake == nil || m.Intake.Channel != "WECHAT" || m.Intake.FiledBy != nil {
		t.Fatalf("the resident's own report = %+v", m)
	}
}
