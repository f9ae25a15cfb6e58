package freeservice

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	if x.BuildingIDs, err = s.communities.CheckBuildings(ctx, "input.buildingIds", com.ID, in.BuildingIDs, MaxBuildings); err != nil {
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

// Get returns a campaign the caller may see: staff of its community, and
// residents of a household it covers while it is active. Others: NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Campaign, error) {
	if err := validate.ID("campaignId", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Campaign](ctx, s.campaigns, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if c.WorksIn(x.CommunityID) {
		return x, nil
	}
	if !c.IsPerson() || x.Status != Active {
		return nil, ErrNotFound
	}
	mine, err := s.households.Mine(ctx, c)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(mine, x.Covers) {
		return nil, ErrNotFound
	}
	return x, s.attachMine(ctx, c, []*Campaign{x})
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
