package review

import (
	"testing"
	"time"
)

// The month is the community's; the butler's weeks are those whose Monday
// falls in it and that have ended.
func TestMonthWindowAndWeeks(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, cst)
	from, to, err := MonthWindow("2026-11", cst, now)
	if err != nil || !from.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, cst)) || !to.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, cst)) {
		t.Fatalf("window %v %v %v", from, to, err)
	}
	for _, bad := range []string{"2027-01", "2026-13", "2026-1", "", "2026-11-01"} {
		if _, _, err := MonthWindow(bad, cst, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var got []string
	for _, w := range weeks(from, to, now) {
		got = append(got, w.Format("01-02"))
	}
	// 30 November's week ends on 7 December: not over yet.
	if want := "[11-02 11-09 11-16 11-23]"; fmtList(got) != want {
		t.Fatalf("weeks %v, want %s", got, want)
	}
	if wk := weekOf(time.Date(2026, 11, 15, 23, 0, 0, 0, cst)); wk != "2026-11-09" {
		t.Fatalf("week of Sunday 15th: %s", wk)
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
