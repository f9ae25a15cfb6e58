package kpi

import (
	"testing"
	"time"

	"qinqing/internal/fee"
)

// The billing periods a window overlaps are months in the community's zone:
// a week across a month's end reports both, the weekly line the latest.
func TestFeePeriodsAndTheWeeklyLine(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	from := time.Date(2026, 11, 30, 0, 0, 0, 0, cst)
	if got := periodsOf(from, from.AddDate(0, 0, 7), cst); len(got) != 2 || got[0] != "2026-11" || got[1] != "2026-12" {
		t.Fatalf("periods %v", got)
	}
	if got := periodsOf(time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst), cst); len(got) != 1 {
		t.Fatalf("a month ending at midnight: %v", got)
	}
	k := &KPIs{FeeCollection: []*fee.PeriodCollection{
		{Period: "2026-11", Total: fee.Figures{Billed: 100}},
		{Period: "2026-12", Total: fee.Figures{Billed: 4500000, Collected: 3000000, Relieved: 150000, Outstanding: 1350000, Bills: 300}},
	}}
	want := "物业费收缴（2026-12）：应收45000.00元，实收30000.00元，减免1500.00元，欠收13500.00元，收缴率69.0%（300户）"
	if got := feesZH(k); got != want {
		t.Fatalf("line:\n%s\nwant\n%s", got, want)
	}
	if feesZH(&KPIs{}) != "" {
		t.Fatal("a line without the fee source")
	}
}
