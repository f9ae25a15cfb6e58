package survey

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ClosedIn are the results of the community's surveys that closed in
// [from, to) (answers stopped then: EndsAt), oldest first, for the owners'
// management report. No caller checks: its service decides who reads the
// aggregates, which name no respondent. One query on the (communityId,
// opensAt) index, then the responses of each survey.
func (s *Service) ClosedIn(ctx context.Context, communityID string, from, to time.Time) ([]*Results, error) {
	cur, err := s.col.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "opensAt", Value: bson.D{{Key: "$lt", Value: to.UTC()}}},
		{Key: "status", Value: Closed}},
		options.Find().SetProjection(bson.D{{Key: "timeline", Value: 0}}).SetSort(bson.D{{Key: "opensAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("surveys closed of %s: %w", communityID, err)
	}
	var list []*Survey
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("surveys closed of %s: %w", communityID, err)
	}
	var out []*Results
	for _, sv := range list {
		if end := sv.EndsAt(); end.Before(from) || !end.Before(to) {
			continue
		}
		docs, err := s.responsesOf(ctx, sv.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, tally(sv, docs))
	}
	return out, nil
}
