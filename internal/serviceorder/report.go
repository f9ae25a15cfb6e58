package serviceorder

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// reportFields are what the KPIs read of an order: when it was booked, how
// it came in (the intake channel; a source when it was granted, not filed),
// when the owner accepted it and its callback.
var reportFields = bson.D{
	{Key: "status", Value: 1}, {Key: "bookedAt", Value: 1}, {Key: "intake.channel", Value: 1}, {Key: "source", Value: 1}, {Key: "acceptedAt", Value: 1},
	{Key: "callback.satisfied", Value: 1}, {Key: "callback.at", Value: 1},
}

// ForReport streams, in one indexed query, the community's orders that
// were booked in [from, to), that the owner accepted in it or that were
// called back in it, with only reportFields. fn sees each once; an error
// from fn stops the stream.
func (s *Service) ForReport(ctx context.Context, communityID string, from, to time.Time, fn func(*Order) error) error {
	in := bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}
	q := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "communityId", Value: communityID}, {Key: "bookedAt", Value: in}},
		// The callback-owed index: accepted orders, called back or not.
		bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Accepted, CalledBack}}}}, {Key: "acceptedAt", Value: in}},
		bson.D{{Key: "communityId", Value: communityID}, {Key: "callback.at", Value: in}},
	}}}
	return mongo.Stream(ctx, s.col, q, reportFields, "service orders for report", fn)
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "service_orders", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "callback.at", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "bookedAt", Value: 1}}},
	}})
}
