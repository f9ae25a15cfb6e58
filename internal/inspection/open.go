package inspection

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

// OpenTasksIn are a community's corrective tasks not yet closed, earliest
// deadline first: the fixes owed and the re-checks they wait for, for the
// staff task lists.
func (s *Service) OpenTasksIn(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	return mongo.FindAll[Task](ctx, s.tasks, bson.D{{Key: "communityId", Value: communityID},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []TaskStatus{Open, Escalated}}}}}, "open corrective tasks",
		options.Find().SetSort(bson.D{{Key: "deadline", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)).
			SetProjection(bson.D{{Key: "timeline", Value: 0}, {Key: "rechecks", Value: 0}}))
}

// TasksByIDs returns the tasks of ids that c may see, in one query: the
// per-response loader of InspectionResult.correctiveTask.
func (s *Service) TasksByIDs(ctx context.Context, c *access.Caller, ids []string) (map[string]*Task, error) {
	m, err := mongo.ByIDs(ctx, s.tasks, ids, func(t *Task) string { return t.ID })
	if err != nil {
		return nil, err
	}
	for id, t := range m {
		if !seesTask(c, t) {
			delete(m, id)
		}
	}
	return m, nil
}
