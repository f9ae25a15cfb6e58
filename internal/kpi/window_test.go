package kpi

import (
	"testing"
	"time"

	"qinqing/internal/complaint"
)

// Windows are [from, to): a moment exactly at from counts, one exactly at
// to belongs to the next window; weeks run Monday to Sunday in the
// community's zone.
func TestWindowBoundaries(t *testing.T) {
	f := newFixture(t)
	b := cst(2026, 3, 9, 0, 0) // Monday 00:00 Shanghai = Sunday 16:00 UTC
	ms := time.Millisecond     // the database keeps milliseconds
	// S: submitted at the very start of the previous week, never taken
	// (respond due at b-7d+30m, missed). P: submitted a minute before b,
	// taken exactly at b (respond due b+29m, met). Q: a complaint at b.
	f.repair(b.AddDate(0, 0, -7))
	f.repair(b.Add(-time.Minute), f.take(b))
	f.complaint(b, f.cx(b.Add(time.Hour), func(c *complaint.Service, id string) (*complaint.Complaint, error) {
		return c.Acknowledge(f.ctx, f.butler, id)
	}))
	f.clock.Set(b.Add(48 * time.Hour))

	tests := []struct {
		name                       string
		from, to                   time.Time
		newRepairs, taken          int
		respondMet, respondDue     int
		newComplaints, openRepairs int
	}{
		{"the previous week", b.AddDate(0, 0, -7), b, 2, 0, 0, 1, 0, 2},
		{"this week", b, b.AddDate(0, 0, 7), 0, 1, 1, 1, 1, 2},
		{"the last minute before b", b.Add(-time.Minute), b, 1, 0, 0, 0, 0, 2},
		{"the first millisecond of b", b, b.Add(ms), 0, 1, 0, 0, 1, 2},
		{"just before S", b.AddDate(0, 0, -7).Add(-ms), b.AddDate(0, 0, -7), 0, 0, 0, 0, 0, 0},
		{"from S on, a millisecond", b.AddDate(0, 0, -7), b.AddDate(0, 0, -7).Add(ms), 1, 0, 0, 0, 0, 1},
		{"S's respond deadline falls due", b.AddDate(0, 0, -7).Add(30 * time.Minute), b.AddDate(0, 0, -7).Add(31 * time.Minute), 0, 0, 0, 1, 0, 1},
		{"P's respond deadline falls due", b.Add(29 * time.Minute), b.Add(30 * time.Minute), 0, 0, 1, 1, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := f.svc.ServiceKPIs(f.ctx, f.supervisor, f.x.ID, tc.from, tc.to)
			f.must(err)
			if k.Counts.NewRepairs != tc.newRepairs || k.AverageResponseTime.Count != tc.taken || k.Counts.NewComplaints != tc.newComplaints ||
				k.Counts.OpenRepairs != tc.openRepairs {
				t.Errorf("new repairs %d, taken %d, new complaints %d, open %d; want %d, %d, %d, %d", k.Counts.NewRepairs, k.AverageResponseTime.Count,
					k.Counts.NewComplaints, k.Counts.OpenRepairs, tc.newRepairs, tc.taken, tc.newComplaints, tc.openRepairs)
			}
			wantRatio(t, "respond on time", k.OnTime.Respond, tc.respondMet, tc.respondDue)
		})
	}
}

func TestWeekOfADate(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ weekOf, start, end string }{
		{"2026-03-09", "2026-03-09", "2026-03-15"}, // a Monday is its own week's start
		{"2026-03-15", "2026-03-09", "2026-03-15"}, // Sunday closes it
		{"2026-03-08", "2026-03-02", "2026-03-08"},
		{"2026-01-01", "2025-12-29", "2026-01-04"}, // across the new year
	}
	for _, tc := range tests {
		r, err := f.svc.WeeklyReport(f.ctx, f.supervisor, f.x.ID, tc.weekOf)
		f.must(err)
		if r.WeekStart != tc.start || r.WeekEnd != tc.end || !r.Current.From.Equal(mustDate(tc.start)) || !r.Current.To.Equal(mustDate(tc.end).AddDate(0, 0, 1)) {
			t.Errorf("week of %s = %s..%s [%v, %v)", tc.weekOf, r.WeekStart, r.WeekEnd, r.Current.From, r.Current.To)
		}
	}
	// The community's zone decides the day: Monday 00:10 in Shanghai is
	// still Sunday in UTC, and already the new week.
	instants := []struct {
		at   time.Time
		want string
	}{
		{cst(2026, 3, 9, 0, 10), "2026-03-09"},
		{cst(2026, 3, 8, 23, 59), "2026-03-02"},
		{cst(2026, 3, 15, 23, 59), "2026-03-09"},
	}
	for _, tc := range instants {
		if got := monday(tc.at.UTC().In(shanghai)).Format(time.DateOnly); got != tc.want {
			t.Errorf("monday of %v = %s, want %s", tc.at, got, tc.want)
		}
	}
}

func mustDate(s string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		panic(err)
	}
	return d
}
