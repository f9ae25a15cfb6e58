package e2e

import (
	"context"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/platform/auth"
	"qinqing/internal/staff"
)

const callFields = `id direction phone person { id } household { id } candidates { household { id } }
  answeredBy { account } rings answerSeconds withinStandard note outcome itemId`

type callView struct {
	ID, Direction, Phone, Outcome string
	Person, Household             *struct{ ID string }
	Candidates                    []struct{ Household struct{ ID string } }
	AnsweredBy                    struct{ Account string }
	Rings, AnswerSeconds          *int
	WithinStandard                *bool
	Note, ItemID                  *string
}

// The hotline's call log through the API: calls matched to a resident of
// the community (one household, several, none, another community's), the
// supervisors' summary against the three-ring standard with its counts,
// the KPI, linking what a call became, and who may do and read what.
func TestCallLog(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	s := e.App.Services
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Staff.Upsert(ctx, &staff.Staff{Account: "x.desk", Name: "前台", PasswordHash: hash, Roles: []access.Role{access.CustomerService}, CommunityIDs: []string{w.X.ID}}); err != nil {
		t.Fatal(err)
	}
	// Owner A also lives in HC: their phone matches two households of X.
	if _, err := s.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HC.ID, PersonID: w.OwnerA.ID, Role: access.Family}); err != nil {
		t.Fatal(err)
	}
	desk := e.staff("x.desk", w.Password)
	butler := e.staff(w.butlerX, w.Password)
	supervisor := e.staff(w.supervisorX, w.Password)
	supervisorY := e.staff(w.supervisorY, w.Password)
	ownerB := e.owner(w.OwnerB.Phone)

	logCall := func(c *client, in map[string]any) callView {
		t.Helper()
		in["communityId"] = w.X.ID
		var out struct{ LogCall callView }
		c.ok(`mutation($in:LogCallInput!){ logCall(input:$in){ `+callFields+` } }`, map[string]any{"in": in}, &out)
		return out.LogCall
	}
	matched := logCall(desk, map[string]any{"phone": "+86 " + w.OwnerB.Phone, "rings": 2, "note": "询问停水时间", "durationSeconds": 95})
	if matched.Person == nil || matched.Person.ID != w.OwnerB.ID || matched.Household == nil || matched.Household.ID != w.HB.ID ||
		matched.AnsweredBy.Account != "x.desk" || matched.WithinStandard == nil || !*matched.WithinStandard || matched.Outcome != "NOTHING" {
		t.Fatalf("matched call = %+v", matched)
	}
	unknown := logCall(desk, map[string]any{"phone": "13700000009", "rings": 5, "receivedAt": testEpoch.Add(-2 * time.Hour).Format(time.RFC3339)})
	if unknown.Person != nil || unknown.Household != nil || *unknown.WithinStandard {
		t.Fatalf("unknown caller = %+v", unknown)
	}
	// Y's resident calling X's hotline is nobody here.
	fromY := logCall(butler, map[string]any{"phone": w.OwnerY.Phone, "answerSeconds": 10})
	if fromY.Person != nil || len(fromY.Candidates) != 0 || !*fromY.WithinStandard {
		t.Fatalf("another community's resident matched: %+v", fromY)
	}
	twoHomes := logCall(desk, map[string]any{"phone": w.OwnerA.Phone, "rings": 3, "outcome": "COMPLAINT"})
	if twoHomes.Person == nil || twoHomes.Household != nil || len(twoHomes.Candidates) != 2 || !*twoHomes.WithinStandard {
		t.Fatalf("two households = %+v", twoHomes)
	}
	callback := logCall(supervisor, map[string]any{"phone": w.OwnerB.Phone, "direction": "OUTBOUND"})
	if callback.WithinStandard != nil {
		t.Fatalf("a callback is measured: %+v", callback)
	}

	// Linking: a complaint of X, never one of Y.
	inX, err := s.Complaints.Submit(ctx, personCaller(w.OwnerA.ID, w.HC.ID, w.X.ID), complaint.SubmitInput{HouseholdID: w.HC.ID, Category: complaint.Noise, Description: "楼道噪音"})
	if err != nil {
		t.Fatal(err)
	}
	inY, err := s.Complaints.Submit(ctx, personCaller(w.OwnerY.ID, w.HY.ID, w.Y.ID), complaint.SubmitInput{HouseholdID: w.HY.ID, Category: complaint.Noise, Description: "楼上装修"})
	if err != nil {
		t.Fatal(err)
	}
	link := `mutation($id:ID!,$item:ID,$h:ID){ linkCall(id:$id, outcome:COMPLAINT, itemId:$item, householdId:$h){ ` + callFields + ` } }`
	if r := supervisor.fails("NOT_FOUND", link, map[string]any{"id": twoHomes.ID, "item": inY.ID}); r.field() != "itemId" {
		t.Fatalf("link to Y's complaint names %q", r.field())
	}
	var linked struct{ LinkCall callView }
	supervisor.ok(link, map[string]any{"id": twoHomes.ID, "item": inX.ID, "h": w.HC.ID}, &linked)
	if l := linked.LinkCall; l.ItemID == nil || *l.ItemID != inX.ID || l.Household == nil || l.Household.ID != w.HC.ID {
		t.Fatalf("linked = %+v", l)
	}
	butler.fails("NOT_FOUND", link, map[string]any{"id": matched.ID, "item": inX.ID}) // not the butler's call

	// The summary: 4 incoming calls, 3 within the standard (2, 3 rings and 10 s; not 5 rings).
	window := map[string]any{"c": w.X.ID, "from": testEpoch.Add(-24 * time.Hour).Format(time.RFC3339), "to": testEpoch.Add(time.Hour).Format(time.RFC3339)}
	summary := `query($c:ID!,$from:Time!,$to:Time!){ callSummary(communityId:$c, from:$from, to:$to){
	  calls inbound outbound withinStandard { rate numerator denominator } rings { count median p90 max average }
	  ringCounts { rings count } byOutcome { outcome count } } }`
	var sum struct {
		CallSummary struct {
			Calls, Inbound, Outbound int
			WithinStandard           kpiRatio
			Rings                    struct {
				Count, Median, P90, Max int
				Average                 float64
			}
			RingCounts []struct{ Rings, Count int }
			ByOutcome  []struct {
				Outcome string
				Count   int
			}
		}
	}
	supervisor.ok(summary, window, &sum)
	cs := sum.CallSummary
	if cs.Calls != 5 || cs.Inbound != 4 || cs.Outbound != 1 || cs.WithinStandard.Numerator != 3 || cs.WithinStandard.Denominator != 4 ||
		cs.WithinStandard.Rate == nil || *cs.WithinStandard.Rate != 0.75 {
		t.Fatalf("summary = %+v", cs)
	}
	if cs.Rings.Count != 3 || cs.Rings.Median != 3 || cs.Rings.P90 != 5 || cs.Rings.Max != 5 || cs.Rings.Average != 10.0/3 || len(cs.RingCounts) != 3 {
		t.Fatalf("rings = %+v %+v", cs.Rings, cs.RingCounts)
	}
	if len(cs.ByOutcome) != 7 || cs.ByOutcome[1].Outcome != "REPAIR" || cs.ByOutcome[2].Count != 1 || cs.ByOutcome[6].Count != 4 {
		t.Fatalf("by outcome = %+v", cs.ByOutcome)
	}
	var k struct {
		ServiceKpis struct{ CallsAnsweredWithinStandard kpiRatio }
	}
	supervisor.ok(`query($c:ID!,$from:Time!,$to:Time!){ serviceKpis(communityId:$c, from:$from, to:$to){ callsAnsweredWithinStandard { rate numerator denominator available } } }`, window, &k)
	if r := k.ServiceKpis.CallsAnsweredWithinStandard; !r.Available || r.Numerator != 3 || r.Denominator != 4 {
		t.Fatalf("KPI = %+v", r)
	}

	// The log: the desk sees every call, a butler their own, newest first.
	logQ := `query($c:ID!,$from:Time){ callLog(communityId:$c, from:$from){ totalCount edges { node { id } } } }`
	count := func(c *client, vars map[string]any) (int, []string) {
		t.Helper()
		var out struct {
			CallLog struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		c.ok(logQ, vars, &out)
		ids := []string{}
		for _, ed := range out.CallLog.Edges {
			ids = append(ids, ed.Node.ID)
		}
		return out.CallLog.TotalCount, ids
	}
	if n, ids := count(desk, map[string]any{"c": w.X.ID}); n != 5 || ids[4] != unknown.ID {
		t.Fatalf("desk log = %d %v", n, ids)
	}
	if n, _ := count(desk, map[string]any{"c": w.X.ID, "from": testEpoch.Add(-time.Hour).Format(time.RFC3339)}); n != 4 {
		t.Fatalf("log from an hour ago = %d", n)
	}
	if n, ids := count(butler, map[string]any{"c": w.X.ID}); n != 1 || ids[0] != fromY.ID {
		t.Fatalf("butler's log = %d %v", n, ids)
	}
	var mine struct {
		MyCalls struct {
			Edges []struct{ Node callView }
		}
	}
	ownerB.ok(`{ myCalls { edges { node { `+callFields+` } } } }`, nil, &mine)
	if len(mine.MyCalls.Edges) != 2 || mine.MyCalls.Edges[0].Node.Note != nil || mine.MyCalls.Edges[1].Node.Note != nil {
		t.Fatalf("owner B's calls = %+v", mine.MyCalls)
	}

	// Who may not.
	in := map[string]any{"in": map[string]any{"communityId": w.X.ID, "phone": "13700000008", "rings": 1}}
	logM := `mutation($in:LogCallInput!){ logCall(input:$in){ id } }`
	ownerB.fails("FORBIDDEN", logM, in)
	supervisorY.fails("FORBIDDEN", logM, in)
	e.staff(w.engineerX, w.Password).fails("FORBIDDEN", logM, in)
	ownerB.fails("FORBIDDEN", logQ, map[string]any{"c": w.X.ID})
	supervisorY.fails("FORBIDDEN", logQ, map[string]any{"c": w.X.ID})
	supervisorY.fails("FORBIDDEN", summary, window)
	desk.fails("FORBIDDEN", summary, window)
	supervisorY.fails("NOT_FOUND", `query($id:ID!){ call(id:$id){ id } }`, map[string]any{"id": matched.ID})
	e.owner(w.OwnerA.Phone).fails("NOT_FOUND", `query($id:ID!){ call(id:$id){ id } }`, map[string]any{"id": matched.ID})
}

func personCaller(personID, householdID, communityID string) *access.Caller {
	return &access.Caller{Kind: auth.KindPerson, ID: personID,
		Memberships: []access.Membership{{HouseholdID: householdID, CommunityID: communityID, Role: access.Owner}}}
}
