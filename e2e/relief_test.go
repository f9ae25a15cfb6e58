package e2e

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
)

// Relief for a family in hardship: a supervisor waives three months; the
// open bill is waived, the part-paid one keeps what was paid and owes
// nothing more, and the next month's bill is issued waived. The household
// reads the grant and its reason; staff reads of the reason are audited;
// finance clerks cannot grant, staff of another community and other
// households see nothing.
func TestFeeReliefForAFamilyInHardship(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup := e.staff(w.supervisorX, w.Password)
	finance := e.staffWithRole(w, "x.finance", access.Finance)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "综合服务费", "rate": 15000, "effectiveFrom": "2026-01"}}, nil)
	genBills(sup, w.X.ID, "2026-10")
	genBills(sup, w.X.ID, "2026-11")
	oct, nov := "bill:"+w.X.ID+":"+w.HA.ID+":2026-10", "bill:"+w.X.ID+":"+w.HA.ID+":2026-11"
	finance.ok(`mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 5000, "billIds": []string{oct}}}, nil)

	grant := `mutation($in:GrantFeeReliefInput!){ grantFeeRelief(input:$in){ id percent relievedOnIssuedFen grantedBy { account } } }`
	in := map[string]any{"householdId": w.HA.ID, "fromPeriod": "2026-10", "toPeriod": "2026-12", "percent": 100, "reason": "低保户，老人独居，家庭困难"}
	bad := map[string]any{}
	for k, v := range in {
		bad[k] = v
	}
	bad["percent"] = 0
	if r := sup.fails("BAD_USER_INPUT", grant, map[string]any{"in": bad}); r.field() != "input.percent" {
		t.Fatalf("percent 0: field %q", r.field())
	}
	finance.fails("FORBIDDEN", grant, map[string]any{"in": in})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", grant, map[string]any{"in": in})
	var g struct {
		GrantFeeRelief struct {
			ID                  string
			RelievedOnIssuedFen int64
			GrantedBy           struct{ Account string }
		}
	}
	sup.ok(grant, map[string]any{"in": in}, &g)
	if g.GrantFeeRelief.RelievedOnIssuedFen != 10000+15000 || g.GrantFeeRelief.GrantedBy.Account != w.supervisorX {
		t.Fatalf("granted: %+v", g)
	}
	owner := e.owner(w.OwnerA.Phone)
	for id, want := range map[string]string{oct: "PAID", nov: "WAIVED"} {
		if b := billOf(owner, id); b.Status != want || b.Outstanding != 0 {
			t.Fatalf("%s after relief: %+v", id, b)
		}
	}
	genBills(sup, w.X.ID, "2026-12")
	if b := billOf(owner, "bill:"+w.X.ID+":"+w.HA.ID+":2026-12"); b.Status != "WAIVED" || b.Amount != 15000 {
		t.Fatalf("December, issued after the grant: %+v", b)
	}
	if b := billOf(sup, "bill:"+w.X.ID+":"+w.HB.ID+":2026-12"); b.Status != "ISSUED" || b.Outstanding != 15000 {
		t.Fatalf("the neighbour's December: %+v", b)
	}

	// October's collection in the KPIs: 3 bills of 150 yuan, 50 paid, 100
	// relieved; the rate counts what is owed after relief.
	var k struct {
		ServiceKpis struct {
			FeeCollection []struct {
				Period                                   string
				Billed, Collected, Relieved, Outstanding int64
				Bills                                    int
				Rate                                     *float64
				ByBuilding                               []struct {
					Building struct{ ID string }
					Billed   int64
				}
			}
		}
	}
	sup.ok(`query($c:ID!){ serviceKpis(communityId:$c, from:"2026-10-01T00:00:00+08:00", to:"2026-11-01T00:00:00+08:00"){
	  feeCollection { period billed collected relieved outstanding bills rate byBuilding { building { id } billed } } } }`, map[string]any{"c": w.X.ID}, &k)
	fc := k.ServiceKpis.FeeCollection
	if len(fc) != 1 || fc[0].Period != "2026-10" || fc[0].Billed != 45000 || fc[0].Collected != 5000 || fc[0].Relieved != 10000 ||
		fc[0].Outstanding != 30000 || fc[0].Bills != 3 || fc[0].Rate == nil || *fc[0].Rate != 5000.0/35000.0 || len(fc[0].ByBuilding) != 2 {
		t.Fatalf("fee collection KPI: %+v", fc)
	}

	// Who reads it, and the audit of staff reads.
	list := `query($h:ID!){ feeReliefs(householdId:$h){ id reason percent } }`
	audits := func() int64 {
		n, err := e.DB.Collection("archive_audit").CountDocuments(context.Background(), bson.D{{Key: "fields", Value: "feeRelief.reason"}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var mine struct{ FeeReliefs []struct{ Reason string } }
	owner.ok(list, map[string]any{"h": w.HA.ID}, &mine)
	if len(mine.FeeReliefs) != 1 || mine.FeeReliefs[0].Reason != in["reason"] || audits() != 0 {
		t.Fatalf("the family's own read: %+v, %d audit rows", mine, audits())
	}
	sup.ok(list, map[string]any{"h": w.HA.ID}, nil)
	if n := audits(); n != 1 {
		t.Fatalf("a supervisor's read wrote %d audit rows", n)
	}
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", list, map[string]any{"h": w.HA.ID})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", list, map[string]any{"h": w.HA.ID})
}
