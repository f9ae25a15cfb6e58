package household

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// InAudience pages the households of a community, or of some of its
// buildings, in walking order (sortKey), with the total: door-to-door
// services (free scheduled checks) report on every household they cover.
// It takes no caller: the calling service has already decided the caller
// may see the community. Served by the {communityId, sortKey} and
// {buildingId, sortKey} indexes.
func (s *Service) InAudience(ctx context.Context, communityID string, buildingIDs []string, p page.Request) (page.Page[*Household], error) {
	q := bson.D{{Key: "communityId", Value: communityID}}
	if len(buildingIDs) > 0 {
		q = append(q, bson.E{Key: "buildingId", Value: bson.D{{Key: "$in", Value: buildingIDs}}})
	}
	return mongo.FindPage(ctx, s.households, q, p, mongo.PageQuery{Count: true, Omit: []string{"search"}},
		func(h *Household) string { return h.SortKey })
}
