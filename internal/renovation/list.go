package renovation

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// Filter narrows a list. One list serves everybody, asked the same way:
// staff name the community they work in; anybody who may see a household
// names it; a resident who names neither gets their own households'.
type Filter struct {
	CommunityID string
	HouseholdID string
	Status      Status
}

// List returns renovations newest first.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Renovation], error) {
	var none page.Page[*Renovation]
	q, count, err := s.households.Scope(ctx, c, f.CommunityID, f.HouseholdID)
	if err != nil {
		return none, err
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	// The list screens need no timelines: leave them in the database.
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(r *Renovation) string { return r.SortKey })
}
