package renovation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Filter narrows a list. One list serves everybody, asked the same way:
// staff name the community they work in; anybody who may see a household
// names it; a resident who names neither gets their own households'.
type Filter struct {
	CommunityID string
	HouseholdID string
	Status      Status
}

// List returns renovations newest first.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Renovation], error) {
	var none page.Page[*Renovation]
	q := bson.D{}
	count := false
	switch {
	case f.HouseholdID != "":
		if err := validate.ID("householdId", f.HouseholdID); err != nil {
			return none, err
		}
		// NOT_FOUND for a household the caller may not see, as everywhere.
		if _, err := s.households.Get(ctx, c, f.HouseholdID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "householdId", Value: f.HouseholdID})
		if f.CommunityID != "" {
			q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		}
	case f.CommunityID != "":
		if err := validate.ID("communityId", f.CommunityID); err != nil {
			return none, err
		}
		if !c.WorksIn(f.CommunityID) {
			return none, apperr.ErrForbidden
		}
		q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		count = true
	case c.IsPerson():
		ids := []string{}
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
		q = append(q, bson.E{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}})
	default:
		return none, apperr.Invalid("communityId", "input.required")
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	// The list screens need no timelines: leave them in the database.
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(r *Renovation) string { return r.SortKey })
}

// tickBatch bounds the renovations one Tick moves per kind of work.
const tickBatch = 200

// Tick does what the calendar decides: approved renovations whose start date
// has come (community time) start, and completed ones still waiting for
// their free cleaning order get it. Every server calls it; each step is a
// guarded lifecycle step, so it happens once, and the orders service is
// idempotent by source, so a retried cleaning makes no second order.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	if !s.tickMu.TryLock() {
		return nil // the previous tick is still running
	}
	defer s.tickMu.Unlock()
	var errs []error
	// No community is more than 14 hours ahead of UTC: nothing starting
	// later than that date can be due anywhere.
	latest := now.UTC().Add(14 * time.Hour).Format(time.DateOnly)
	due, err := s.find(ctx, bson.D{{Key: "status", Value: Approved}, {Key: "startDate", Value: bson.D{{Key: "$lte", Value: latest}}}})
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range due {
		if r.StartDate > now.In(s.zone(r.CommunityID)).Format(time.DateOnly) {
			continue
		}
		if _, err := s.start(ctx, r); err != nil && !isLostRace(err) {
			errs = append(errs, fmt.Errorf("start renovation %s: %w", r.ID, err))
		}
	}
	if s.cleaning != nil {
		pending, err := s.find(ctx, bson.D{{Key: "cleaningPending", Value: true}, {Key: "status", Value: Completed}})
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range pending {
			s.orderCleaning(ctx, r)
		}
	}
	return errors.Join(errs...)
}

// isLostRace: another server (or an inspection) moved it first.
func isLostRace(err error) bool {
	return errors.Is(err, lifecycle.ErrStale) || errors.Is(err, lifecycle.ErrIllegal)
}

func (s *Service) find(ctx context.Context, q bson.D) ([]*Renovation, error) {
	cur, err := s.col.Find(ctx, q, options.Find().SetLimit(tickBatch).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("find renovations: %w", err)
	}
	var out []*Renovation
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find renovations: %w", err)
	}
	return out, nil
}
