package finance

import (
	"math"
	"slices"
	"testing"

	"qinqing/internal/fee"
)

// Yuan and Percent are written from integers: no float ever rounds a fen.
func TestYuanAndPercentFromIntegers(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 10: "0.10", 123456: "1234.56", -5: "-0.05", -123456: "-1234.56",
		90071992547409_93: "90071992547409.93", math.MinInt64: "-92233720368547758.08"} {
		if got := fee.Yuan(fen); got != want {
			t.Errorf("fee.Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
	for _, c := range []struct {
		part, whole int64
		want        string
	}{{1, 3, "33.33%"}, {2, 3, "66.67%"}, {900_000, 950_000, "94.74%"}, {1, 1, "100.00%"}, {0, 7, "0.00%"}, {1, 80000, "0.00%"}, {1, 20000, "0.01%"}} {
		if got := Percent(c.part, c.whole); got != c.want {
			t.Errorf("Percent(%d, %d) = %q, want %q", c.part, c.whole, got, c.want)
		}
	}
}

// Periods: what is accepted, the months each covers, and the list order
// (newest end first; a month before its quarter before its year).
func TestPeriods(t *testing.T) {
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-1", "26-01", "2026-Q5", "2026-Q0", "1999", "2100-01", "+026-01", "2026-01-01", "2026-q1", "２０２６"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
	q, err := ParsePeriod("2026-Q4")
	if err != nil || !slices.Equal(q.MonthTexts(), []string{"2026-10", "2026-11", "2026-12"}) {
		t.Fatalf("2026-Q4: %v %v", q.MonthTexts(), err)
	}
	if y, _ := ParsePeriod("2026"); len(y.MonthTexts()) != 12 || y.MonthTexts()[11] != "2026-12" {
		t.Fatalf("2026: %v", y.MonthTexts())
	}
	order := []string{"2026-12", "2026-Q4", "2026", "2026-11", "2026-10", "2026-09", "2026-Q3", "2025-12", "2025"}
	keys := make([]string, len(order))
	for i, s := range order {
		p, err := ParsePeriod(s)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = p.SortKey()
	}
	if !slices.IsSorted(keys) {
		t.Fatalf("sort keys out of order: %v", keys)
	}
}

func TestStatementIDs(t *testing.T) {
	id := StatementID("65a1b2c3d4e5f60718293a4b", "2026-Q3", 2)
	c, p, v, ok := ParseID(id)
	if !ok || c != "65a1b2c3d4e5f60718293a4b" || p != "2026-Q3" || v != 2 {
		t.Fatalf("ParseID(%q) = %q %q %d %v", id, c, p, v, ok)
	}
	for _, bad := range []string{"", "x:2026-01:v1", "65a1b2c3d4e5f60718293a4b:2026-13:v1", "65a1b2c3d4e5f60718293a4b:2026-01:v0",
		"65a1b2c3d4e5f60718293a4b:2026-01:v01", "65a1b2c3d4e5f60718293a4b:2026-01:1", "65a1b2c3d4e5f60718293a4b:2026-01:v1:x", "65a1b2c3d4e5f60718293a4b:2026-01:v51"} {
		if _, _, _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}
