package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"qinqing/internal/fee"
)

const cancelQ = `mutation($id:ID!,$r:String!){ cancelBill(id:$id, reason:$r){ id status cancelReason cancelledAt outstanding } }`

// billed gives community X a management fee by area (2.00 元/m²) and a
// fixed charge (15.00 元), floor areas to its three households, and their
// bills for 2026-10 and 2026-11, due 2026-11-30: HA 175.00 元, HB 215.00,
// HC 135.00 a period.
func billed(t *testing.T, e *env, w *world) *client {
	t.Helper()
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "MGMT", "kind": "MANAGEMENT", "name": "物业管理费", "rate": 200, "effectiveFrom": "2026-01"}}, nil)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "垃圾清运费", "rate": 1500, "effectiveFrom": "2026-01"}}, nil)
	setArea(t, e, w.HA, 80)
	setArea(t, e, w.HB, 100)
	setArea(t, e, w.HC, 60)
	for _, p := range []string{"2026-10", "2026-11"} {
		if g := genBills(sup, w.X.ID, p); g.Created != 3 {
			t.Fatalf("billing %s: %+v", p, g)
		}
	}
	return sup
}

type cancelled struct {
	CancelBill struct {
		ID, Status, CancelReason string
		CancelledAt              *string
		Outstanding              int64
	}
}

// Cancelling a bill through the API: who may (the community's supervisors
// and finance clerks), what is refused and why (money on it, paid, waived,
// cancelled already; the reason by field), and what a cancelled bill
// leaves: the arrears list, the reminder ladder (the case closes) and the
// collection rate, while the owner still sees it with its reason. Then the
// corrected bill: reissued once under a derived id, which billing the
// period again neither duplicates nor undoes.
func TestCancelBill(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	sup := billed(t, e, w)
	desk, fin := financeStaff(t, e, w)
	id := func(h string, p string) string { return fee.BillID(w.X.ID, h, p) }
	haNov, haOct, hbOct, hcOct := id(w.HA.ID, "2026-11"), id(w.HA.ID, "2026-10"), id(w.HB.ID, "2026-10"), id(w.HC.ID, "2026-10")
	reason := map[string]any{"id": haNov, "r": "面积登记有误"}

	for _, r := range []string{"  ", strings.Repeat("错", fee.MaxCancelReason+1)} {
		if got := sup.fails("BAD_USER_INPUT", cancelQ, map[string]any{"id": haNov, "r": r}); got.field() != "reason" {
			t.Errorf("reason %q: field %q", r, got.field())
		}
	}
	for _, tc := range []struct {
		who  string
		c    *client
		code string
	}{
		{"the owner, who sees the bill", e.owner(w.OwnerA.Phone), "FORBIDDEN"},
		{"another household's owner", e.owner(w.OwnerB.Phone), "NOT_FOUND"},
		{"the household's butler", e.staff(w.butlerX, w.Password), "FORBIDDEN"},
		{"the front desk", desk, "FORBIDDEN"},
		{"an engineer", e.staff(w.engineerX, w.Password), "NOT_FOUND"},
		{"another community's supervisor", e.staff(w.supervisorY, w.Password), "NOT_FOUND"},
	} {
		if r := tc.c.do(cancelQ, reason); r.code() != tc.code {
			t.Errorf("%s: %q, want %s", tc.who, r.code(), tc.code)
		}
	}

	// Money on the bill, paid, waived: refused, each saying why.
	recordPayment(desk, map[string]any{"householdId": w.HB.ID, "method": "CASH", "amountFen": 5000})
	sup.ok(`mutation($in:GrantFeeReliefInput!){ grantFeeRelief(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"householdId": w.HC.ID, "fromPeriod": "2026-10", "toPeriod": "2026-10", "percent": 100, "reason": "低保户，家庭困难"}}, nil)
	refused := func(bill, want string) {
		t.Helper()
		r := fin.fails("CONFLICT", cancelQ, map[string]any{"id": bill, "r": "重复出账"})
		if !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("cancelling %s: %q, want it to say %q", bill, r.Errors[0].Message, want)
		}
	}
	refused(hbOct, "已收款 50.00 元，请先办理退款")
	recordPayment(desk, map[string]any{"householdId": w.HB.ID, "method": "CASH", "amountFen": 16500})
	refused(hbOct, "已缴清")
	refused(hcOct, "已全额减免")

	// Overdue by 20 days, past the reminders' grace: every household owing
	// has a case open.
	e.Clock.Set(time.Date(2026, 12, 20, 4, 0, 0, 0, time.UTC))
	tick := func() {
		t.Helper()
		if err := e.App.Services.Dunning.Tick(ctx, w.X.ID); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	sup, fin = e.staff(w.supervisorX, w.Password), e.staff("x.finance", w.Password)
	caseOf := func(h string) string {
		t.Helper()
		var v dunningView
		sup.ok(dunningQ, map[string]any{"h": h}, &v)
		if v.DunningCase == nil {
			return ""
		}
		return v.DunningCase.Status
	}
	if s := caseOf(w.HA.ID); s == "" || s == "CLOSED" {
		t.Fatalf("HA owes two periods and has case %q", s)
	}

	// HA's bills were wrong: finance and the supervisor cancel them.
	var out cancelled
	fin.ok(cancelQ, reason, &out)
	if b := out.CancelBill; b.Status != "CANCELLED" || b.CancelReason != "面积登记有误" || b.CancelledAt == nil || b.Outstanding != 0 {
		t.Fatalf("cancelled %+v", b)
	}
	refused(haNov, "已取消")
	sup.ok(cancelQ, map[string]any{"id": haOct, "r": "面积登记有误"}, nil)
	stored := bill(t, e, haNov)
	if last := stored.Timeline[len(stored.Timeline)-1]; last.Action != "cancel" || last.ActorID == "" || last.Note != "面积登记有误" || last.From != "ISSUED" {
		t.Fatalf("timeline %+v", last)
	}

	// Out of the arrears, the ladder and the collection rate.
	var ar struct {
		Arrears struct {
			Edges []struct{ Node struct{ HouseholdID string } }
		}
	}
	fin.ok(`query($c:ID!){ arrears(communityId:$c){ edges { node { householdId } } } }`, map[string]any{"c": w.X.ID}, &ar)
	if len(ar.Arrears.Edges) != 2 {
		t.Fatalf("arrears %+v", ar.Arrears.Edges)
	}
	for _, ed := range ar.Arrears.Edges {
		if ed.Node.HouseholdID == w.HA.ID {
			t.Fatal("HA, whose overdue bills are cancelled, is in the arrears")
		}
	}
	tick()
	if s := caseOf(w.HA.ID); s != "CLOSED" {
		t.Fatalf("HA's case is %q once its bills are cancelled", s)
	}
	billedFen, _, _, outstanding, n, err := e.App.Services.Fees.Collection(ctx, w.X.ID, "2026-11")
	if err != nil || billedFen != 21500+13500 || outstanding != 21500+13500 || n != 2 {
		t.Fatalf("collection of 2026-11: billed %d outstanding %d bills %d %v", billedFen, outstanding, n, err)
	}
	var mine struct {
		MyBills struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID, Status, CancelReason string
					Replaces, ReplacedBy     *string
					Amount                   int64
				}
			}
		}
	}
	owner := e.owner(w.OwnerA.Phone)
	myQ := `{ myBills(first:10){ totalCount edges { node { id status cancelReason replaces replacedBy amount } } } }`
	owner.ok(myQ, nil, &mine)
	if n := mine.MyBills.Edges[0].Node; mine.MyBills.TotalCount != 2 || n.ID != haNov || n.Status != "CANCELLED" || n.CancelReason != "面积登记有误" {
		t.Fatalf("the owner's bills %+v", mine.MyBills)
	}

	// The register corrected (85 m²), the bill is reissued: 185.00 元 under
	// "<id>~2", once however often it is asked for; billing the period
	// again makes nothing more.
	setArea(t, e, w.HA, 85)
	reissueQ := `mutation($id:ID!){ reissueBill(id:$id){ id status amount replaces dueDate } }`
	var re struct {
		ReissueBill struct {
			ID, Status, Replaces, DueDate string
			Amount                        int64
		}
	}
	sup.ok(reissueQ, map[string]any{"id": haNov}, &re)
	if b := re.ReissueBill; b.ID != haNov+"~2" || b.Status != "ISSUED" || b.Amount != 18500 || b.Replaces != haNov || b.DueDate != "2026-11-30" {
		t.Fatalf("reissued %+v", b)
	}
	sup.ok(reissueQ, map[string]any{"id": haNov}, &re)
	if re.ReissueBill.ID != haNov+"~2" {
		t.Fatalf("reissued again as %s", re.ReissueBill.ID)
	}
	sup.fails("CONFLICT", reissueQ, map[string]any{"id": id(w.HB.ID, "2026-11")})
	e.staff("x.desk", w.Password).fails("FORBIDDEN", reissueQ, map[string]any{"id": haOct})
	if g := genBills(sup, w.X.ID, "2026-11"); g.Created != 0 || g.AlreadyPresent != 3 {
		t.Fatalf("billing 2026-11 again after the reissue: %+v", g)
	}
	owner.ok(myQ, nil, &mine)
	if mine.MyBills.TotalCount != 3 || bill(t, e, haNov).ReplacedBy != haNov+"~2" {
		t.Fatalf("after the reissue: %+v", mine.MyBills)
	}
	billedFen, _, _, _, n, err = e.App.Services.Fees.Collection(ctx, w.X.ID, "2026-11")
	if err != nil || billedFen != 21500+13500+18500 || n != 3 {
		t.Fatalf("collection with the reissued bill: billed %d bills %d %v", billedFen, n, err)
	}
	// The owner is told of the corrected bill as of any other.
	waitFor(t, "the corrected bill's notice", func() bool {
		for _, ed := range owner.inbox().Notifications.Edges {
			if ed.Node.Kind == "FEE_BILL_ISSUED" && strings.Contains(ed.Node.Title, "更正") && strings.Contains(ed.Node.Body, "185.00") {
				return true
			}
		}
		return false
	})
}
