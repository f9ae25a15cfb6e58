package complaint

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// ClosedAt is when the complaint was closed: the satisfied callback that
// closed it; ok is false while it is not closed.
func (x *Complaint) ClosedAt() (time.Time, bool) {
	if x.Status != Closed {
		return time.Time{}, false
	}
	for i := len(x.Callbacks) - 1; i >= 0; i-- {
		if x.Callbacks[i].Satisfied {
			return x.Callbacks[i].At, true
		}
	}
	return time.Time{}, false
}

// reportFields are what the KPIs read of a complaint: never who made it,
// nor what it says; how it came in (the intake channel) but not who filed it.
var reportFields = bson.D{
	{Key: "status", Value: 1}, {Key: "submittedAt", Value: 1}, {Key: "intake.channel", Value: 1},
	{Key: "callbacks.satisfied", Value: 1}, {Key: "callbacks.at", Value: 1},
}

// ReceivedIn streams, in one indexed query, the community's complaints
// received in [from, to), with only reportFields. An error from fn stops
// the stream.
func (s *Service) ReceivedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*Complaint) error) error {
	return mongo.Stream(ctx, s.col, mongo.InWindow(communityID, "submittedAt", from, to), reportFields, "complaints for report", fn)
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "complaints", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "submittedAt", Value: 1}}},
	}})
}
