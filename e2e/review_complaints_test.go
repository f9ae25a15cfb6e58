package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A complaint names the engineer it is about: who may name staff, which
// staff may be named, that the resident never learns it, and that it counts
// in the engineer's own review as COMPLAINTS, linking the complaint and
// nothing of who made it.
func TestComplaintNamingStaffCountsInTheirReview(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	id := func(acct string) string {
		id, _, _, err := e.App.Services.Staff.StaffCredentials(ctx, acct)
		if err != nil || id == "" {
			t.Fatal(acct, err)
		}
		return id
	}
	e.Clock.Set(time.Date(2026, 11, 10, 9, 0, 0, 0, shanghaiZone))
	owner := e.owner(w.OwnerA.Phone)
	butler, butler2 := e.staff(w.butlerX, w.Password), e.staff(w.butlerX2, w.Password)
	sup, supY, eng := e.staff(w.supervisorX, w.Password), e.staff(w.supervisorY, w.Password), e.staff(w.engineerX, w.Password)
	engID, supID, supYID, butlerID := id(w.engineerX), id(w.supervisorX), id(w.supervisorY), id(w.butlerX)

	const desc = "维修师傅上门态度恶劣，还把地板弄脏了"
	var sub struct{ SubmitComplaint struct{ ID string } }
	owner.ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "category": "STAFF_ATTITUDE", "description": desc}}, &sub)
	cid := sub.SubmitComplaint.ID
	butler.ok(`mutation($id:ID!){ acknowledgeComplaint(id:$id){ id } }`, map[string]any{"id": cid}, nil)

	type view struct {
		Version  int
		Concerns []struct{ ID, Account string }
		Timeline []struct{ Action, Actor string }
	}
	const fields = `version concerns { id account } timeline { action actor }`
	read := func(c *client) view {
		t.Helper()
		var out struct{ Complaint view }
		c.ok(`query($id:ID!){ complaint(id:$id){ `+fields+` } }`, map[string]any{"id": cid}, &out)
		return out.Complaint
	}
	set := `mutation($id:ID!,$v:Int,$s:[ID!]!,$n:String){ setComplaintConcerns(id:$id, version:$v, staffIds:$s, note:$n){ ` + fields + ` } }`
	vars := func(v any, ids ...string) map[string]any {
		if ids == nil {
			ids = []string{}
		}
		return map[string]any{"id": cid, "v": v, "s": ids, "n": "调取监控核实"}
	}
	v0 := read(sup).Version

	supY.fails("NOT_FOUND", set, vars(nil, engID))
	eng.fails("NOT_FOUND", set, vars(nil, engID))
	owner.fails("FORBIDDEN", set, vars(nil, engID))
	butler2.fails("FORBIDDEN", set, vars(nil, engID)) // a butler of the community, not the handler
	if r := sup.fails("BAD_USER_INPUT", set, vars(nil, supYID)); r.field() != "staffIds" {
		t.Errorf("staff of another community: field %q", r.field())
	}
	if r := sup.fails("BAD_USER_INPUT", set, vars(nil, engID, butlerID, supID, id(w.butlerX2), supYID, "0123456789abcdef01234567")); r.field() != "staffIds" {
		t.Errorf("six staff: field %q", r.field())
	}
	sup.fails("CONFLICT", set, vars(v0-1, engID))

	var got struct{ SetComplaintConcerns view }
	sup.ok(set, vars(v0, engID), &got)
	x := got.SetComplaintConcerns
	if len(x.Concerns) != 1 || x.Concerns[0].ID != engID || x.Version != v0+1 {
		t.Fatalf("named = %+v", x)
	}
	last := x.Timeline[len(x.Timeline)-1]
	if last.Action != "SET_CONCERNS" || last.Actor != supID {
		t.Fatalf("timeline ends with %+v", last)
	}
	// The handler may name staff too (here the same engineer again).
	var again struct{ SetComplaintConcerns view }
	butler.ok(set, vars(nil, engID, engID), &again)
	if len(again.SetComplaintConcerns.Concerns) != 1 {
		t.Fatalf("handler's naming = %+v", again.SetComplaintConcerns)
	}

	// The resident: no concerns, no naming steps, in the complaint and in
	// their list.
	mine := read(owner)
	if len(mine.Concerns) != 0 {
		t.Fatalf("the resident sees whom the complaint names: %+v", mine.Concerns)
	}
	for _, te := range mine.Timeline {
		if te.Action == "SET_CONCERNS" {
			t.Fatalf("the resident's timeline shows the naming: %+v", mine.Timeline)
		}
	}
	var list struct {
		MyComplaints struct {
			Edges []struct{ Node view }
		}
	}
	owner.ok(`{ myComplaints { edges { node { `+fields+` } } } }`, nil, &list)
	if len(list.MyComplaints.Edges) != 1 || len(list.MyComplaints.Edges[0].Node.Concerns) != 0 {
		t.Fatalf("myComplaints = %+v", list)
	}
	if v := read(butler2); len(v.Concerns) != 1 {
		t.Fatalf("a butler of the community does not see whom it names: %+v", v)
	}

	// The engineer's own review: one complaint, linking it, titled by its
	// category only.
	q := `query($c:ID!,$m:String!){ staffReviews(communityId:$c, month:$m){ staff { id account } month figures { ` + reviewFigureFields + ` } } }`
	var own struct{ StaffReviews []staffReview }
	eng.ok(q, map[string]any{"c": w.X.ID, "m": "2026-11"}, &own)
	if len(own.StaffReviews) != 1 {
		t.Fatalf("the engineer reads %d reviews", len(own.StaffReviews))
	}
	var f *reviewFigure
	for i := range own.StaffReviews[0].Figures {
		if own.StaffReviews[0].Figures[i].Key == "COMPLAINTS" {
			f = &own.StaffReviews[0].Figures[i]
		}
	}
	if f == nil || f.consistent() != nil || f.Count != 1 || f.ids() != "COMPLAINT:"+cid+":false" {
		t.Fatalf("engineer's COMPLAINTS = %+v", f)
	}
	if title := f.Items.Edges[0].Node.Title; strings.Contains(title, "地板") || strings.Contains(title, w.OwnerA.Name) || !strings.Contains(title, "服务态度") {
		t.Errorf("item title %q", title)
	}
	// Everyone else in the community has the figure, at zero.
	var every struct{ StaffReviews []staffReview }
	sup.ok(q, map[string]any{"c": w.X.ID, "m": "2026-11"}, &every)
	for _, r := range every.StaffReviews {
		n := -1
		for _, f := range r.Figures {
			if f.Key == "COMPLAINTS" {
				n = f.Count
			}
		}
		if want := map[bool]int{true: 1, false: 0}[r.Staff.ID == engID]; n != want {
			t.Errorf("%s COMPLAINTS = %d, want %d", r.Staff.Account, n, want)
		}
	}
	// Clearing the naming takes it out of the review.
	sup.ok(set, vars(nil), nil)
	eng.ok(q, map[string]any{"c": w.X.ID, "m": "2026-11"}, &own)
	for _, f := range own.StaffReviews[0].Figures {
		if f.Key == "COMPLAINTS" && f.Count != 0 {
			t.Fatalf("cleared naming still counts: %+v", f)
		}
	}
}
