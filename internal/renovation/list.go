package renovation

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
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
	q := bson.D{}
	count := false
	switch {
	case f.HouseholdID != "":
		if err := validate.ID("householdId", f.HouseholdID); err != nil {
			return none, err
		}
		// NOT_FOUND for a household the caller may not see, as everywhere.
		if _, err := s.households.Get(ctx, c, f.HouseholdID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "householdId", Value: f.HouseholdID})
		if f.CommunityID != "" {
			q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		}
	case f.CommunityID != "":
		if err := validate.ID("communityId", f.CommunityID); err != nil {
			return none, err
		}
		if !c.WorksIn(f.CommunityID) {
			return none, apperr.ErrForbidden
		}
		q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		count = true
	case c.IsPerson():
		ids := []string{}
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
		q = append(q, bson.E{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}})
	default:
		return none, apperr.Invalid("communityId", "input.required")
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
