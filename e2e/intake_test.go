package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"qinqing/internal/access"
)

const intakeRepairFields = `id status reporter { id } intake { channel filedBy { account } filedAt }
  acceptances { round person { id } recordedBy { account } channel }
  timeline { action actorKind channel onBehalfOf { id } }`

type intakeRepairView struct {
	ID, Status string
	Reporter   *struct{ ID string }
	Intake     *struct {
		Channel, FiledAt string
		FiledBy          *struct{ Account string }
	}
	Acceptances []struct {
		Round      int
		Person     *struct{ ID string }
		RecordedBy *struct{ Account string }
		Channel    *string
	}
	Timeline []struct {
		Action, ActorKind string
		Channel           *string
		OnBehalfOf        *struct{ ID string }
	}
}

// An elderly owner without the app rings the family hotline: the front
// desk files the repair for her by PHONE; it is dispatched and worked, the
// engineer records her signature on site (VISIT), the butler calls back;
// every progress notice reaches her by SMS, and when she does sign in (by
// SMS code) the request is hers, showing who filed it and how.
func TestStaffFiledRepairReachesTheResidentBySMS(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	desk := e.staffWithRole(w, "x.desk", access.CustomerService)
	butler := e.staff(w.butlerX, w.Password)
	eng := e.staff(w.engineerX, w.Password)
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)

	submit := `mutation($in:SubmitRepairRequestInput!,$i:IntakeInput){ submitRepairRequest(input:$in, intake:$i){ ` + intakeRepairFields + ` } }`
	in := map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "卫生间水管漏水", "inHome": true}
	// Staff must say who asked and how; the person must be of the household.
	desk.fails("FORBIDDEN", submit, map[string]any{"in": in})
	desk.fails("BAD_USER_INPUT", submit, map[string]any{"in": in, "i": map[string]any{"channel": "PHONE", "personId": w.OwnerB.ID}})
	desk.fails("BAD_USER_INPUT", submit, map[string]any{"in": in, "i": map[string]any{"channel": "APP", "personId": w.OwnerA.ID}})
	var out struct{ SubmitRepairRequest intakeRepairView }
	desk.ok(submit, map[string]any{"in": in, "i": map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}}, &out)
	r := out.SubmitRepairRequest
	if r.Status != "SUBMITTED" || r.Reporter == nil || r.Reporter.ID != w.OwnerA.ID || r.Intake == nil || r.Intake.Channel != "PHONE" ||
		r.Intake.FiledBy == nil || r.Intake.FiledBy.Account != "x.desk" || r.Intake.FiledAt == "" {
		t.Fatalf("filed = %+v", r)
	}
	first := r.Timeline[0]
	if first.Action != "SUBMIT" || first.ActorKind != "STAFF" || first.Channel == nil || *first.Channel != "PHONE" || first.OnBehalfOf == nil || first.OnBehalfOf.ID != w.OwnerA.ID {
		t.Fatalf("first timeline line = %+v", first)
	}

	id := map[string]any{"id": r.ID}
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, id, nil)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ id } }`, map[string]any{"id": r.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	eng.ok(`mutation($id:ID!){ acceptWorkOrder(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ startWork(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false}){ id } }`, id, nil)

	// Sign-off on her behalf on site: only on a visit, only for a member,
	// only by the engineer on the order or the community's butlers and
	// supervisors; not by the front desk, who was not there.
	confirm := `mutation($id:ID!,$s:Upload!,$o:IntakeInput){ confirmRepair(id:$id, signature:$s, rating:5, onBehalf:$o){ ` + intakeRepairFields + ` } }`
	sign := func(c *client, on map[string]any) *gqlResponse {
		return c.multipart(confirm, map[string]any{"id": r.ID, "s": nil, "o": on}, map[string][]byte{"variables.s": pngBytes})
	}
	wantCode := func(res *gqlResponse, code string) {
		t.Helper()
		if res.code() != code {
			t.Fatalf("want %s, got %+v", code, res.Errors)
		}
	}
	wantCode(sign(eng, map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}), "BAD_USER_INPUT")
	wantCode(sign(eng, map[string]any{"channel": "VISIT", "personId": w.OwnerB.ID}), "BAD_USER_INPUT")
	wantCode(sign(desk, map[string]any{"channel": "VISIT", "personId": w.OwnerA.ID}), "FORBIDDEN")
	wantCode(sign(eng, nil), "FORBIDDEN") // staff never sign as the resident
	res := sign(eng, map[string]any{"channel": "VISIT", "personId": w.OwnerA.ID})
	if len(res.Errors) > 0 {
		t.Fatalf("sign on behalf: %+v", res.Errors)
	}
	var signed struct{ ConfirmRepair intakeRepairView }
	if err := json.Unmarshal(res.Data, &signed); err != nil {
		t.Fatal(err)
	}
	s := signed.ConfirmRepair
	a := s.Acceptances
	if s.Status != "CONFIRMED" || len(a) != 1 || a[0].Person == nil || a[0].Person.ID != w.OwnerA.ID || a[0].RecordedBy == nil ||
		a[0].RecordedBy.Account != w.engineerX || a[0].Channel == nil || *a[0].Channel != "VISIT" {
		t.Fatalf("signed = %+v", s)
	}
	last := s.Timeline[len(s.Timeline)-1]
	if last.Action != "CONFIRM" || last.ActorKind != "STAFF" || last.Channel == nil || *last.Channel != "VISIT" || last.OnBehalfOf.ID != w.OwnerA.ID {
		t.Fatalf("sign-off line = %+v", last)
	}
	butler.ok(`mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:true, notes:"电话回访，业主满意"){ id } }`, id, nil)

	// Every step she hears about reached her phone; nothing went to the
	// owner of the next flat.
	waitFor(t, "progress by SMS", func() bool {
		n := 0
		for _, m := range e.SMS.texts(w.OwnerA.Phone) {
			if strings.Contains(m, "报修进度") && strings.Contains(m, "卫生间水管漏水") {
				n++
			}
		}
		return n >= 4
	})
	if n := e.SMS.count(w.OwnerB.Phone); n != 0 {
		t.Fatalf("the neighbour got %d texts", n)
	}

	// She signs in by SMS code and finds it among her own requests.
	owner := e.owner(w.OwnerA.Phone)
	var mine struct {
		MyRepairRequests struct {
			Edges []struct{ Node intakeRepairView }
		}
	}
	owner.ok(`query{ myRepairRequests { edges { node { `+intakeRepairFields+` } } } }`, nil, &mine)
	if len(mine.MyRepairRequests.Edges) != 1 {
		t.Fatalf("mine = %+v", mine)
	}
	m := mine.MyRepairRequests.Edges[0].Node
	if m.ID != r.ID || m.Status != "CLOSED" || m.Intake == nil || m.Intake.Channel != "PHONE" || m.Intake.FiledBy.Account != "x.desk" {
		t.Fatalf("her request = %+v", m)
	}
}
