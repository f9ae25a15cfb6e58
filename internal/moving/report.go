package moving

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// reportFields are what the KPIs read of a move booking: when it was made
// and through which channel; never the household or what is moved.
var reportFields = bson.D{{Key: "createdAt", Value: 1}, {Key: "intake.channel", Value: 1}}

// BookedIn streams, in one indexed query, the community's move bookings
// made in [from, to), cancelled ones included, with only reportFields. An
// error from fn stops the stream.
func (s *Service) BookedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*Booking) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}}
	cur, err := s.col.Find(ctx, q, options.Find().SetProjection(reportFields).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("move bookings for report: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var b Booking
		if err := cur.Decode(&b); err != nil {
			return fmt.Errorf("move bookings for report: %w", err)
		}
		if err := fn(&b); err != nil {
			return err
		}
	}
	return cur.Err()
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "move_bookings", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
