package household

import (
	"context"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

// OwnerUnit is a household with at least one owner: one property unit
// (专有部分) in the owners' assembly, whatever the number of its owners.
type OwnerUnit struct {
	ID        string   `bson:"_id"`
	Label     string   `bson:"label"`
	FloorArea *float64 `bson:"floorArea,omitempty"`
	SortKey   string   `bson:"sortKey"`
}

// OwnerUnits lists the community's households that have an OWNER member, in
// walking order: two streamed queries (the community's owner memberships,
// then its households, projected), whatever the size of the estate. It
// takes no caller: the owners' vote freezing its electorate has decided.
func (s *Service) OwnerUnits(ctx context.Context, communityID string) ([]OwnerUnit, error) {
	owned := map[string]bool{}
	err := mongo.Stream(ctx, s.members, bson.D{{Key: "communityId", Value: communityID}, {Key: "role", Value: access.Owner}},
		bson.D{{Key: "householdId", Value: 1}}, "owner memberships of "+communityID, func(m *Membership) error {
			owned[m.HouseholdID] = true
			return nil
		})
	if err != nil || len(owned) == 0 {
		return nil, err
	}
	out := make([]OwnerUnit, 0, len(owned))
	err = mongo.Stream(ctx, s.households, bson.D{{Key: "communityId", Value: communityID}},
		bson.D{{Key: "label", Value: 1}, {Key: "floorArea", Value: 1}, {Key: "sortKey", Value: 1}}, "households of "+communityID, func(h *OwnerUnit) error {
			if owned[h.ID] {
				out = append(out, *h)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b OwnerUnit) int { return strings.Compare(a.SortKey, b.SortKey) })
	return out, nil
}
