package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/lifecycle"
)

// overdueBill writes an issued bill for h straight into the bills
// collection: the reminder ladder reads bills, whoever issued them; it can
// be paid at the counter.
func overdueBill(t *testing.T, e *env, h *household.Household, period, due string, fen int64) {
	t.Helper()
	now := e.Clock.Now().UTC()
	id := fee.BillID(h.CommunityID, h.ID, period)
	b := fee.Bill{ID: id, CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID, Label: h.Label, Period: period,
		Lines:  []fee.Line{{Code: "MGMT", Kind: fee.Management, Name: "物业管理费", Quantity: "100.00 m²", UnitPrice: fen / 100, Amount: fen}},
		Amount: fen, Status: fee.Issued, DueDate: due, Allocations: []fee.Allocation{}, Timeline: []lifecycle.Entry{}, IssuedAt: now, UpdatedAt: now, SortKey: id}
	if _, err := e.DB.Collection("bills").InsertOne(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

const dunningQ = `query($h:ID!){ dunningCase(householdId:$h){ status nextStep hold heldUntil arrearsFen records { step outcome by { account } arrearsFen } } }`
const stepQ = `mutation($in:DunningStepInput!){ recordDunningStep(input:$in){ status nextStep heldUntil } }`

type dunningView struct {
	DunningCase *struct {
		Status, NextStep string
		Hold, HeldUntil  *string
		ArrearsFen       int64
		Records          []struct {
			Step    string
			Outcome *string
			By      *struct{ Account string }
		}
	}
}

// The courteous ladder through the API: the daily job reminds the owner of
// an overdue bill (by SMS: she has no app) and a week later sends the
// second notice; the call then shows on the butler's list, and the call's
// finding is recorded; staff of another community and residents cannot see
// or record anything; a household with a named open complaint is held back;
// a lawyer's letter needs the supervisor.
func TestFeeReminderLadder(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	butler := e.staff(w.butlerX, w.Password)
	sup := e.staff(w.supervisorX, w.Password)
	finance := e.staffWithRole(w, "x.finance", access.Finance)
	// later signs the staff in again after the clock moved past their tokens.
	later := func(d time.Duration) {
		e.Clock.Advance(d)
		butler, sup, finance = e.staff(w.butlerX, w.Password), e.staff(w.supervisorX, w.Password), e.staff("x.finance", w.Password)
	}
	supY := e.staff(w.supervisorY, w.Password)
	ownerB := e.owner(w.OwnerB.Phone)

	overdueBill(t, e, w.HA, "2026-10", "2026-10-31", 36050)
	overdueBill(t, e, w.HB, "2026-10", "2026-10-31", 18000)
	// HB disputes the service: a named complaint still open.
	ownerB.ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"householdId": w.HB.ID, "category": "HYGIENE", "severity": "NORMAL", "description": "楼道一周没人打扫，物业费不该照收"}}, nil)

	tick := func() {
		t.Helper()
		if err := e.App.Services.Dunning.Tick(ctx, w.X.ID); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	waitFor(t, "the friendly reminder by SMS", func() bool {
		for _, m := range e.SMS.texts(w.OwnerA.Phone) {
			if strings.Contains(m, "物业费缴费温馨提醒") && strings.Contains(m, "360.50 元") {
				return true
			}
		}
		return false
	})
	var v dunningView
	finance.ok(dunningQ, map[string]any{"h": w.HA.ID}, &v)
	if v.DunningCase == nil || v.DunningCase.Status != "REMINDED" || v.DunningCase.NextStep != "SECOND_NOTICE" || v.DunningCase.ArrearsFen != 36050 ||
		len(v.DunningCase.Records) != 1 || v.DunningCase.Records[0].By != nil {
		t.Fatalf("after the first reminder: %+v", v.DunningCase)
	}
	sup.ok(dunningQ, map[string]any{"h": w.HB.ID}, &v)
	if v.DunningCase == nil || v.DunningCase.Status != "OPENED" {
		t.Fatalf("the disputing household: %+v", v.DunningCase)
	}
	if r := sup.fails("CONFLICT", stepQ, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "step": "REMINDER"}}); !strings.Contains(r.Errors[0].Message, "投诉") {
		t.Fatalf("held: %q", r.Errors[0].Message)
	}
	// Nobody outside: another community's supervisor, the owner herself.
	supY.fails("NOT_FOUND", dunningQ, map[string]any{"h": w.HA.ID})
	supY.fails("NOT_FOUND", stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "SECOND_NOTICE"}})
	e.owner(w.OwnerA.Phone).fails("NOT_FOUND", dunningQ, map[string]any{"h": w.HA.ID})

	// A week on: the second notice, then the call is on the butler's list.
	later(7*24*time.Hour + time.Hour)
	tick()
	var tasks struct {
		ButlerTasks struct {
			Edges []struct{ Node struct{ Kind, Title string } }
		}
	}
	butler.ok(`{ butlerTasks { edges { node { kind title } } } }`, nil, &tasks)
	found := false
	for _, ed := range tasks.ButlerTasks.Edges {
		found = found || ed.Node.Kind == "FEE_REMINDER_CALL" && strings.Contains(ed.Node.Title, "360.50")
	}
	if !found {
		t.Fatalf("the butler's list: %+v", tasks)
	}
	// The arrears list shows each household's last step: HA the second
	// notice, HB (held) none yet.
	var arr struct {
		Arrears struct {
			Edges []struct {
				Node struct {
					HouseholdID string
					Outstanding int64
					AgeDays     int
					LastStep    *string
					Dunning     *struct{ Status string }
				}
			}
		}
	}
	finance.ok(`query($c:ID!){ arrears(communityId:$c){ edges { node { householdId outstanding ageDays lastStep lastStepAt dunning { status } } } } }`,
		map[string]any{"c": w.X.ID}, &arr)
	last := map[string]string{}
	for _, ed := range arr.Arrears.Edges {
		n := ed.Node
		switch {
		case n.Dunning == nil:
			last[n.HouseholdID] = "no case"
		case n.LastStep == nil:
			last[n.HouseholdID] = n.Dunning.Status + "/-"
		default:
			last[n.HouseholdID] = n.Dunning.Status + "/" + *n.LastStep
		}
	}
	if last[w.HA.ID] != "NOTICED/SECOND_NOTICE" || last[w.HB.ID] != "OPENED/-" {
		t.Fatalf("the arrears list's last steps: %v", last)
	}
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", `query($c:ID!){ arrears(communityId:$c){ edges { node { lastStep } } } }`, map[string]any{"c": w.X.ID})
	butler.fails("CONFLICT", stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "WRITTEN_NOTICE"}})
	later(7 * 24 * time.Hour)
	var out struct {
		RecordDunningStep struct{ Status, NextStep string }
	}
	butler.ok(stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "CALL_OR_VISIT", "outcome": "NO_CONTACT", "note": "两次上门无人"}}, &out)
	if out.RecordDunningStep.Status != "CALLED" || out.RecordDunningStep.NextStep != "WRITTEN_NOTICE" {
		t.Fatalf("the call: %+v", out)
	}
	later(7 * 24 * time.Hour)
	finance.ok(stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "WRITTEN_NOTICE"}}, nil)
	later(7 * 24 * time.Hour)
	butler.ok(stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "LEGAL_LETTER", "note": "欠费已三月，多次沟通无果"}}, nil)
	decide := `mutation($h:ID!){ decideLegalLetter(householdId:$h, approve:true, note:"同意"){ status } }`
	finance.fails("FORBIDDEN", decide, map[string]any{"h": w.HA.ID})
	var d struct{ DecideLegalLetter struct{ Status string } }
	sup.ok(decide, map[string]any{"h": w.HA.ID}, &d)
	if d.DecideLegalLetter.Status != "LEGAL_LETTER" {
		t.Fatalf("approved: %+v", d)
	}
	sup.ok(dunningQ, map[string]any{"h": w.HA.ID}, &v)
	steps := []string{}
	for _, r := range v.DunningCase.Records {
		who := "job"
		if r.By != nil {
			who = r.By.Account
		}
		steps = append(steps, r.Step+"/"+who)
	}
	want := "REMINDER/job SECOND_NOTICE/job CALL_OR_VISIT/" + w.butlerX + " WRITTEN_NOTICE/x.finance LEGAL_LETTER/" + w.butlerX + " LEGAL_LETTER/" + w.supervisorX
	if strings.Join(steps, " ") != want {
		t.Fatalf("the record: %s\nwant %s", strings.Join(steps, " "), want)
	}

	// Paid: the bill leaves the arrears and the job closes the case.
	if _, err := e.DB.Collection("bills").UpdateOne(ctx, bson.D{{Key: "_id", Value: fee.BillID(w.X.ID, w.HA.ID, "2026-10")}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: fee.Paid}, {Key: "paid", Value: 36050}}}}); err != nil {
		t.Fatal(err)
	}
	tick()
	v = dunningView{}
	sup.ok(dunningQ, map[string]any{"h": w.HA.ID}, &v)
	if v.DunningCase == nil || v.DunningCase.Status != "CLOSED" || v.DunningCase.NextStep != "" || len(v.DunningCase.Records) != 6 {
		t.Fatalf("after payment: %+v", v.DunningCase)
	}
}
