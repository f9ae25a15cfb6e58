package repair

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// reviewFields are what the staff reviews read of a request: who did each
// round and when, its deadlines, the owner's ratings and who called back;
// never photos, materials or the reporter.
var reviewFields = bson.D{
	{Key: "category", Value: 1}, {Key: "description", Value: 1}, {Key: "status", Value: 1}, {Key: "round", Value: 1},
	{Key: "ownerStaffId", Value: 1}, {Key: "deadlines", Value: 1}, {Key: "pastDeadlines", Value: 1},
	{Key: "workOrders.round", Value: 1}, {Key: "workOrders.engineerId", Value: 1}, {Key: "workOrders.completedAt", Value: 1},
	{Key: "acceptances.round", Value: 1}, {Key: "acceptances.rating", Value: 1}, {Key: "acceptances.at", Value: 1},
	{Key: "callbacks.round", Value: 1}, {Key: "callbacks.staffId", Value: 1}, {Key: "callbacks.satisfied", Value: 1}, {Key: "callbacks.at", Value: 1},
}

// ForReview streams, in one query on the (communityId, updatedAt) index,
// every request of the community submitted before to that changed from
// from on: every step moves updatedAt, so whatever a staff review of
// [from, to) counts (a completion, a sign-off, a callback) is among them.
func (s *Service) ForReview(ctx context.Context, communityID string, from, to time.Time, fn func(*Request) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}}},
		{Key: "submittedAt", Value: bson.D{{Key: "$lt", Value: to.UTC()}}}}
	return mongo.Stream(ctx, s.col, q, reviewFields, "repair requests for review", fn)
}
