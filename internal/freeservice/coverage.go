package freeservice

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// NotReached is the coverage of a household with no visit in the cycle:
// not booked, not visited.
const NotReached Status = "NOT_REACHED"

// CoverageStatuses in the order reports show them.
var CoverageStatuses = []Status{Done, Booked, NotHome, ProblemFound, NotReached}

// CoverageEntry is one household of the audience and how far it got.
type CoverageEntry struct {
	Household *household.Household
	Status    Status
	Visit     *Visit // nil when not reached
}

// Coverage is one page of a cycle's audience with the totals.
type Coverage struct {
	Campaign *Campaign
	Cycle    int
	Total    int            // households in the audience
	Counts   map[Status]int // by status, NOT_REACHED included
	Page     page.Page[*CoverageEntry]
}

// Coverage reports, per household of the campaign's audience, whether it is
// done, booked, not home, has a problem found, or is not reached, in
// walking order, with counts. Staff of the community; whatever the page
// size it costs four queries: the household page and its count, the page's
// visits by _id, and the counts by status.
func (s *Service) Coverage(ctx context.Context, c *access.Caller, campaignID string, cycle int, p page.Request) (*Coverage, error) {
	x, err := s.Get(ctx, c, campaignID)
	if err != nil {
		return nil, err
	}
	if !c.WorksIn(x.CommunityID) {
		return nil, apperr.ErrForbidden // a resident the campaign covers: not theirs to see
	}
	if cycle == 0 {
		cycle = x.CurrentCycle
	}
	if cycle < 1 || cycle > x.CurrentCycle {
		return nil, apperr.Invalid("cycle", "freeservice.bad_cycle", x.CurrentCycle)
	}
	hp, err := s.households.InAudience(ctx, x.CommunityID, x.BuildingIDs, p)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(hp.Items))
	for i, h := range hp.Items {
		ids[i] = visitID(x.ID, cycle, h.ID)
	}
	visits := map[string]*Visit{}
	if len(ids) > 0 {
		if visits, err = mongo.ByIDs(ctx, s.visits, ids, func(v *Visit) string { return v.HouseholdID }); err != nil {
			return nil, err
		}
	}
	counts, err := s.statusCounts(ctx, x.ID, cycle)
	if err != nil {
		return nil, err
	}
	reached := 0
	for _, n := range counts {
		reached += n
	}
	counts[NotReached] = max(hp.Total-reached, 0)
	entries := make([]*CoverageEntry, len(hp.Items))
	for i, h := range hp.Items {
		e := &CoverageEntry{Household: h, Status: NotReached}
		if v := visits[h.ID]; v != nil {
			e.Status, e.Visit = v.Status, v
		}
		entries[i] = e
	}
	return &Coverage{Campaign: x, Cycle: cycle, Total: hp.Total, Counts: counts,
		Page: page.Page[*CoverageEntry]{Items: entries, Keys: hp.Keys, HasNext: hp.HasNext, Total: hp.Total}}, nil
}

// statusCounts counts a cycle's visits by status: one aggregation with one
// $group accumulator (what FerretDB supports).
func (s *Service) statusCounts(ctx context.Context, campaignID string, cycle int) (map[Status]int, error) {
	cur, err := s.visits.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "campaignId", Value: campaignID}, {Key: "cycle", Value: cycle}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count visits: %w", err)
	}
	var rows []struct {
		Status Status `bson:"_id"`
		N      int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count visits: %w", err)
	}
	out := map[Status]int{}
	for _, st := range CoverageStatuses {
		out[st] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
