package moving

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// reportFields are what the KPIs read of a move booking: when it was made
// and through which channel; never the household or what is moved.
var reportFields = bson.D{{Key: "createdAt", Value: 1}, {Key: "intake.channel", Value: 1}}

// BookedIn streams, in one indexed query, the community's move bookings
// made in [from, to), cancelled ones included, with only reportFields. An
// error from fn stops the stream.
func (s *Service) BookedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*Booking) error) error {
	return mongo.Stream(ctx, s.col, mongo.InWindow(communityID, "createdAt", from, to), reportFields, "move bookings for report", fn)
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "move_bookings", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
