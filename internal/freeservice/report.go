package freeservice

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

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
	return mongo.Stream(ctx, s.visits, mongo.InWindow(communityID, "createdAt", from, to), reportFields, "campaign visits for report", fn)
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "freeservice_visits", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
