package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/events"
)

// on is c calling through server e: the same session on another process.
func (c *client) on(e *env) *client { cp := *c; cp.e = e; return &cp }

// Two server processes take turns on one repair request: the butler
// dispatches through A, the engineer accepts through B, and so on. An owner
// subscribed on each server hears every step in the order it was done,
// though events made by two processes within one second have ObjectIDs in
// no particular order. B is a real process of its own: servers in one
// process would share one ObjectID counter and hide the disorder.
func TestRepairStepsAcrossServersArriveInOrder(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServerProcess(t, a.DB)
	owner := a.owner(w.OwnerA.Phone)
	butler := a.staff(w.butlerX, w.Password)
	eng := a.staff(w.engineerX, w.Password)
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	if len(engs.Engineers) != 1 {
		t.Fatalf("engineers = %+v", engs.Engineers)
	}
	var sub struct{ SubmitRepairRequest struct{ ID string } }
	owner.ok(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "category": "WATER", "description": "卫生间漏水", "inHome": true, "urgency": "NORMAL"}}, &sub)
	id := sub.SubmitRepairRequest.ID

	const q = `subscription($id:ID!){ repairRequestUpdated(id:$id){ type status } }`
	var socks []*rawWS
	for _, e := range []*env{a, b} {
		ws := dialRaw(t, e).ack(owner.token)
		ws.subscribe("1", q, map[string]any{"id": id})
		ws.liveBy("1", func() {
			err := a.App.Services.Events.Publish(context.Background(), events.Event{Type: "repair.ready", SubjectID: id, Data: map[string]any{"status": "SUBMITTED"}})
			if err != nil {
				t.Fatal(err)
			}
		})
		socks = append(socks, ws)
	}

	steps := []struct {
		by           *client
		mutation     string
		signed       bool
		event, state string
	}{
		{butler.on(b), `takeRepairRequest(id:$id)`, false, "TAKE", "TAKEN"},
		{butler.on(a), `dispatchWorkOrder(id:$id, engineerId:$e)`, false, "DISPATCH", "DISPATCHED"},
		{eng.on(b), `acceptWorkOrder(id:$id)`, false, "ACCEPT", "ACCEPTED"},
		{eng.on(a), `startWork(id:$id)`, false, "START", "IN_PROGRESS"},
		{eng.on(b), `completeWork(id:$id, input:{paid:false})`, false, "COMPLETE", "COMPLETED"},
		{owner.on(a), `confirmRepair(id:$id, signature:$s, rating:4)`, true, "CONFIRM", "CONFIRMED"},
		{butler.on(b), `recordRepairCallback(id:$id, satisfied:false, notes:"仍在滴水")`, false, "CALLBACK_REOPEN", "TAKEN"},
		{butler.on(a), `dispatchWorkOrder(id:$id, engineerId:$e)`, false, "DISPATCH", "DISPATCHED"},
		{eng.on(b), `acceptWorkOrder(id:$id)`, false, "ACCEPT", "ACCEPTED"},
		{eng.on(a), `startWork(id:$id)`, false, "START", "IN_PROGRESS"},
	}
	var want []string
	for _, s := range steps {
		field := s.mutation[:strings.Index(s.mutation, "(")]
		var r *gqlResponse
		if s.signed {
			r = s.by.multipart(`mutation($id:ID!,$s:Upload!){ `+s.mutation+`{ status } }`,
				map[string]any{"id": id, "s": nil}, map[string][]byte{"variables.s": pngBytes})
		} else {
			decl, vars := `$id:ID!`, map[string]any{"id": id}
			if strings.Contains(s.mutation, "$e") {
				decl, vars["e"] = decl+`,$e:ID!`, engs.Engineers[0].Engineer.ID
			}
			r = s.by.do(`mutation(`+decl+`){ `+s.mutation+`{ status } }`, vars)
		}
		if v := decodeRepair(t, r, field); v.Status != s.state {
			t.Fatalf("%s: status %s, want %s", field, v.Status, s.state)
		}
		want = append(want, s.event+":"+s.state)
	}

	for i, ws := range socks {
		var got []string
		for len(got) < len(want) {
			m := ws.next(15 * time.Second)
			var p struct {
				Data struct{ RepairRequestUpdated struct{ Type, Status string } }
			}
			if err := json.Unmarshal(m.Payload, &p); m.Type != "next" || err != nil {
				t.Fatalf("server %d: %s %s", i, m.Type, m.Payload)
			}
			ev := p.Data.RepairRequestUpdated
			// The marker's type is no step of the domain: it arrives as OTHER.
			if ev.Type != "OTHER" {
				got = append(got, strings.TrimPrefix(ev.Type, "REPAIR_")+":"+ev.Status)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("subscriber on server %d heard\n %v\nwant\n %v", i, got, want)
		}
	}
}
