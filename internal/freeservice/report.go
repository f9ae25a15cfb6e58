package freeservice

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// reportFields are what the KPIs read of a visit: when it was created and
// its timeline's first step (a booking or a staff record), who took it and
// the channel it names; never the household, the note or the photos.
var reportFields = bson.D{
	{Key: "createdAt", Value: 1},
	{Key: "timeline.action", Value: 1}, {Key: "timeline.actorKind", Value: 1}, {Key: "timeline.data.channel", Value: 1},
}

// CreatedIn streams, in one indexed query, the community's visits created
// in [from, to) (a household's first booking of a cycle, or a visit staff
// recorded without one), with only reportFields. An error from fn stops
// the stream.
func (s *Service) CreatedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*Visit) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}}
	cur, err := s.visits.Find(ctx, q, options.Find().SetProjection(reportFields).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("campaign visits for report: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v Visit
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("campaign visits for report: %w", err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return cur.Err()
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "freeservice_visits", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
