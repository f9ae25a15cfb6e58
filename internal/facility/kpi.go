package facility

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// OnPlan counts the community's planned maintenance orders due on a day
// of [from, to) (community time) whose outcome is known at now, and those
// done on plan (按计划完成): completed by the end of their due date. An
// order still open on or before its due date is not known yet. Orders not
// raised by a plan (defects, ad hoc work) are not planned maintenance.
// One streamed query over the (communityId, sortKey) index, the sort key
// starting with the due date.
func (s *Service) OnPlan(ctx context.Context, communityID string, from, to, now time.Time) (onPlan, known int, err error) {
	loc := s.cfg.Zone(communityID)
	first := from.In(loc).Format(time.DateOnly)
	// The last day the window touches: to is exclusive.
	lastDay := to.Add(-time.Nanosecond).In(loc)
	last, next := lastDay.Format(time.DateOnly), lastDay.AddDate(0, 0, 1).Format(time.DateOnly)
	today := now.In(loc).Format(time.DateOnly)
	q := bson.D{{Key: "communityId", Value: communityID},
		{Key: "sortKey", Value: bson.D{{Key: "$gte", Value: first}, {Key: "$lt", Value: next}}}}
	proj := bson.D{{Key: "planId", Value: 1}, {Key: "dueDate", Value: 1}, {Key: "status", Value: 1}, {Key: "doneAt", Value: 1}}
	err = mongo.Stream(ctx, s.orders, q, proj, "maintenance on plan", func(o *Order) error {
		if o.PlanID == "" || o.DueDate < first || o.DueDate > last {
			return nil
		}
		if o.Status == Done && o.DoneAt != nil {
			known++
			if o.DoneAt.In(loc).Format(time.DateOnly) <= o.DueDate {
				onPlan++
			}
			return nil
		}
		if o.DueDate < today {
			known++
		}
		return nil
	})
	return onPlan, known, err
}
