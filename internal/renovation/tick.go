package renovation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/lifecycle"
)

// tickBatch bounds the renovations one Tick moves per kind of work.
const tickBatch = 200

// Tick does what the calendar decides: approved renovations whose start date
// has come (community time) start, and completed ones still waiting for
// their free cleaning order get it. Every server calls it; each step is a
// guarded lifecycle step, so it happens once, and the orders service is
// idempotent by source, so a retried cleaning makes no second order.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	// One tick at a time per process (the schedules loop and a test, say);
	// a caller waits, so a returned Tick has done what was due at now.
	s.tickMu.Lock()
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
		// A completion of the last minute is left to the request that made
		// it, which orders the cleaning itself.
		pending, err := s.find(ctx, bson.D{{Key: "cleaningPending", Value: true}, {Key: "status", Value: Completed},
			{Key: "completedAt", Value: bson.D{{Key: "$lte", Value: now.UTC().Add(-time.Minute)}}}})
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
