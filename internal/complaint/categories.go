package complaint

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// CategoryCountsIn counts the community's complaints received in [from,
// to) by category, withdrawn ones included (they were raised all the
// same), reading nothing but the category: what owners are told of
// complaints must not carry who made them or what they wrote. One indexed
// query (communityId, submittedAt), counted in Go.
func (s *Service) CategoryCountsIn(ctx context.Context, communityID string, from, to time.Time) (map[Category]int, error) {
	out := map[Category]int{}
	err := mongo.Stream(ctx, s.col, mongo.InWindow(communityID, "submittedAt", from, to), bson.D{{Key: "_id", Value: 0}, {Key: "category", Value: 1}},
		"complaint categories", func(x *Complaint) error {
			out[x.Category]++
			return nil
		})
	return out, err
}
