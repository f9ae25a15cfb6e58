package inspection

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// reviewTaskFields are what the staff reviews read of a corrective task.
var reviewTaskFields = bson.D{
	{Key: "area", Value: 1}, {Key: "location", Value: 1}, {Key: "item.seq", Value: 1}, {Key: "item.text", Value: 1},
	{Key: "assigneeStaffId", Value: 1}, {Key: "deadline", Value: 1}, {Key: "status", Value: 1}, {Key: "escalations", Value: 1},
	{Key: "rechecks.at", Value: 1}, {Key: "rechecks.passed", Value: 1}, {Key: "createdAt", Value: 1},
}

// TasksForReview streams, in one query, the corrective tasks of the
// community assigned by name to one of staffIDs that were created in
// [from, to) (a failed item) or whose deadline falls in it (due to be
// closed). Team tasks name nobody and are not among them.
func (s *Service) TasksForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*Task) error) error {
	in := bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "assigneeStaffId", Value: bson.D{{Key: "$in", Value: staffIDs}}},
		{Key: "$or", Value: bson.A{bson.D{{Key: "createdAt", Value: in}}, bson.D{{Key: "deadline", Value: in}}}}}
	return mongo.Stream(ctx, s.tasks, q, reviewTaskFields, "corrective tasks for review", fn)
}

// ClosedAt is when the re-check that closed the task passed; ok is false
// while it is open.
func (t *Task) ClosedAt() (time.Time, bool) {
	if t.Status != Closed {
		return time.Time{}, false
	}
	for i := len(t.Rechecks) - 1; i >= 0; i-- {
		if t.Rechecks[i].Passed {
			return t.Rechecks[i].At, true
		}
	}
	return time.Time{}, false
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "inspection_tasks", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "assigneeStaffId", Value: 1}, {Key: "deadline", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "assigneeStaffId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
