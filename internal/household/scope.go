package household

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// Scope is the filter of a list that one query serves to everybody, asked
// the same way: anybody who may see a household names it (NOT_FOUND
// otherwise, as everywhere); staff name a community they work in; a resident
// who names neither gets their own households'. Staff reports whether the
// list is a community's (staff screens count their totals).
func (s *Service) Scope(ctx context.Context, c *access.Caller, communityID, householdID string) (q bson.D, staff bool, err error) {
	switch {
	case householdID != "":
		if err := validate.ID("householdId", householdID); err != nil {
			return nil, false, err
		}
		if _, err := s.Get(ctx, c, householdID); err != nil {
			return nil, false, err
		}
		q = bson.D{{Key: "householdId", Value: householdID}}
		if communityID != "" {
			q = append(q, bson.E{Key: "communityId", Value: communityID})
		}
		return q, false, nil
	case communityID != "":
		if err := validate.ID("communityId", communityID); err != nil {
			return nil, false, err
		}
		if !c.WorksIn(communityID) {
			return nil, false, apperr.ErrForbidden
		}
		return bson.D{{Key: "communityId", Value: communityID}}, true, nil
	case c.IsPerson():
		ids := []string{}
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
		return bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}}, false, nil
	}
	return nil, false, apperr.Invalid("communityId", "input.required")
}
