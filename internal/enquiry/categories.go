package enquiry

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// CategoryCountsIn counts the community's enquiries recorded in [from, to)
// by category, reading nothing but the category: never the question, the
// answer or who asked. One indexed query (communityId, createdAt), counted
// in Go.
func (s *Service) CategoryCountsIn(ctx context.Context, communityID string, from, to time.Time) (map[Category]int, error) {
	out := map[Category]int{}
	err := mongo.Stream(ctx, s.col, mongo.InWindow(communityID, "createdAt", from, to), bson.D{{Key: "_id", Value: 0}, {Key: "category", Value: 1}},
		"enquiry categories", func(x *Enquiry) error {
			out[x.Category]++
			return nil
		})
	return out, err
}
