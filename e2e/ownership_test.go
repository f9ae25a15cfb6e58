package e2e

import (
	"strings"
	"testing"
)

// Issue 9: steps that move a repair or a complaint on its owner's behalf
// follow the first-contact rule (首问责任制): only the owning staff member
// or a supervisor of the community dispatches, calls back or closes; another
// butler of the same community must have it handed over first. A refusal is
// FORBIDDEN with the reason and writes nothing.

// refusedForOwner asserts a first-contact refusal that names the rule.
func refusedForOwner(t *testing.T, what string, r *gqlResponse) {
	t.Helper()
	if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "首问责任人") || !strings.Contains(r.Errors[0].Message, "转交") {
		t.Fatalf("%s: want FORBIDDEN naming the first-contact rule, got %+v", what, r.Errors)
	}
}

func TestRepairStepsFollowTheFirstContactRule(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA := e.owner(w.OwnerA.Phone)
	butler, butler2, supervisor, eng := w.staff(w.butlerX), w.staff(w.butlerX2), w.staff(w.supervisorX), w.staff(w.engineerX)

	r := raSubmit(t, ownerA, w.HA.ID, "WATER", "NORMAL")
	id := raID(r.ID)
	raStep(t, butler, raTake, id, "TAKEN")
	before := decodeRepair(t, supervisor.do(raGetQ, id), "repairRequest")

	// Another butler of the community dispatches someone else's request.
	refusedForOwner(t, "dispatch by a butler who does not own it",
		butler2.do(raDispatch+`{ id } }`, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}))
	after := decodeRepair(t, supervisor.do(raGetQ, id), "repairRequest")
	if after.Status != "TAKEN" || after.Engineer != nil || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("a refused dispatch wrote something: %+v", after)
	}
	// Nor may they hand it to themselves.
	refusedForOwner(t, "hand-over to oneself", butler2.do(raHandOver+`{ id } }`, map[string]any{"id": r.ID, "to": w.ids[w.butlerX2]}))

	// Handed over, the new owner dispatches and the former one no longer may.
	raStep(t, butler, raHandOver, map[string]any{"id": r.ID, "to": w.ids[w.butlerX2]}, "TAKEN")
	refusedForOwner(t, "dispatch by the former owner", butler.do(raDispatch+`{ id } }`, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}))
	raStep(t, butler2, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	raStep(t, eng, raAccept, id, "ACCEPTED")
	raStep(t, eng, raStart, id, "IN_PROGRESS")
	raStep(t, eng, raComplete, id, "COMPLETED")
	if res := ownerA.multipart(raConfirm+`{ id status } }`, map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}); len(res.Errors) > 0 {
		t.Fatalf("confirm: %+v", res.Errors)
	}

	// The callback is owed by the owner: on their task list, not on the list
	// of the butler of the building who handed it over.
	if l := butler2.tasks(t, ""); l.kinds()["REPAIR_CALLBACK"] != w.HA.ID {
		t.Errorf("the owner's list lacks the callback: %+v", l.ButlerTasks.Tasks)
	}
	if l := butler.tasks(t, ""); l.kinds()["REPAIR_CALLBACK"] != "" {
		t.Errorf("the former owner is still asked to call back: %+v", l.ButlerTasks.Tasks)
	}

	// Closing (a satisfied callback) by the former owner is refused and
	// changes nothing; the supervisor may stand in and reopen it; the owner
	// dispatches the next round and closes it.
	callback := `mutation($id:ID!,$s:Boolean!){ recordRepairCallback(id:$id, satisfied:$s, notes:"回访"){ id status } }`
	refusedForOwner(t, "close by the former owner", butler.do(callback, map[string]any{"id": r.ID, "s": true}))
	if v := decodeRepair(t, supervisor.do(raGetQ, id), "repairRequest"); v.Status != "CONFIRMED" || len(v.Callbacks) != 0 {
		t.Fatalf("a refused callback wrote something: %+v", v)
	}
	supervisor.ok(callback, map[string]any{"id": r.ID, "s": false}, nil)
	refusedForOwner(t, "round 2 dispatch by the former owner", butler.do(raDispatch+`{ id } }`, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}))
	raStep(t, supervisor, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	raStep(t, eng, raAccept, id, "ACCEPTED")
	raStep(t, eng, raStart, id, "IN_PROGRESS")
	raStep(t, eng, raComplete, id, "COMPLETED")
	if res := ownerA.multipart(raConfirm+`{ id status } }`, map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}); len(res.Errors) > 0 {
		t.Fatalf("confirm round 2: %+v", res.Errors)
	}
	var closed struct{ RecordRepairCallback struct{ Status string } }
	butler2.ok(callback, map[string]any{"id": r.ID, "s": true}, &closed)
	if closed.RecordRepairCallback.Status != "CLOSED" {
		t.Fatalf("the owner's callback: %+v", closed)
	}
}

func TestComplaintStepsFollowTheFirstContactRule(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	owner := e.owner(w.OwnerA.Phone)
	butler, butler2, supervisor := w.staff(w.butlerX), w.staff(w.butlerX2), w.staff(w.supervisorX)

	x := decodeComplaint(t, owner.do(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ `+complaintFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "NOISE", "severity": "HIGH", "description": "楼上每晚装修噪音"}}), "submitComplaint")
	id := map[string]any{"id": x.ID}
	get := `query($id:ID!){ complaint(id:$id){ ` + complaintFields + ` } }`
	mut := func(c *client, m string, vars map[string]any) *gqlResponse {
		return c.do(m+`{ `+complaintFields+` } }`, vars)
	}
	const (
		ack      = `mutation($id:ID!){ acknowledgeComplaint(id:$id)`
		reply    = `mutation($id:ID!){ replyComplaint(id:$id, text:"已协调施工方")`
		handOver = `mutation($id:ID!,$to:ID!){ handOverComplaint(id:$id, toStaffId:$to, note:"换班")`
		callback = `mutation($id:ID!,$s:Boolean!){ recordComplaintCallback(id:$id, satisfied:$s, notes:"回访")`
	)
	decodeComplaint(t, mut(butler, ack, id), "acknowledgeComplaint")

	refusedForOwner(t, "reply by a butler who does not handle it", mut(butler2, reply, id))
	refusedForOwner(t, "hand-over by a butler who does not handle it", mut(butler2, handOver, map[string]any{"id": x.ID, "to": w.ids[w.butlerX2]}))
	if v := decodeComplaint(t, supervisor.do(get, id), "complaint"); v.Status != "HANDLING" || len(v.Replies) != 0 || v.Handler.Account != w.butlerX {
		t.Fatalf("a refused step wrote something: %+v", v)
	}
	// Only to a butler or supervisor of the community.
	if r := mut(butler, handOver, map[string]any{"id": x.ID, "to": w.ids[w.engineerX]}); r.code() != "BAD_USER_INPUT" || r.field() != "toStaffId" {
		t.Fatalf("hand-over to an engineer: %+v", r.Errors)
	}
	// Never across communities, and never by the complainant: the other
	// community cannot even see the complaint.
	if r := mut(butler, handOver, map[string]any{"id": x.ID, "to": w.ids[w.supervisorY]}); r.code() != "BAD_USER_INPUT" || r.field() != "toStaffId" {
		t.Fatalf("hand-over to another community's supervisor: %+v", r.Errors)
	}
	if r := mut(w.staff(w.supervisorY), handOver, map[string]any{"id": x.ID, "to": w.ids[w.supervisorY]}); r.code() != "NOT_FOUND" {
		t.Fatalf("hand-over by another community's supervisor: %+v", r.Errors)
	}
	if r := mut(owner, handOver, map[string]any{"id": x.ID, "to": w.ids[w.butlerX2]}); r.code() != "FORBIDDEN" {
		t.Fatalf("hand-over by the complainant: %+v", r.Errors)
	}
	v := decodeComplaint(t, mut(butler, handOver, map[string]any{"id": x.ID, "to": w.ids[w.butlerX2]}), "handOverComplaint")
	if v.Status != "HANDLING" || v.Handler.Account != w.butlerX2 {
		t.Fatalf("after hand-over: %+v", v)
	}
	refusedForOwner(t, "reply by the former handler", mut(butler, reply, id))
	decodeComplaint(t, mut(butler2, reply, id), "replyComplaint")

	refusedForOwner(t, "close by the former handler", mut(butler, callback, map[string]any{"id": x.ID, "s": true}))
	if v := decodeComplaint(t, supervisor.do(get, id), "complaint"); v.Status != "ANSWERED" || len(v.Callbacks) != 0 {
		t.Fatalf("a refused callback wrote something: %+v", v)
	}
	if v := decodeComplaint(t, mut(supervisor, callback, map[string]any{"id": x.ID, "s": true}), "recordComplaintCallback"); v.Status != "CLOSED" {
		t.Fatalf("the supervisor closes: %+v", v)
	}
}
