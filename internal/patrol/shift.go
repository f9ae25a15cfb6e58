package patrol

import (
	"fmt"
	"time"
)

// clock parses "HH:MM" into the time since midnight.
func clock(s string) (time.Duration, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

// Length is how long one shift lasts: to End on the next day when End is
// not after Start.
func (s Shift) Length() time.Duration {
	a, _ := clock(s.Start)
	b, _ := clock(s.End)
	d := b - a
	if d <= 0 {
		d += 24 * time.Hour
	}
	return d
}

// occurrence is one shift on one local day.
type occurrence struct {
	start, end time.Time
	rounds     int
}

// on returns the shift starting on the local day of day.
func (s Shift) on(day time.Time, loc *time.Location) occurrence {
	a, _ := clock(s.Start)
	y, m, d := day.In(loc).Date()
	// Wall-clock start, so a shift starts at 22:00 local whatever the offset.
	start := time.Date(y, m, d, int(a/time.Hour), int(a%time.Hour/time.Minute), 0, 0, loc)
	l := s.Length()
	n := int((l + s.Every - 1) / s.Every)
	return occurrence{start: start, end: start.Add(l), rounds: n}
}

// candidates are the shifts that may hold t: those starting the day
// before, the day of and the day after t, in order.
func (s Shift) candidates(t time.Time, loc *time.Location) []occurrence {
	lt := t.In(loc)
	return []occurrence{s.on(lt.AddDate(0, 0, -1), loc), s.on(lt, loc), s.on(lt.AddDate(0, 0, 1), loc)}
}

// Current is the shift on at t, if any.
func (s Shift) current(t time.Time, loc *time.Location) (occurrence, bool) {
	for _, o := range s.candidates(t, loc) {
		if !t.Before(o.start) && t.Before(o.end) {
			return o, true
		}
	}
	return occurrence{}, false
}

func (o occurrence) roundStart(k int, every time.Duration) time.Time {
	return o.start.Add(time.Duration(k) * every)
}

// slot places a scan of cp done at t in a round: each round's slot for a
// checkpoint runs from its window's opening to the next round's, so a late
// scan still counts for the round it was late for. ok is false outside
// every round of every shift.
func (s Shift) slot(cp *Checkpoint, t time.Time, loc *time.Location) (start, due time.Time, ok bool) {
	for _, o := range s.candidates(t, loc) {
		first := o.start.Add(cp.Offset - cp.Tolerance)
		if t.Before(first) {
			continue
		}
		k := int(t.Sub(first) / s.Every)
		if k >= o.rounds {
			continue
		}
		start = o.roundStart(k, s.Every)
		return start, start.Add(cp.Offset), true
	}
	return time.Time{}, time.Time{}, false
}

// roundID names a round of route starting at start.
func roundID(routeID string, start time.Time) string {
	return fmt.Sprintf("%s:%d", routeID, start.Unix())
}
