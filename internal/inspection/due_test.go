package inspection

import (
	"testing"
	"time"
)

// Periods follow the company's calendar: a week is Monday to Sunday, UTC+8,
// and a schedule's first period is the one it was planned in.
func TestPeriods(t *testing.T) {
	planned := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // Tuesday 1 Dec 01:00 in UTC+8
	from, to := time.Date(2026, 11, 20, 0, 0, 0, 0, cst), time.Date(2026, 12, 15, 0, 0, 0, 0, cst)
	for _, tc := range []struct {
		f      Frequency
		on     string
		n      int
		first  string
		firstE string
	}{
		{Daily, "", 14, "2026-12-01", "2026-12-02"},
		{Weekly, "", 3, "2026-11-30", "2026-12-07"},
		{Monthly, "", 1, "2026-12-01", "2027-01-01"},
		{Once, "2026-12-10", 1, "2026-12-10", "2026-12-11"},
	} {
		got := periods(&Schedule{Frequency: tc.f, On: tc.on, CreatedAt: planned}, from, to, cst)
		if len(got) != tc.n || got[0].Start.In(cst).Format(time.DateOnly) != tc.first || got[0].End.In(cst).Format(time.DateOnly) != tc.firstE {
			t.Errorf("%s: %d periods from %v to %v", tc.f, len(got), got[0].Start, got[0].End)
		}
	}
	// Ended on 3 Dec at noon: no period begins after that.
	ended := time.Date(2026, 12, 3, 12, 0, 0, 0, cst)
	if got := periods(&Schedule{Frequency: Daily, CreatedAt: planned, EndedAt: &ended}, from, to, cst); len(got) != 3 || !got[2].End.Equal(ended.Add(12*time.Hour)) {
		t.Errorf("ended daily: %d periods", len(got))
	}
	if got := periods(&Schedule{Frequency: Once, On: "2026-12-10", CreatedAt: planned, EndedAt: &ended}, from, to, cst); len(got) != 0 {
		t.Errorf("a one-off ended before its day: %d periods", len(got))
	}
	if w, m := weekOf(planned, cst), monthOf(planned, cst); w != "2026-11-30" || m != "2026-12-01" {
		t.Errorf("buckets of %v: week %s month %s", planned, w, m)
	}
	if got := bucketStarts(WeekBucket, from, to, cst); len(got) != 5 || got[0] != "2026-11-16" || got[4] != "2026-12-14" {
		t.Errorf("week buckets %v", got)
	}
}

func TestPerMilleRoundsDown(t *testing.T) {
	if p := (Count{Passed: 2, Total: 3}).PerMille(); p == nil || *p != 666 {
		t.Errorf("2/3: %v", p)
	}
	if p := (Count{}).PerMille(); p != nil {
		t.Errorf("0/0: %v", *p)
	}
}
