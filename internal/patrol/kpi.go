package patrol

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: "patrol_scans", Models: []mgo.IndexModel{{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "dueAt", Value: 1}}}}},
		mongo.Indexes{Collection: "patrol_misses", Models: []mgo.IndexModel{{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "dueAt", Value: 1}}}}},
	)
}

// Completeness is how the community's checkpoints due in [from, to) were
// walked (巡更完成率): expected is every checkpoint of a round that was
// scanned or marked missed, scanned those scanned at all (late included)
// and onTime those scanned within their window. A checkpoint marked missed
// and scanned late afterwards is one expected checkpoint, scanned late.
// The missed-checkpoint job marks every unscanned checkpoint while its
// shift is on, so scans and misses together are the rounds as planned.
// Two streamed queries over (communityId, dueAt).
func (s *Service) Completeness(ctx context.Context, communityID string, from, to time.Time) (onTime, scanned, expected int, err error) {
	seen := map[string]bool{}
	key := func(round, cp string) string { return round + "\x00" + cp }
	proj := bson.D{{Key: "roundId", Value: 1}, {Key: "checkpointId", Value: 1}, {Key: "status", Value: 1}}
	err = mongo.Stream(ctx, s.scans, mongo.InWindow(communityID, "dueAt", from, to), proj, "patrol completeness scans",
		func(x *Scan) error {
			seen[key(x.RoundID, x.CheckpointID)] = true
			scanned++
			if x.Status == OnTime {
				onTime++
			}
			return nil
		})
	if err != nil {
		return 0, 0, 0, err
	}
	expected = scanned
	err = mongo.Stream(ctx, s.misses, mongo.InWindow(communityID, "dueAt", from, to), proj, "patrol completeness misses",
		func(x *Miss) error {
			if k := key(x.RoundID, x.CheckpointID); !seen[k] {
				seen[k] = true
				expected++
			}
			return nil
		})
	return onTime, scanned, expected, err
}
