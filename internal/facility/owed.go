package facility

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// OwedIn are a community's open work orders someone owes now, earliest due
// first: every order past its due date (on the supervisors' task lists),
// and every open defect order (on its assignee's list before then). Read
// live by internal/tasks: the lists cannot disagree with the orders. One
// query on (communityId, status, sortKey): the open orders of a community
// are the few raised ahead plus what is owed.
func (s *Service) OwedIn(ctx context.Context, communityID string, limit int) ([]*Order, error) {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: Open}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "sortKey", Value: bson.D{{Key: "$lt", Value: s.today(communityID)}}}},
		bson.D{{Key: "kind", Value: DefectFix}},
	}}}
	return mongo.FindAll[Order](ctx, s.orders, q, "owed maintenance orders of "+communityID, options.Find().
		SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
}

// DueBy is when an order falls overdue: the end of its due date in the
// community (the start of the next day).
func (s *Service) DueBy(o *Order) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, o.DueDate, s.cfg.Zone(o.CommunityID))
	if err != nil {
		return o.CreatedAt
	}
	return d.AddDate(0, 0, 1)
}
