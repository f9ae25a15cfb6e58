package inspection

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// A schedule's occurrences are its periods in the company's calendar: each
// day (DAILY), Monday-to-Sunday week (WEEKLY), calendar month (MONTHLY), or
// the one day of a ONCE schedule, from the period it was planned in. An
// occurrence is done when an inspection recorded against the schedule was
// done (doneAt, the phone's time) within the period: an inspection done
// late counts for the period it was done in, not for the one it missed.
// An ended schedule has no occurrence beginning after it ended, nor the one
// running then unless it was done.

// OccurrenceStatus is where an occurrence stands.
type OccurrenceStatus string

const (
	Upcoming OccurrenceStatus = "UPCOMING" // its period has not begun
	Due      OccurrenceStatus = "DUE"      // its period is running, nothing recorded yet
	Overdue  OccurrenceStatus = "OVERDUE"  // its period is over, nothing recorded in it
	Done     OccurrenceStatus = "DONE"     // an inspection for the schedule was done in it
)

// Occurrence is one period of a schedule.
type Occurrence struct {
	Schedule     *Schedule
	Start, End   time.Time // [Start, End)
	Status       OccurrenceStatus
	InspectionID string // the first inspection done in it, when Done
}

// Bounds of the due list: a month's view of at most MaxSchedules schedules.
const (
	MaxDueWindow = 31 * 24 * time.Hour
	MaxSchedules = 100
)

// DueFilter picks a community's occurrences over [From, To), optionally one
// assignee's.
type DueFilter struct {
	CommunityID string
	From, To    time.Time
	AssigneeID  string
	activeOnly  bool // leave ended schedules out (the task lists)
}

// DueInspections lists the occurrences of a community's schedules whose
// periods overlap the window, by start then schedule: inspectors and
// supervisors of the community.
func (s *Service) DueInspections(ctx context.Context, c *access.Caller, f DueFilter) ([]*Occurrence, error) {
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return nil, err
	}
	if err := s.mustManage(c, f.CommunityID); err != nil {
		return nil, err
	}
	if !f.To.After(f.From) || f.To.Sub(f.From) > MaxDueWindow {
		return nil, apperr.Invalid("to", "inspection.bad_window", int(MaxDueWindow/(24*time.Hour)))
	}
	if f.AssigneeID != "" {
		if err := validate.ID("assigneeId", f.AssigneeID); err != nil {
			return nil, err
		}
	}
	return s.occurrences(ctx, f, s.now())
}

// OpenOccurrencesIn are the occurrences an assignee still owes at now: the
// running ones not done, and the past ones not done whose period ended
// within MaxAge (an offline record done in the period may still be
// uploaded; after that, nothing can make them done). For the task lists.
func (s *Service) OpenOccurrencesIn(ctx context.Context, communityID string, limit int) ([]*Occurrence, error) {
	now := s.now()
	// The longest period (a month) that ended MaxAge ago began this long before.
	from := now.Add(-MaxAge).AddDate(0, -1, -1)
	all, err := s.occurrences(ctx, DueFilter{CommunityID: communityID, From: from, To: now.Add(time.Second), activeOnly: true}, now)
	if err != nil {
		return nil, err
	}
	var out []*Occurrence
	for _, o := range all {
		if (o.Status == Due || o.Status == Overdue) && o.End.After(now.Add(-MaxAge)) && len(out) < limit {
			out = append(out, o)
		}
	}
	return out, nil
}

// occurrences: one query for the schedules, one for the inspections done
// for them in the window.
func (s *Service) occurrences(ctx context.Context, f DueFilter, now time.Time) ([]*Occurrence, error) {
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.AssigneeID != "" {
		q = append(q, bson.E{Key: "assigneeId", Value: f.AssigneeID})
	}
	if f.activeOnly {
		q = append(q, bson.E{Key: "endedAt", Value: bson.D{{Key: "$exists", Value: false}}})
	} else {
		// Schedules ended long ago have nothing in the window and must not
		// take places among the first MaxSchedules: the last occurrence of
		// an ended one ends at most a month after it ended.
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "endedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "endedAt", Value: bson.D{{Key: "$gt", Value: f.From.AddDate(0, -1, -1).UTC()}}}},
		}})
	}
	scheds, err := mongo.FindAll[Schedule](ctx, s.schedules, q, "inspection schedules",
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(MaxSchedules))
	if err != nil || len(scheds) == 0 {
		return nil, err
	}
	var out []*Occurrence
	lo, hi := f.To, f.From
	for _, sc := range scheds {
		for _, o := range periods(sc, f.From, f.To, s.loc(sc.CommunityID)) {
			out = append(out, o)
			lo, hi = minTime(lo, o.Start), maxTime(hi, o.End)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	ids := make([]string, len(scheds))
	for i, sc := range scheds {
		ids[i] = sc.ID
	}
	dq := bson.D{{Key: "communityId", Value: f.CommunityID}, {Key: "scheduleId", Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: "doneAt", Value: bson.D{{Key: "$gte", Value: lo.UTC()}, {Key: "$lt", Value: hi.UTC()}}}}
	done := map[string][]doneRef{}
	err = mongo.Stream(ctx, s.records, dq, bson.D{{Key: "scheduleId", Value: 1}, {Key: "doneAt", Value: 1}}, "scheduled inspections",
		func(d *doneRef) error {
			done[d.ScheduleID] = append(done[d.ScheduleID], *d)
			return nil
		})
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, o := range out {
		o.Status = Upcoming
		switch {
		case !now.Before(o.End):
			o.Status = Overdue
		case !now.Before(o.Start):
			o.Status = Due
		}
		for _, d := range done[o.Schedule.ID] {
			if o.Status != Done && !d.DoneAt.Before(o.Start) && d.DoneAt.Before(o.End) {
				o.Status, o.InspectionID = Done, d.ID
			}
		}
		if end := o.Schedule.EndedAt; end != nil && o.End.After(*end) && o.Status != Done {
			continue // ended while it ran, not done: no longer owed
		}
		kept = append(kept, o)
	}
	return kept, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

type doneRef struct {
	ID         string    `bson:"_id"`
	ScheduleID string    `bson:"scheduleId"`
	DoneAt     time.Time `bson:"doneAt"`
}

// periods are sc's occurrences overlapping [from, to), from the period it
// was planned in.
func periods(sc *Schedule, from, to time.Time, loc *time.Location) []*Occurrence {
	if sc.EndedAt != nil && sc.EndedAt.Before(to) {
		to = *sc.EndedAt
	}
	if sc.Frequency == Once {
		d, err := time.ParseInLocation(time.DateOnly, sc.On, loc)
		if err != nil || !d.Before(to) || !d.AddDate(0, 0, 1).After(from) {
			return nil
		}
		return []*Occurrence{{Schedule: sc, Start: d, End: d.AddDate(0, 0, 1)}}
	}
	start := periodStart(sc.Frequency, sc.CreatedAt, loc)
	if f := periodStart(sc.Frequency, from, loc); f.After(start) {
		start = f
	}
	var out []*Occurrence
	for t := start; t.Before(to); t = next(sc.Frequency, t) {
		out = append(out, &Occurrence{Schedule: sc, Start: t, End: next(sc.Frequency, t)})
	}
	return out
}

// periodStart is the start of the period of f containing t, in the
// community's time zone loc.
func periodStart(f Frequency, t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	switch f {
	case Weekly:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Monthly:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	}
	return day
}

func next(f Frequency, t time.Time) time.Time {
	switch f {
	case Weekly:
		return t.AddDate(0, 0, 7)
	case Monthly:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// weekOf and monthOf are the score buckets of a moment: the first day of
// its week (Monday) and of its month, company time.
func weekOf(t time.Time, loc *time.Location) string {
	return periodStart(Weekly, t, loc).Format(time.DateOnly)
}
func monthOf(t time.Time, loc *time.Location) string {
	return periodStart(Monthly, t, loc).Format(time.DateOnly)
}

// Title is an occurrence's line on the assignee's task list.
func (o *Occurrence) Title() string {
	freq := map[Frequency]string{Daily: "每日", Weekly: "每周", Monthly: "每月", Once: "单次"}[o.Schedule.Frequency]
	return fmt.Sprintf("品质检查：%s（%s）", AreaNames[o.Schedule.Area][0], freq)
}
