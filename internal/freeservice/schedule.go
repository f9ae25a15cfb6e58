package freeservice

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// The schedule of a campaign: visit days and their slots, the dates of
// later cycles, when booking closes, and the slots as stored and read.

// SlotSpec is one time slot of a visit day, in the community's local time.
type SlotSpec struct {
	Start    string `bson:"start"` // HH:MM
	End      string `bson:"end"`
	Capacity int    `bson:"capacity"` // households per slot
}

// Day is a visit day of the first cycle; later cycles repeat it N months on.
type Day struct {
	Date  string     `bson:"date"` // YYYY-MM-DD
	Slots []SlotSpec `bson:"slots"`
}

// Slot is one time slot of one cycle.
type Slot struct {
	ID          string    `bson:"_id"` // derived from campaign, cycle and index
	CampaignID  string    `bson:"campaignId"`
	CommunityID string    `bson:"communityId"`
	Cycle       int       `bson:"cycle"`
	Index       int       `bson:"index"`
	Date        string    `bson:"date"`
	Start       string    `bson:"start"`
	End         string    `bson:"end"`
	StartsAt    time.Time `bson:"startsAt"`
	EndsAt      time.Time `bson:"endsAt"`
	ClosesAt    time.Time `bson:"closesAt"` // booking closes: the day before at the campaign's close time
	Capacity    int       `bson:"capacity"`
	Reminded    bool      `bson:"reminded"` // the evening-before reminder went out
	// Booked is how many seats are taken, filled when slots are read.
	Booked int `bson:"-"`
}

// Remaining is how many households can still book the slot.
func (sl *Slot) Remaining() int { return max(sl.Capacity-sl.Booked, 0) }

// Closed reports whether booking (and moving out of) the slot has closed.
func (sl *Slot) Closed(now time.Time) bool { return !now.Before(sl.ClosesAt) }

// checkDays validates the first cycle's visit days (sorted by date): after
// today in the community's zone, each date once, slots that end after they
// start, and all days within one interval so cycles never overlap.
func checkDays(days []Day, interval int, today time.Time) ([]Day, error) {
	if len(days) == 0 {
		return nil, apperr.Invalid("input.visitDays", "input.required")
	}
	if len(days) > MaxDays {
		return nil, apperr.Invalid("input.visitDays", "input.too_many", MaxDays)
	}
	out := make([]Day, len(days))
	total := 0
	for i, d := range days {
		field := fmt.Sprintf("input.visitDays.%d", i)
		t, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			return nil, apperr.Invalid(field+".date", "input.bad_date")
		}
		if t.Format(time.DateOnly) <= today.Format(time.DateOnly) {
			return nil, apperr.Invalid(field+".date", "freeservice.past_day")
		}
		if len(d.Slots) == 0 {
			return nil, apperr.Invalid(field+".slots", "input.required")
		}
		if len(d.Slots) > MaxSlotsPerDay {
			return nil, apperr.Invalid(field+".slots", "input.too_many", MaxSlotsPerDay)
		}
		total += len(d.Slots)
		for j, sp := range d.Slots {
			sf := fmt.Sprintf("%s.slots.%d", field, j)
			sh, sm, err1 := clock(sp.Start)
			eh, em, err2 := clock(sp.End)
			switch {
			case err1 != nil:
				return nil, apperr.Invalid(sf+".start", "freeservice.bad_clock")
			case err2 != nil:
				return nil, apperr.Invalid(sf+".end", "freeservice.bad_clock")
			case eh*60+em <= sh*60+sm:
				return nil, apperr.Invalid(sf+".end", "freeservice.bad_slot")
			case sp.Capacity < 1 || sp.Capacity > MaxCapacity:
				return nil, apperr.Invalid(sf+".capacity", "input.out_of_range", 1, MaxCapacity)
			}
		}
		out[i] = Day{Date: t.Format(time.DateOnly), Slots: slices.Clone(d.Slots)}
	}
	if total > MaxSlots {
		return nil, apperr.Invalid("input.visitDays", "input.too_many", MaxSlots)
	}
	slices.SortFunc(out, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	for i := 1; i < len(out); i++ {
		if out[i].Date == out[i-1].Date {
			return nil, apperr.Invalid("input.visitDays", "freeservice.duplicate_day")
		}
	}
	if out[len(out)-1].Date >= shiftDate(out[0].Date, interval) {
		return nil, apperr.Invalid("input.visitDays", "freeservice.cycle_too_long", interval)
	}
	return out, nil
}

// clock parses a local time of day, HH:MM.
func clock(s string) (h, m int, err error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("bad time of day %q", s)
	}
	return t.Hour(), t.Minute(), nil
}

// shiftDate moves a date by months, keeping the day of the month where the
// month has it and the month's last day otherwise (31 Jan + 1 = 28/29 Feb),
// so a cycle never spills into the month after.
func shiftDate(date string, months int) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	first := time.Date(t.Year(), t.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(t.Day(), last), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// at is a local date and time of day in loc, as an instant.
func at(date, hhmm string, loc *time.Location, dayOffset int) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, err
	}
	h, m, err := clock(hhmm)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day()+dayOffset, h, m, 0, 0, loc).UTC(), nil
}

// ClosesAt is when booking for a visit day closes: the day before, at
// closeTime in the community's zone.
func ClosesAt(date, closeTime string, loc *time.Location) (time.Time, error) {
	return at(date, closeTime, loc, -1)
}

// cycleSlots are the slots of cycle n: the first cycle's days moved on by
// (n-1) intervals.
func (x *Campaign) cycleSlots(n int) ([]*Slot, error) {
	loc := x.location()
	var out []*Slot
	for _, d := range x.Days {
		date := shiftDate(d.Date, (n-1)*x.IntervalMonths)
		closes, err := ClosesAt(date, x.CloseTime, loc)
		if err != nil {
			return nil, err
		}
		for _, sp := range d.Slots {
			starts, err := at(date, sp.Start, loc, 0)
			if err != nil {
				return nil, err
			}
			ends, err := at(date, sp.End, loc, 0)
			if err != nil {
				return nil, err
			}
			i := len(out)
			out = append(out, &Slot{ID: slotID(x.ID, n, i), CampaignID: x.ID, CommunityID: x.CommunityID, Cycle: n, Index: i,
				Date: date, Start: sp.Start, End: sp.End, StartsAt: starts, EndsAt: ends, ClosesAt: closes, Capacity: sp.Capacity})
		}
	}
	return out, nil
}

func cycleEnd(slots []*Slot) time.Time {
	var end time.Time
	for _, sl := range slots {
		if sl.EndsAt.After(end) {
			end = sl.EndsAt
		}
	}
	return end
}

// insertSlots stores slots; ones already there (a cycle opened twice) are
// left as they are.
func (s *Service) insertSlots(ctx context.Context, slots []*Slot) error {
	docs := make([]any, len(slots))
	for i, sl := range slots {
		docs[i] = sl
	}
	_, err := s.slots.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("insert slots: %w", err)
	}
	return nil
}

// Slots are the current cycle's slots in time order with how many seats
// each has left, for the campaign's staff and the residents it covers.
func (s *Service) Slots(ctx context.Context, c *access.Caller, campaignID string) ([]*Slot, error) {
	x, err := s.Get(ctx, c, campaignID)
	if err != nil {
		return nil, err
	}
	return s.cycleSlotsWithCounts(ctx, x.ID, x.CurrentCycle)
}

func (s *Service) cycleSlotsWithCounts(ctx context.Context, campaignID string, cycle int) ([]*Slot, error) {
	cur, err := s.slots.Find(ctx, bson.D{{Key: "campaignId", Value: campaignID}, {Key: "cycle", Value: cycle}},
		// A cycle is written with at most MaxSlots slots; the limit keeps the
		// read to that promise (schema: campaignSlots).
		options.Find().SetSort(bson.D{{Key: "startsAt", Value: 1}, {Key: "index", Value: 1}}).SetLimit(MaxSlots))
	if err != nil {
		return nil, fmt.Errorf("slots of %s: %w", campaignID, err)
	}
	list := []*Slot{}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("slots of %s: %w", campaignID, err)
	}
	ids := make([]string, len(list))
	for i, sl := range list {
		ids[i] = sl.ID
	}
	taken, err := s.seatCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, sl := range list {
		sl.Booked = taken[sl.ID]
	}
	return list, nil
}
