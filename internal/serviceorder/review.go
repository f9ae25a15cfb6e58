package serviceorder

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// reviewFields are what the staff reviews read of an order: what it was,
// who served and who handled it, when it was done, its rating and callback.
var reviewFields = bson.D{
	{Key: "line.name", Value: 1}, {Key: "householdLabel", Value: 1}, {Key: "status", Value: 1},
	{Key: "handlerId", Value: 1}, {Key: "assigneeId", Value: 1}, {Key: "doneAt", Value: 1}, {Key: "acceptedAt", Value: 1},
	{Key: "acceptance.rating", Value: 1}, {Key: "acceptance.at", Value: 1},
	{Key: "callback.staffId", Value: 1}, {Key: "callback.satisfied", Value: 1}, {Key: "callback.at", Value: 1},
}

// ForReview streams, in one indexed query, the community's orders booked
// before to that changed from from on (every step moves updatedAt): all a
// staff review of [from, to) counts.
func (s *Service) ForReview(ctx context.Context, communityID string, from, to time.Time, fn func(*Order) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}}},
		{Key: "bookedAt", Value: bson.D{{Key: "$lt", Value: to.UTC()}}}}
	return mongo.Stream(ctx, s.col, q, reviewFields, "service orders for review", fn)
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "service_orders", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "updatedAt", Value: 1}}},
	}})
}
