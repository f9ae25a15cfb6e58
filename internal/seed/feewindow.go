package seed

import (
	"math/rand/v2"
	"time"
)

// tickHour is when the reminder run goes, after the start of a day.
const tickHour = 9 * time.Hour

// tickDays spaces the replayed reminder runs. The server runs them hourly;
// the replay runs them weekly, the ladder's interval, which sends every
// reminder the hourly run would have sent, up to six days later, at a
// seventh of the cost.
const tickDays = 7

// feeWindow is the year the seed replays for a community: 12 months in its
// time zone, fixed by the first run (the management fee takes effect from
// the window's first month), so a rerun on a later day or month finds the
// same year and creates nothing.
type feeWindow struct {
	loc     *time.Location
	start   [13]time.Time // local midnight starting each period; [12] the month after
	periods [12]string
	// horizon ends the replay: the current period's bills are issued just
	// before it, on its 1st at 08:30.
	horizon time.Time
}

// newWindow is the window whose first period starts at first (a local
// month start).
func newWindow(first time.Time) *feeWindow {
	w := &feeWindow{loc: first.Location()}
	for p := range 13 {
		w.start[p] = first.AddDate(0, p, 0)
		if p < 12 {
			w.periods[p] = w.start[p].Format("2006-01")
		}
	}
	w.horizon = w.start[11].Add(tickHour)
	return w
}

// windowEndingAt is the window whose last period is the month now is in,
// once that month's bills are out (09:00 on the 1st); before that, the
// month before.
func windowEndingAt(now time.Time, loc *time.Location) *feeWindow {
	t := now.In(loc).Add(-tickHour)
	cur := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	return newWindow(cur.AddDate(0, -11, 0))
}

// firstTick is the first reminder run at or after t.
func (w *feeWindow) firstTick(t time.Time) time.Time {
	at := w.start[1].Add(tickHour)
	for at.Before(t) {
		at = at.AddDate(0, 0, tickDays)
	}
	return at
}

// day is a moment in working hours on day d of period p.
func (w *feeWindow) day(p, d int, r *rand.Rand) time.Time {
	return w.start[p].AddDate(0, 0, d-1).Add(tickHour + time.Duration(r.IntN(8*60))*time.Minute)
}

// periodOf is the period t falls in (-1 before the window, 12 after).
func (w *feeWindow) periodOf(t time.Time) int {
	for p := 11; p >= 0; p-- {
		if !t.Before(w.start[p]) {
			if !t.Before(w.start[12]) {
				return 12
			}
			return p
		}
	}
	return -1
}
