package seed

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/dunning"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/payment"
	"qinqing/internal/platform/auth"
)

// checkFees reads the seeded fee year as the business would look at it.
func checkFees(t *testing.T, d Deps, res *Result) {
	t.Helper()
	ctx := context.Background()
	admin := &access.Caller{Kind: auth.KindStaff, ID: "test", Roles: []access.Role{access.Admin}}
	var plans []*feeWindow

	// Every household has a bill for each of the 12 months; the collection
	// rate of the months already due is realistic.
	var billed, collected, relieved int64
	for _, c := range res.Communities {
		_, items, err := d.Fees.Schedule(ctx, admin, c.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		var mgmt *fee.ScheduledItem
		for _, it := range items {
			if it.Item.Code == "MGMT" {
				mgmt = it
			}
		}
		if mgmt == nil || len(mgmt.History) != 2 {
			t.Fatalf("%s: the management fee must show its rate change (two versions): %+v", c.Name, mgmt)
		}
		first, _ := time.ParseInLocation("2006-01", mgmt.History[1].EffectiveFrom, time.FixedZone("CST", 8*3600))
		w := newWindow(first)
		plans = append(plans, w)
		for p, period := range w.periods {
			b, col, rel, _, n, err := d.Fees.Collection(ctx, c.ID, period)
			if err != nil {
				t.Fatal(err)
			}
			if n != testHouseholds/2 {
				t.Errorf("%s %s: %d bills, want one per household", c.Name, period, n)
			}
			if p <= lastPaid {
				billed, collected, relieved = billed+b, collected+col, relieved+rel
			}
		}
	}
	rate := float64(collected) / float64(billed-relieved)
	t.Logf("collection rate of the months due: %.1f%% (billed %s, relieved %s, collected %s)", rate*100, fee.Yuan(billed), fee.Yuan(relieved), fee.Yuan(collected))
	if rate < 0.85 || rate > 0.98 {
		t.Errorf("collection rate %.3f, want between 85%% and 98%%", rate)
	}

	var bills []*fee.Bill
	find(t, d, "bills", bson.D{}, &bills)
	byStatus := map[fee.BillStatus]int{}
	versions := map[int]bool{}
	cst := time.FixedZone("CST", 8*3600)
	for _, b := range bills {
		// Issued on the 1st of their month, a year of them, not all today.
		if at := b.IssuedAt.In(cst); at.Format("2006-01") != b.Period || at.Day() != 1 {
			t.Errorf("bill %s issued %v", b.ID, at)
		}
		byStatus[b.Status]++
		for _, l := range b.Lines {
			if l.Kind == fee.Management {
				versions[l.ItemVersion] = true
			}
		}
	}
	for _, st := range []fee.BillStatus{fee.Issued, fee.PartlyPaid, fee.Paid, fee.Waived} {
		if byStatus[st] == 0 {
			t.Errorf("no bill %s: %v", st, byStatus)
		}
	}
	if !versions[1] || !versions[2] {
		t.Errorf("bills before and after the rate change must carry their versions: %v", versions)
	}

	// Relief is on the bills: a reduction, and one full waiver.
	var reliefs []*fee.Relief
	find(t, d, "fee_reliefs", bson.D{}, &reliefs)
	full := 0
	for _, r := range reliefs {
		for _, b := range bills {
			if b.HouseholdID == r.HouseholdID && b.Period >= r.FromPeriod && b.Period <= r.ToPeriod && b.Relieved == 0 {
				t.Errorf("bill %s lies in relief %s–%s but shows none", b.ID, r.FromPeriod, r.ToPeriod)
			}
		}
		if r.Percent == 100 {
			full++
		}
	}
	if len(reliefs) < 2 || full != 1 {
		t.Errorf("want relief for the households in hardship, one of them a full waiver: %d, %d full", len(reliefs), full)
	}

	// Payments by each counter method, some of them late, receipts
	// numbered without a gap.
	var pays []*payment.Payment
	find(t, d, "payments", bson.D{}, &pays)
	methods := map[payment.Method]int{}
	receipts := map[string][]int64{}
	for _, p := range pays {
		methods[p.Method]++
		if p.Status != payment.Settled || p.Unallocated != 0 {
			t.Errorf("payment %s: %s, %d unallocated", p.ID, p.Status, p.Unallocated)
		}
		receipts[p.CommunityID] = append(receipts[p.CommunityID], p.ReceiptNo)
	}
	due := map[string]string{}
	for _, b := range bills {
		due[b.ID] = b.DueDate
	}
	late := 0
	for _, p := range pays {
		if len(p.Allocations) > 0 && p.Day > due[p.Allocations[0].BillID] {
			late++
		}
	}
	if late == 0 || late > len(pays)/4 {
		t.Errorf("%d of %d payments late, want some", late, len(pays))
	}
	for _, m := range []payment.Method{payment.Cash, payment.Card, payment.BankTransfer} {
		if methods[m] == 0 {
			t.Errorf("no payment by %s: %v", m, methods)
		}
	}
	for c, ns := range receipts {
		slices.Sort(ns)
		for i, n := range ns {
			if n != int64(i+1) {
				t.Fatalf("%s: receipt numbers %v have a gap", c, ns)
			}
		}
	}

	// Households in arrears at every step of the ladder, steps a week
	// apart at least, and every finding of a call.
	var cases []*dunning.Case
	find(t, d, "dunning_cases", bson.D{}, &cases)
	statuses := map[dunning.Status]int{}
	steps := map[dunning.Step]bool{}
	outcomes := map[dunning.Outcome]bool{}
	for _, x := range cases {
		statuses[x.Status]++
		var last time.Time
		for _, r := range x.Records {
			steps[r.Step] = true
			outcomes[r.Outcome] = true
			decision := r.Outcome == dunning.Approved || r.Outcome == dunning.RefusedBySupervisor
			if !last.IsZero() && !decision && r.At.Sub(last) < 7*24*time.Hour {
				t.Errorf("case %s: %s only %v after the step before", x.ID, r.Step, r.At.Sub(last))
			}
			if !decision {
				last = r.At
			}
		}
	}
	for _, st := range []dunning.Status{dunning.Noticed, dunning.Called, dunning.WrittenNotice, dunning.LegalAsked, dunning.LegalLetter, dunning.Closed} {
		if statuses[st] == 0 {
			t.Errorf("no case %s: %v", st, statuses)
		}
	}
	for _, st := range dunning.Ladder {
		if !steps[st] {
			t.Errorf("no step %s taken", st)
		}
	}
	for _, o := range []dunning.Outcome{dunning.Promised, dunning.Dispute, dunning.HardshipFound, dunning.Approved} {
		if !outcomes[o] {
			t.Errorf("no step found %s", o)
		}
	}

	// Statements for the past months, one corrected with what changed.
	for i, c := range res.Communities {
		w := plans[i]
		fin := &access.Caller{Kind: auth.KindStaff, ID: "test", Roles: []access.Role{access.Finance}, Communities: []string{c.ID}}
		v2, err := d.Finance.Get(ctx, fin, finance.StatementID(c.ID, w.periods[8], 2))
		if err != nil {
			t.Fatalf("%s: the corrected statement: %v", c.Name, err)
		}
		if v2.ChangeNote == "" || v2.PreviousID != finance.StatementID(c.ID, w.periods[8], 1) || len(v2.Versions) != 2 || v2.Collection == nil {
			t.Errorf("%s: correction %+v", c.Name, v2)
		}
	}
}

func find[T any](t *testing.T, d Deps, col string, q bson.D, out *[]T) {
	t.Helper()
	cur, err := d.DB.Collection(col).Find(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(context.Background(), out); err != nil {
		t.Fatal(err)
	}
}
