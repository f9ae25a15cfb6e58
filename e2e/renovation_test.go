package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

const renovationFields = `id status startDate endDate scopeTags violationCount cleaningOrderId cleaningOrderPending
  workers { name phone idCardNo }
  documents { agreement { provided photoUrl } fireSafetyPledge { provided } waterproofingTest { provided } }
  reviews { approved reasons reviewer { account } }
  inspections { result violationType description photos inspector { account } }
  timeline { action from to }`

type renovationView struct {
	ID, Status, StartDate, EndDate string
	ScopeTags                      []string
	ViolationCount                 int
	CleaningOrderID                *string
	CleaningOrderPending           bool
	Workers                        []struct{ Name, Phone, IDCardNo string }
	Documents                      struct {
		Agreement struct {
			Provided bool
			PhotoURL *string
		}
	}
	Reviews []struct {
		Approved bool
		Reasons  []string
		Reviewer struct{ Account string }
	}
	Inspections []struct {
		Result, ViolationType, Description string
		Photos                             []string
		Inspector                          struct{ Account string }
	}
	Timeline []struct{ Action, From, To string }
}

func renovationOf(t *testing.T, r *gqlResponse, field string) renovationView {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]renovationView
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

// renovationApplication is a complete application (the agreement's photo is
// sent as a file part) starting the day after the test clock's date.
func renovationApplication() map[string]any {
	return map[string]any{
		"company":   map[string]any{"name": "安居装饰", "contact": "刘经理", "phone": "13800000009"},
		"workers":   []any{map[string]any{"name": "张师傅", "phone": "13800000010", "idCardNo": "11010519491231002X"}},
		"startDate": "2026-11-23", "endDate": "2027-01-20",
		"scope": "厨卫翻新、改水电", "scopeTags": []string{"KITCHEN_BATH", "PLUMBING_ELECTRICAL"},
		"documents": map[string]any{
			"agreement":         map[string]any{"provided": true, "photo": nil},
			"fireSafetyPledge":  map[string]any{"provided": true},
			"waterproofingTest": map[string]any{"provided": true},
		},
	}
}

func renoInboxTitles(c *client) string {
	var titles []string
	for _, e := range c.inbox().Notifications.Edges {
		titles = append(titles, e.Node.Title)
	}
	return strings.Join(titles, "|")
}

// apply → return with reasons → resubmit → approve → an inspection with a
// violation photo (the owner is told each time) → complete, with the free
// cleaning recorded as pending (no orders service on this branch).
func TestRenovationThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	sup := e.staff(w.supervisorX, w.Password)
	engineer := e.staff(w.engineerX, w.Password)
	butler := e.staff(w.butlerX, w.Password)

	apply := `mutation($h:ID!,$in:RenovationApplicationInput!){ applyRenovation(householdId:$h, input:$in){ ` + renovationFields + ` } }`
	v := renovationOf(t, owner.multipart(apply, map[string]any{"h": w.HA.ID, "in": renovationApplication()},
		map[string][]byte{"variables.in.documents.agreement.photo": pngBytes}), "applyRenovation")
	if v.Status != "SUBMITTED" || v.Documents.Agreement.PhotoURL == nil || len(v.Workers) != 1 || v.Workers[0].IDCardNo != "11010519491231002X" {
		t.Fatalf("applied: %+v", v)
	}
	if code, _, _ := owner.get(*v.Documents.Agreement.PhotoURL); code != 200 {
		t.Errorf("owner fetches the agreement photo: %d", code)
	}

	review := `mutation($id:ID!,$d:RenovationDecision!,$r:[String!]){ reviewRenovation(id:$id, decision:$d, reasons:$r){ ` + renovationFields + ` } }`
	v = renovationOf(t, sup.do(review, map[string]any{"id": v.ID, "d": "RETURN", "r": []string{"缺少物业装修押金收据", "防水范围未注明"}}), "reviewRenovation")
	if v.Status != "RETURNED" || len(v.Reviews) != 1 || v.Reviews[0].Approved || len(v.Reviews[0].Reasons) != 2 || v.Reviews[0].Reviewer.Account != w.supervisorX {
		t.Fatalf("returned: %+v", v)
	}
	sup.fails("CONFLICT", review, map[string]any{"id": v.ID, "d": "APPROVE"})

	in := renovationApplication()
	in["scope"] = "厨卫翻新、改水电，卫生间做防水"
	delete(in["documents"].(map[string]any)["agreement"].(map[string]any), "photo")
	v = renovationOf(t, owner.do(`mutation($id:ID!,$in:RenovationApplicationInput!){ resubmitRenovation(id:$id, input:$in){ `+renovationFields+` } }`,
		map[string]any{"id": v.ID, "in": in}), "resubmitRenovation")
	if v.Status != "SUBMITTED" || v.Documents.Agreement.PhotoURL == nil {
		t.Fatalf("resubmitted (keeping the photo): %+v", v)
	}
	v = renovationOf(t, sup.do(review, map[string]any{"id": v.ID, "d": "APPROVE"}), "reviewRenovation")
	if v.Status != "APPROVED" {
		t.Fatalf("approved: %+v", v)
	}

	inspect := `mutation($id:ID!,$in:RenovationInspectionInput!){ recordRenovationInspection(id:$id, input:$in){ ` + renovationFields + ` } }`
	v = renovationOf(t, engineer.multipart(inspect, map[string]any{"id": v.ID, "in": map[string]any{
		"result": "VIOLATION", "violationType": "DEBRIS", "description": "楼道堆放建筑垃圾", "photos": []any{nil}}},
		map[string][]byte{"variables.in.photos.0": pngBytes}), "recordRenovationInspection")
	if v.Status != "IN_PROGRESS" || v.ViolationCount != 1 || len(v.Inspections) != 1 || len(v.Inspections[0].Photos) != 1 ||
		v.Inspections[0].Inspector.Account != w.engineerX {
		t.Fatalf("inspected: %+v", v)
	}
	photo := v.Inspections[0].Photos[0]
	if code, _, _ := owner.get(photo); code != 200 {
		t.Errorf("owner fetches the violation photo: %d", code)
	}
	for name, c := range map[string]*client{"neighbour": e.owner(w.OwnerB.Phone), "supervisor of Y": e.staff(w.supervisorY, w.Password)} {
		if code, _, _ := c.get(photo); code != 404 {
			t.Errorf("%s fetches the violation photo: %d", name, code)
		}
	}
	// The owner heard of the return, the approval and the violation.
	titles := renoInboxTitles(owner)
	for _, want := range []string{"装修申请被退回", "装修申请已通过", "装修巡查：发现违规"} {
		if !strings.Contains(titles, want) {
			t.Errorf("owner's inbox lacks %q: %s", want, titles)
		}
	}

	v = renovationOf(t, butler.do(`mutation($id:ID!){ completeRenovation(id:$id, note:"竣工验收合格"){ `+renovationFields+` } }`, map[string]any{"id": v.ID}), "completeRenovation")
	if v.Status != "COMPLETED" || v.CleaningOrderPending || v.CleaningOrderID == nil {
		t.Fatalf("completed: %+v", v)
	}
	var actions []string
	for _, s := range v.Timeline {
		actions = append(actions, s.Action)
	}
	if got := strings.Join(actions, ","); got != "APPLY,RETURN,RESUBMIT,APPROVE,INSPECT,COMPLETE,CLEANING_ORDERED" {
		t.Errorf("timeline: %s", got)
	}
	// The company's free cleaning is on the household's own order list.
	var mine struct {
		MyServiceOrders struct {
			Edges []struct {
				Node struct {
					ID, Status string
					Line       struct {
						Category string
						PriceFen int
						Free     bool
					}
					Charges struct{ TotalFen int }
					Payment struct{ Status string }
				}
			}
		}
	}
	owner.ok(`query($h:ID){ myServiceOrders(householdId:$h, first:10){ edges { node { id status line { category priceFen free } charges { totalFen } payment { status } } } } }`,
		map[string]any{"h": w.HA.ID}, &mine)
	if es := mine.MyServiceOrders.Edges; len(es) != 1 || es[0].Node.ID != *v.CleaningOrderID || es[0].Node.Status != "BOOKED" ||
		es[0].Node.Line.Category != "HOME_CLEANING" || !es[0].Node.Line.Free || es[0].Node.Charges.TotalFen != 0 || es[0].Node.Payment.Status != "FREE" {
		t.Fatalf("the owner's orders after the renovation: %+v", es)
	}
	if !strings.Contains(renoInboxTitles(owner), "装修已完工") {
		t.Error("owner not told of the completion")
	}
	var list struct {
		Renovations struct {
			Edges      []struct{ Node struct{ ID, Status string } }
			TotalCount int
		}
	}
	butler.ok(`query($c:ID!){ renovations(communityId:$c, status:COMPLETED){ edges { node { id status } } totalCount } }`, map[string]any{"c": w.X.ID}, &list)
	if list.Renovations.TotalCount != 1 || list.Renovations.Edges[0].Node.ID != v.ID {
		t.Errorf("community list: %+v", list)
	}
	owner.ok(`{ renovations { edges { node { id status } } totalCount } }`, nil, &list)
	if len(list.Renovations.Edges) != 1 || list.Renovations.TotalCount != 1 {
		t.Errorf("owner's own list: %+v", list)
	}
}

// Owners act only for their own household; only supervisors review; staff
// of another community see nothing.
func TestRenovationPermissions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	ownerB := e.owner(w.OwnerB.Phone)
	butler := e.staff(w.butlerX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)
	apply := `mutation($h:ID!,$in:RenovationApplicationInput!){ applyRenovation(householdId:$h, input:$in){ id } }`
	in := renovationApplication()
	delete(in["documents"].(map[string]any)["agreement"].(map[string]any), "photo")

	ownerB.fails("NOT_FOUND", apply, map[string]any{"h": w.HA.ID, "in": in})
	var out struct{ ApplyRenovation struct{ ID string } }
	ownerA.ok(apply, map[string]any{"h": w.HA.ID, "in": in}, &out)
	id := out.ApplyRenovation.ID

	review := `mutation($id:ID!){ reviewRenovation(id:$id, decision:APPROVE){ id status } }`
	butler.fails("FORBIDDEN", review, map[string]any{"id": id})
	ownerA.fails("FORBIDDEN", review, map[string]any{"id": id})
	supY.fails("NOT_FOUND", review, map[string]any{"id": id})
	supY.fails("NOT_FOUND", `query($id:ID!){ renovation(id:$id){ id } }`, map[string]any{"id": id})
	supY.fails("FORBIDDEN", `query($c:ID!){ renovations(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", `query($h:ID!){ renovations(householdId:$h){ totalCount } }`, map[string]any{"h": w.HA.ID})
	supY.fails("NOT_FOUND", `mutation($id:ID!){ recordRenovationInspection(id:$id, input:{result:OK}){ id } }`, map[string]any{"id": id})
	ownerB.fails("NOT_FOUND", `query($id:ID!){ renovation(id:$id){ id } }`, map[string]any{"id": id})
	var mine struct {
		Renovations struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	ownerB.ok(`{ renovations { edges { node { id } } } }`, nil, &mine)
	if len(mine.Renovations.Edges) != 0 {
		t.Errorf("neighbour's own list shows %d", len(mine.Renovations.Edges))
	}
	// Staff of the community read the workers' details; the owner too.
	var got struct {
		Renovation struct {
			Workers []struct{ IDCardNo string }
		}
	}
	butler.ok(`query($id:ID!){ renovation(id:$id){ workers { idCardNo } } }`, map[string]any{"id": id}, &got)
	if len(got.Renovation.Workers) != 1 || got.Renovation.Workers[0].IDCardNo == "" {
		t.Errorf("butler reads workers: %+v", got)
	}
	// Returning needs a reason, named as the field.
	sup := e.staff(w.supervisorX, w.Password)
	r := sup.fails("BAD_USER_INPUT", `mutation($id:ID!){ reviewRenovation(id:$id, decision:RETURN){ id } }`, map[string]any{"id": id})
	if r.field() != "reasons" {
		t.Errorf("field %q", r.field())
	}
}
