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
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Limits of a campaign.
const (
	MaxTitle          = 40
	MaxDescription    = 500
	MaxBuildings      = 100
	MaxIntervalMonths = 24
	MaxCycles         = 120
	MaxDays           = 31
	MaxSlotsPerDay    = 12
	MaxSlots          = 100
	MaxCapacity       = 1000
	// DefaultCloseTime is when booking for a visit day closes, the day
	// before, in the community's time zone.
	DefaultCloseTime = "18:00"
)

// CampaignStatus says whether a campaign still runs.
type CampaignStatus string

const (
	Active CampaignStatus = "ACTIVE"
	Ended  CampaignStatus = "ENDED" // its last cycle is over
)

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

// Campaign is a free scheduled service for a community or some of its
// buildings.
type Campaign struct {
	ID             string   `bson:"_id"`
	CommunityID    string   `bson:"communityId"`
	Title          string   `bson:"title"`
	Description    string   `bson:"description,omitempty"`
	BuildingIDs    []string `bson:"buildingIds"`
	AllBuildings   bool     `bson:"allBuildings"` // no buildings named: the whole community
	IntervalMonths int      `bson:"intervalMonths"`
	Cycles         int      `bson:"cycles"`    // how many cycles it runs; 0: no end
	CloseTime      string   `bson:"closeTime"` // HH:MM, the day before a visit day
	TimeZone       string   `bson:"timeZone"`  // the community's, when created
	Days           []Day    `bson:"days"`
	CurrentCycle   int      `bson:"currentCycle"`
	// CycleEndsAt is when the current cycle's last slot ends: then Tick
	// opens the next cycle (or ends the campaign).
	CycleEndsAt time.Time      `bson:"cycleEndsAt"`
	Status      CampaignStatus `bson:"status"`
	CreatedBy   string         `bson:"createdBy"`
	CreatedAt   time.Time      `bson:"createdAt"`
	UpdatedAt   time.Time      `bson:"updatedAt"`
	SortKey     string         `bson:"sortKey"` // newest first
	// MyVisits are, for a resident reading it, their households' visits in
	// the current cycle (filled by List and Get; not stored).
	MyVisits []*Visit `bson:"-"`
}

// Covers reports whether household h is in the campaign's audience: its
// community, and one of its buildings if it names some.
func (x *Campaign) Covers(h *household.Household) bool {
	return h.CommunityID == x.CommunityID && (x.AllBuildings || slices.Contains(x.BuildingIDs, h.BuildingID))
}

func (x *Campaign) location() *time.Location {
	loc, err := time.LoadLocation(x.TimeZone)
	if err != nil {
		loc, _ = time.LoadLocation(community.DefaultTimeZone)
	}
	return loc
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

// CreateInput is a new campaign.
type CreateInput struct {
	CommunityID    string
	Title          string
	Description    string
	BuildingIDs    []string // empty: the whole community
	IntervalMonths int
	Cycles         int    // 0: no end
	CloseTime      string // HH:MM; empty: 18:00
	Days           []Day
}

// Create stores a campaign and opens its first cycle. Only supervisors of
// the community; staff of another community get NOT_FOUND.
func (s *Service) Create(ctx context.Context, c *access.Caller, in CreateInput) (*Campaign, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	com, err := s.communities.Get(ctx, c, in.CommunityID)
	if err != nil {
		return nil, err
	}
	if !c.SupervisesIn(com.ID) {
		return nil, apperr.ErrForbidden
	}
	x := &Campaign{ID: mongo.NewID(), CommunityID: com.ID, TimeZone: com.Location().String(), CurrentCycle: 1, Status: Active, CreatedBy: c.ID}
	if x.Title, err = validate.Text("input.title", in.Title, true, MaxTitle); err != nil {
		return nil, err
	}
	if x.Description, err = validate.Text("input.description", in.Description, false, MaxDescription); err != nil {
		return nil, err
	}
	if x.BuildingIDs, err = s.checkBuildings(ctx, com.ID, in.BuildingIDs); err != nil {
		return nil, err
	}
	x.AllBuildings = len(x.BuildingIDs) == 0
	if in.IntervalMonths < 1 || in.IntervalMonths > MaxIntervalMonths {
		return nil, apperr.Invalid("input.intervalMonths", "input.out_of_range", 1, MaxIntervalMonths)
	}
	x.IntervalMonths = in.IntervalMonths
	if in.Cycles < 0 || in.Cycles > MaxCycles {
		return nil, apperr.Invalid("input.cycles", "input.out_of_range", 1, MaxCycles)
	}
	x.Cycles = in.Cycles
	x.CloseTime = DefaultCloseTime
	if in.CloseTime != "" {
		if _, _, err := clock(in.CloseTime); err != nil {
			return nil, apperr.Invalid("input.bookingCloseTime", "freeservice.bad_clock")
		}
		x.CloseTime = in.CloseTime
	}
	now := s.now().UTC()
	if x.Days, err = checkDays(in.Days, x.IntervalMonths, now.In(x.location())); err != nil {
		return nil, err
	}
	slots, err := x.cycleSlots(1)
	if err != nil {
		return nil, err
	}
	x.CycleEndsAt = cycleEnd(slots)
	x.CreatedAt, x.UpdatedAt = now, now
	x.SortKey = page.NewestFirst(now, x.ID)
	// Slots first: slots of a campaign that failed to store are never
	// reachable, while a campaign without its slots would be.
	if err := s.insertSlots(ctx, slots); err != nil {
		return nil, err
	}
	if _, err := s.campaigns.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert campaign: %w", err)
	}
	s.publish(ctx, c, "campaign_created", x.CommunityID, "", x.ID, map[string]any{"title": x.Title, "cycle": 1, "summary": x.Title})
	return x, nil
}

// checkBuildings validates building ids: well-formed, of the community,
// each once.
func (s *Service) checkBuildings(ctx context.Context, communityID string, ids []string) ([]string, error) {
	if err := validate.IDs("input.buildingIds", ids, MaxBuildings); err != nil {
		return nil, err
	}
	out := []string{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	of, err := s.communities.CommunityIDsOfBuildings(ctx, out)
	if err != nil {
		return nil, err
	}
	for _, id := range out {
		if of[id] != communityID {
			return nil, community.ErrBuildingNotFound.WithField("input.buildingIds")
		}
	}
	return out, nil
}

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

// Get returns a campaign the caller may see: staff of its community, and
// residents of a household it covers while it is active. Others: NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Campaign, error) {
	x, _, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return x, s.attachMine(ctx, c, []*Campaign{x})
}

// visible is Get with the caller's households the campaign covers (none
// for staff).
func (s *Service) visible(ctx context.Context, c *access.Caller, id string) (*Campaign, []*household.Household, error) {
	if err := validate.ID("campaignId", id); err != nil {
		return nil, nil, err
	}
	x, err := mongo.FindByID[Campaign](ctx, s.campaigns, id, ErrNotFound)
	if err != nil {
		return nil, nil, err
	}
	if c.WorksIn(x.CommunityID) {
		return x, nil, nil
	}
	if !c.IsPerson() || x.Status != Active {
		return nil, nil, ErrNotFound
	}
	mine, err := s.households.Mine(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	var covered []*household.Household
	for _, h := range mine {
		if x.Covers(h) {
			covered = append(covered, h)
		}
	}
	if len(covered) == 0 {
		return nil, nil, ErrNotFound
	}
	return x, covered, nil
}

// List is a community's campaigns, newest first: all of them for its staff;
// for its residents the active ones that cover one of their households.
// Anyone else: NOT_FOUND, as for a community they cannot see.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Campaign], error) {
	var none page.Page[*Campaign]
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	switch {
	case c.WorksIn(communityID):
	case c.IsPerson():
		mine, err := s.households.Mine(ctx, c)
		if err != nil {
			return none, err
		}
		buildings := []string{}
		for _, h := range mine {
			if h.CommunityID == communityID {
				buildings = append(buildings, h.BuildingID)
			}
		}
		if len(buildings) == 0 {
			return none, community.ErrNotFound
		}
		q = append(q, bson.E{Key: "status", Value: Active}, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "allBuildings", Value: true}},
			bson.D{{Key: "buildingIds", Value: bson.D{{Key: "$in", Value: buildings}}}},
		}})
	default:
		return none, community.ErrNotFound
	}
	pg, err := mongo.FindPage(ctx, s.campaigns, q, p, mongo.PageQuery{Count: true}, func(x *Campaign) string { return x.SortKey })
	if err != nil {
		return none, err
	}
	return pg, s.attachMine(ctx, c, pg.Items)
}

// attachMine fills a resident's own visits of the current cycle into each
// campaign: one query by derived _id for the whole page, so the owner app
// shows what each household booked without a query per campaign.
func (s *Service) attachMine(ctx context.Context, c *access.Caller, list []*Campaign) error {
	if !c.IsPerson() || len(list) == 0 || len(c.Memberships) == 0 {
		return nil
	}
	ids := make([]string, 0, len(list)*len(c.Memberships))
	for _, x := range list {
		for _, m := range c.Memberships {
			ids = append(ids, visitID(x.ID, x.CurrentCycle, m.HouseholdID))
		}
	}
	vs, err := mongo.ByIDs(ctx, s.visits, ids, func(v *Visit) string { return v.ID })
	if err != nil {
		return err
	}
	for _, x := range list {
		x.MyVisits = []*Visit{}
		for _, m := range c.Memberships {
			if v := vs[visitID(x.ID, x.CurrentCycle, m.HouseholdID)]; v != nil {
				x.MyVisits = append(x.MyVisits, v)
			}
		}
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
		options.Find().SetSort(bson.D{{Key: "startsAt", Value: 1}, {Key: "index", Value: 1}}))
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
