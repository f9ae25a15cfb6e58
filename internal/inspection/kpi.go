package inspection

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: "inspection_tasks", Models: []mgo.IndexModel{
		// The KPIs' window over the corrective tasks given.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}

// PassCounts are the checklist items of the community's quality
// inspections done in [from, to) and how many of them passed (检查合格率).
// The handover inspection (承接查验) is not the service's quality and is
// left out. One streamed query over the (communityId, doneAt) index.
func (s *Service) PassCounts(ctx context.Context, communityID string, from, to time.Time) (passed, total int, err error) {
	q := mongo.InWindow(communityID, "doneAt", from, to)
	q = append(q, bson.E{Key: "area", Value: bson.D{{Key: "$ne", Value: Handover}}})
	err = mongo.Stream(ctx, s.records, q, bson.D{{Key: "passed", Value: 1}, {Key: "total", Value: 1}}, "inspection pass counts",
		func(x *Inspection) error {
			passed += x.Passed
			total += x.Total
			return nil
		})
	return passed, total, err
}

// CorrectiveOnTime counts the corrective tasks (整改) given in [from, to)
// whose outcome is known at now, and those closed on time: closed by the
// first re-check, by the deadline they were given. A task escalated by a
// failed re-check was not closed on time, whenever it closes; one still
// open before its deadline is not yet known and not counted.
func (s *Service) CorrectiveOnTime(ctx context.Context, communityID string, from, to, now time.Time) (onTime, known int, err error) {
	proj := bson.D{{Key: "status", Value: 1}, {Key: "deadline", Value: 1}, {Key: "escalations", Value: 1}, {Key: "rechecks", Value: 1}}
	err = mongo.Stream(ctx, s.tasks, mongo.InWindow(communityID, "createdAt", from, to), proj, "corrective tasks on time",
		func(t *Task) error {
			switch {
			case t.Status == Closed && t.Escalations == 0:
				known++
				if last := len(t.Rechecks) - 1; last >= 0 && !t.Rechecks[last].At.After(t.Deadline) {
					onTime++
				}
			case t.Status != Closed && t.Escalations == 0 && !now.After(t.Deadline):
				// still within its deadline: not known yet
			default:
				known++
			}
			return nil
		})
	return onTime, known, err
}
