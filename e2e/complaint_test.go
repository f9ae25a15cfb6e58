package e2e

import (
	"encoding/json"
	"testing"
)

const complaintFields = `id status round anonymous household { id } complainant { name } photos handler { account }
  replies { text staff { account } } callbacks { round satisfied } timeline { action actor }`

type complaintView struct {
	ID, Status  string
	Round       int
	Household   *struct{ ID string }
	Complainant *struct{ Name string }
	Photos      []string
	Handler     *struct{ Account string }
	Replies     []struct{ Text string }
	Callbacks   []struct {
		Round     int
		Satisfied bool
	}
	Timeline []struct{ Action, Actor string }
}

func decodeComplaint(t testing.TB, r *gqlResponse, field string) complaintView {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]complaintView
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

// An anonymous complaint through the API: received → handling → answered →
// (not satisfied) → handling → answered → closed; the butler handles it
// without learning who complained, the supervisor may know.
func TestAnonymousComplaintLoop(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	supervisor := e.staff(w.supervisorX, w.Password)

	r := owner.multipart(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ `+complaintFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "NOISE", "severity": "HIGH", "description": "楼上每晚十二点后装修噪音", "anonymous": true, "photos": []any{nil}}},
		map[string][]byte{"variables.in.photos.0": pngBytes})
	x := decodeComplaint(t, r, "submitComplaint")
	if x.Status != "RECEIVED" || len(x.Photos) != 1 || x.Household == nil {
		t.Fatalf("submitted = %+v", x)
	}
	id := map[string]any{"id": x.ID}
	get := `query($id:ID!){ complaint(id:$id){ ` + complaintFields + ` } }`

	seen := decodeComplaint(t, butler.do(get, id), "complaint")
	if seen.Household != nil || seen.Complainant != nil {
		t.Fatalf("the butler learns who complained: %+v", seen)
	}
	for _, te := range seen.Timeline {
		if te.Actor == w.OwnerA.ID {
			t.Fatalf("the timeline names the complainant to the butler")
		}
	}
	if s := decodeComplaint(t, supervisor.do(get, id), "complaint"); s.Complainant == nil || s.Complainant.Name != w.OwnerA.Name {
		t.Fatalf("the supervisor cannot see the complainant: %+v", s)
	}
	e.staff(w.engineerX, w.Password).fails("NOT_FOUND", get, id)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", get, id)
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", get, id)

	mut := func(c *client, m, field, want string, vars map[string]any) complaintView {
		t.Helper()
		v := decodeComplaint(t, c.do(`mutation($id:ID!){ `+m+`{ `+complaintFields+` } }`, vars), field)
		if v.Status != want {
			t.Fatalf("%s: %s, want %s", field, v.Status, want)
		}
		return v
	}
	mut(butler, `acknowledgeComplaint(id:$id)`, "acknowledgeComplaint", "HANDLING", id)
	e.staff(w.supervisorX, w.Password).fails("CONFLICT", `mutation($id:ID!){ acknowledgeComplaint(id:$id){ id } }`, id)
	mut(butler, `replyComplaint(id:$id, text:"已联系装修方，晚上十点后停工")`, "replyComplaint", "ANSWERED", id)
	v := mut(butler, `recordComplaintCallback(id:$id, satisfied:false, notes:"仍有噪音")`, "recordComplaintCallback", "HANDLING", id)
	if v.Round != 2 {
		t.Fatalf("round after an unsatisfied callback = %d", v.Round)
	}
	mut(butler, `replyComplaint(id:$id, text:"已报告主管并加强巡查")`, "replyComplaint", "ANSWERED", id)
	v = mut(butler, `recordComplaintCallback(id:$id, satisfied:true)`, "recordComplaintCallback", "CLOSED", id)
	if len(v.Replies) != 2 || len(v.Callbacks) != 2 || v.Callbacks[1].Round != 2 || !v.Callbacks[1].Satisfied {
		t.Fatalf("closed = %+v", v)
	}
	owner.fails("CONFLICT", `mutation($id:ID!){ withdrawComplaint(id:$id){ id } }`, id)

	var mine struct {
		MyComplaints struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	owner.ok(`{ myComplaints { edges { node { id } } } }`, nil, &mine)
	if len(mine.MyComplaints.Edges) != 1 {
		t.Fatalf("myComplaints = %+v", mine)
	}
	var list struct {
		Complaints struct{ TotalCount int }
	}
	butler.ok(`query($c:ID!){ complaints(filter:{communityId:$c, statuses:[CLOSED]}){ totalCount } }`, map[string]any{"c": w.X.ID}, &list)
	if list.Complaints.TotalCount != 1 {
		t.Fatalf("closed complaints = %d", list.Complaints.TotalCount)
	}
	res := owner.fails("BAD_USER_INPUT", `mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "NOISE", "description": ""}})
	if res.field() != "input.description" {
		t.Errorf("empty description names %q", res.field())
	}
}
