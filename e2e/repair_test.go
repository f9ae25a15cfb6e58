package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// multipart sends a GraphQL multipart request with files bound to variable
// paths (e.g. "variables.input.photos.0").
func (c *client) multipart(query string, vars map[string]any, parts map[string][]byte) *gqlResponse {
	c.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = mw.WriteField("operations", string(ops))
	m := map[string][]string{}
	i := 0
	names := []string{}
	for path := range parts {
		names = append(names, path)
	}
	for _, path := range names {
		m[fmt.Sprint(i)] = []string{path}
		i++
	}
	mj, _ := json.Marshal(m)
	_ = mw.WriteField("map", string(mj))
	for j, path := range names {
		fw, _ := mw.CreateFormFile(fmt.Sprint(j), "photo.png")
		_, _ = fw.Write(parts[path])
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	out.status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.e.t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	return &out
}

const repairFields = `id status round photos owner { account } engineer { account } charges { free materialsFen labourFen totalFen }
  currentWorkOrder { status round beforePhotos afterPhotos materials { name quantity unitPriceFen suppliedByOwner } }
  acceptances { round rating signatureUrl } callbacks { round satisfied } timeline { action from to }`

type repairView struct {
	ID, Status string
	Round      int
	Photos     []string
	Owner      *struct{ Account string }
	Engineer   *struct{ Account string }
	Charges    struct {
		Free                              bool
		MaterialsFen, LabourFen, TotalFen int
	}
	CurrentWorkOrder *struct {
		Status                    string
		BeforePhotos, AfterPhotos []string
	}
	Acceptances []struct{ Round, Rating int }
	Callbacks   []struct {
		Round     int
		Satisfied bool
	}
	Timeline []struct{ Action, From, To string }
}

func decodeRepair(t testing.TB, r *gqlResponse, field string) repairView {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]repairView
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

// The whole loop through the API, with a websocket subscriber that sees every
// step in order: submit with a photo → take → dispatch → accept → start →
// complete with materials → owner confirms with a signature → callback not
// satisfied → re-dispatch (declined once) → ... → satisfied → closed.
func TestRepairLoopToSatisfaction(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	eng1 := e.staff(w.engineerX, w.Password)
	eng2acct := "x.engineer2"
	admin := e.staff(w.adminAcct, w.Password)
	admin.ok(`mutation($in:CreateStaffInput!){ createStaff(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"account": eng2acct, "password": "Engineer2026", "name": "李师傅", "roles": []string{"ENGINEER"}, "communityIds": []string{w.X.ID}}}, nil)
	eng2 := e.staff(eng2acct, "Engineer2026")
	var engs struct {
		Engineers []struct {
			Engineer struct{ ID, Account string }
			OpenLoad int
		}
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id account } openLoad } }`, map[string]any{"c": w.X.ID}, &engs)
	if len(engs.Engineers) != 2 {
		t.Fatalf("engineers = %+v", engs.Engineers)
	}
	eng1ID := ""
	for _, x := range engs.Engineers {
		if x.Engineer.Account == w.engineerX {
			eng1ID = x.Engineer.ID
		}
	}

	// Submit with a photo (multipart).
	r := owner.multipart(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ `+repairFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "厨房水龙头漏水", "inHome": true, "urgency": "URGENT", "photos": []any{nil}}},
		map[string][]byte{"variables.in.photos.0": pngBytes})
	req := decodeRepair(t, r, "submitRepairRequest")
	if req.Status != "SUBMITTED" || len(req.Photos) != 1 {
		t.Fatalf("submitted = %+v", req)
	}
	if status, _, body := owner.get(req.Photos[0]); status != 200 || !bytes.Equal(body, pngBytes) {
		t.Fatalf("photo not served to the owner: %d", status)
	}

	// Owner and butler both follow it live.
	sub, err := dialWS(t, e, owner.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("1", `subscription($id:ID!){ repairRequestUpdated(id:$id){ type status request { round } } }`, map[string]any{"id": req.ID})
	queue, err := dialWS(t, e, butler.token)
	if err != nil {
		t.Fatal(err)
	}
	queue.subscribe("q", `subscription($c:ID!){ workOrderQueueChanged(communityId:$c){ requestId type status } }`, map[string]any{"c": w.X.ID})
	time.Sleep(300 * time.Millisecond)

	id := map[string]any{"id": req.ID}
	step := func(c *client, q string, vars map[string]any, field, want string) repairView {
		t.Helper()
		v := decodeRepair(t, c.do(q, vars), field)
		if v.Status != want {
			t.Fatalf("%s: status %s, want %s", field, v.Status, want)
		}
		return v
	}
	q := func(m string) string { return m + `{ ` + repairFields + ` } }` }
	step(butler, q(`mutation($id:ID!){ takeRepairRequest(id:$id)`), id, "takeRepairRequest", "TAKEN")
	// A second take loses: the first staff member owns it.
	e.staff(w.supervisorX, w.Password).fails("CONFLICT", q(`mutation($id:ID!){ takeRepairRequest(id:$id)`), id)
	step(butler, q(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e)`), map[string]any{"id": req.ID, "e": eng1ID}, "dispatchWorkOrder", "DISPATCHED")
	// Only the engineer on the order may accept it.
	eng2.fails("NOT_FOUND", q(`mutation($id:ID!){ acceptWorkOrder(id:$id)`), id)
	step(eng1, q(`mutation($id:ID!){ acceptWorkOrder(id:$id)`), id, "acceptWorkOrder", "ACCEPTED")
	eng1.fails("CONFLICT", q(`mutation($id:ID!){ acceptWorkOrder(id:$id)`), id)
	// Nobody may cancel once the engineer is on the way.
	owner.fails("CONFLICT", q(`mutation($id:ID!){ cancelRepairRequest(id:$id)`), id)
	v := decodeRepair(t, eng1.multipart(q(`mutation($id:ID!,$p:[Upload!]){ startWork(id:$id, beforePhotos:$p)`), map[string]any{"id": req.ID, "p": []any{nil}},
		map[string][]byte{"variables.p.0": pngBytes}), "startWork")
	if v.Status != "IN_PROGRESS" || len(v.CurrentWorkOrder.BeforePhotos) != 1 {
		t.Fatalf("started = %+v", v)
	}
	v = decodeRepair(t, eng1.multipart(q(`mutation($id:ID!,$in:CompleteWorkInput!){ completeWork(id:$id, input:$in)`), map[string]any{"id": req.ID, "in": map[string]any{
		"paid": true, "labourFeeFen": 5000, "afterPhotos": []any{nil},
		"materials": []any{
			map[string]any{"name": "水龙头阀芯", "quantity": 2, "unit": "个", "unitPriceFen": 1850, "suppliedByOwner": false},
			map[string]any{"name": "生料带", "quantity": 1, "unitPriceFen": 300, "suppliedByOwner": true},
		}}}, map[string][]byte{"variables.in.afterPhotos.0": pngBytes}), "completeWork")
	// The owner sees the charges before accepting: company parts and labour, not the owner's own tape.
	if v.Status != "COMPLETED" || v.Charges.Free || v.Charges.MaterialsFen != 3700 || v.Charges.LabourFen != 5000 || v.Charges.TotalFen != 8700 {
		t.Fatalf("completed = %+v", v)
	}
	// Another household's owner cannot sign for it.
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", `query($id:ID!){ repairRequest(id:$id){ id } }`, id)
	confirm := q(`mutation($id:ID!,$s:Upload!,$r:Int!,$c:String){ confirmRepair(id:$id, signature:$s, rating:$r, comment:$c)`)
	v = decodeRepair(t, owner.multipart(confirm, map[string]any{"id": req.ID, "s": nil, "r": 3, "c": "修好了，但又滴水"}, map[string][]byte{"variables.s": pngBytes}), "confirmRepair")
	if v.Status != "CONFIRMED" || len(v.Acceptances) != 1 || v.Acceptances[0].Rating != 3 {
		t.Fatalf("confirmed = %+v", v)
	}
	// Callback: not satisfied → round 2, dispatched again; declined once, then done.
	v = step(butler, q(`mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:false, notes:"业主反映仍有滴水")`), id, "recordRepairCallback", "TAKEN")
	if v.Round != 2 {
		t.Fatalf("reopened round = %d", v.Round)
	}
	step(butler, q(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e)`), map[string]any{"id": req.ID, "e": eng1ID}, "dispatchWorkOrder", "DISPATCHED")
	step(eng1, q(`mutation($id:ID!){ declineWorkOrder(id:$id, reason:"今天在另一小区")`), id, "declineWorkOrder", "TAKEN")
	var eng2ID string
	for _, x := range engs.Engineers {
		if x.Engineer.Account == eng2acct {
			eng2ID = x.Engineer.ID
		}
	}
	step(butler, q(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e)`), map[string]any{"id": req.ID, "e": eng2ID}, "dispatchWorkOrder", "DISPATCHED")
	step(eng2, q(`mutation($id:ID!){ acceptWorkOrder(id:$id)`), id, "acceptWorkOrder", "ACCEPTED")
	step(eng2, q(`mutation($id:ID!){ startWork(id:$id)`), id, "startWork", "IN_PROGRESS")
	v = step(eng2, q(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false})`), id, "completeWork", "COMPLETED")
	if !v.Charges.Free || v.Charges.TotalFen != 0 {
		t.Fatalf("a free repair charges %+v", v.Charges)
	}
	owner.multipart(confirm, map[string]any{"id": req.ID, "s": nil, "r": 5, "c": nil}, map[string][]byte{"variables.s": pngBytes})
	v = step(butler, q(`mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:true)`), id, "recordRepairCallback", "CLOSED")
	if len(v.Callbacks) != 2 || v.Callbacks[0].Satisfied || !v.Callbacks[1].Satisfied || len(v.Acceptances) != 2 {
		t.Fatalf("closed = %+v", v)
	}
	// Completing a closed request changes nothing.
	eng2.fails("CONFLICT", q(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false})`), id)

	// The timeline has every step, in order.
	want := []string{"SUBMIT", "TAKE", "DISPATCH", "ACCEPT", "START", "COMPLETE", "CONFIRM", "CALLBACK_REOPEN",
		"DISPATCH", "DECLINE", "DISPATCH", "ACCEPT", "START", "COMPLETE", "CONFIRM", "CALLBACK_CLOSED"}
	var got []string
	for _, te := range v.Timeline {
		got = append(got, te.Action)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("timeline = %v", got)
	}
	// The owner's subscription saw every step after it subscribed, in order.
	// (It may or may not see the submit that happened just before it subscribed.)
	var seen []string
	for len(seen) == 0 || seen[len(seen)-1] != "CALLBACK_CLOSED" {
		m, err := sub.read(10 * time.Second)
		if err != nil {
			t.Fatalf("subscriber saw %v, then: %v", seen, err)
		}
		var p struct {
			Data struct{ RepairRequestUpdated struct{ Type string } }
		}
		_ = json.Unmarshal(m.Payload, &p)
		seen = append(seen, strings.TrimPrefix(p.Data.RepairRequestUpdated.Type, "REPAIR_"))
	}
	if seen[0] == "SUBMIT" {
		seen = seen[1:]
	}
	if strings.Join(seen, ",") != strings.Join(want[1:], ",") {
		t.Fatalf("subscriber saw %v", seen)
	}
	m, err := queue.read(10 * time.Second)
	if err != nil || !strings.Contains(string(m.Payload), req.ID) {
		t.Fatalf("queue subscriber: %s %v", m.Payload, err)
	}
}
