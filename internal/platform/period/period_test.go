package period

import (
	"testing"
	"time"
)

func TestParseAndWindow(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		in          string
		ok          bool
		start, end  string
		months, lbl string
	}{
		{"2026-11", true, "2026-11-01", "2026-12-01", "[2026-11]", "2026年11月"},
		{"2026-Q4", true, "2026-10-01", "2027-01-01", "[2026-10 2026-11 2026-12]", "2026年第4季度"},
		{"2026", true, "2026-01-01", "2027-01-01", "", "2026年度"},
		{"2026-13", false, "", "", "", ""},
		{"2026-Q5", false, "", "", "", ""},
		{"1999", false, "", "", "", ""},
		{"+202", false, "", "", "", ""},
		{"2026-1", false, "", "", "", ""},
	} {
		p, err := Parse("period", tc.in)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err %v", tc.in, err)
		}
		if !tc.ok {
			continue
		}
		if got := p.Start(loc).Format("2006-01-02"); got != tc.start {
			t.Errorf("%s start %s", tc.in, got)
		}
		if got := p.End(loc).Format("2006-01-02"); got != tc.end {
			t.Errorf("%s end %s", tc.in, got)
		}
		if tc.months != "" {
			if got := fmtList(p.MonthTexts()); got != tc.months {
				t.Errorf("%s months %s", tc.in, got)
			}
		}
		if got := p.Label(false); got != tc.lbl {
			t.Errorf("%s label %s", tc.in, got)
		}
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestSortKeyNewestFirstMonthBeforeQuarterBeforeYear(t *testing.T) {
	keys := []string{}
	for _, s := range []string{"2026-12", "2026-Q4", "2026", "2026-11", "2025"} {
		p, _ := Parse("period", s)
		keys = append(keys, p.SortKey())
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("order broken at %d: %v", i, keys)
		}
	}
}
