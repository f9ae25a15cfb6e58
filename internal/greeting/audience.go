package greeting

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// fanOutBatch is how many households (or memberships) one round of a
// fan-out covers: one page, one Send. FerretDB reads a whole collection for
// every page (it filters without indexes), so it gets fewer, larger pages.
func fanOutBatch(db *mongo.DB) int {
	if db.Ferret {
		return 2000
	}
	return 500
}

// households is a read-only adapter over the household register's
// collection: household.Service has no batch listing of a community's
// households without a caller (its List is the paged, counted staff
// screen), so the scheduler pages household ids here on the register's own
// indexes ({communityId, sortKey}, {communityId, careFlags, sortKey},
// {buildingId, sortKey}) and asks the service for memberships.
type households struct{ col *mgo.Collection }

func newHouseholds(db *mongo.DB) *households { return &households{col: db.Collection("households")} }

// audience narrows the households of a community.
type audience struct {
	CommunityID string
	BuildingIDs []string
	CareFlag    string
}

// page returns up to batch household ids after sort key after, and the last
// sort key.
func (h *households) page(ctx context.Context, a audience, after string, batch int) ([]string, string, error) {
	q := bson.D{{Key: "communityId", Value: a.CommunityID}}
	if len(a.BuildingIDs) > 0 {
		q = append(q, bson.E{Key: "buildingId", Value: bson.D{{Key: "$in", Value: a.BuildingIDs}}})
	}
	if a.CareFlag != "" {
		q = append(q, bson.E{Key: "careFlags", Value: a.CareFlag})
	}
	if after != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := h.col.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(int64(batch)).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "sortKey", Value: 1}}))
	if err != nil {
		return nil, "", fmt.Errorf("households of %s: %w", a.CommunityID, err)
	}
	var list []struct {
		ID      string `bson:"_id"`
		SortKey string `bson:"sortKey"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, "", fmt.Errorf("households of %s: %w", a.CommunityID, err)
	}
	ids := make([]string, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	if len(list) == 0 {
		return nil, "", nil
	}
	return ids, list[len(list)-1].SortKey, nil
}

// eachPersons calls fn with the persons (owners, family and tenants) of the
// audience's households, a batch of households at a time, each person once
// even if they live in two of the flats.
func (s *Service) eachPersons(ctx context.Context, a audience, fn func(personIDs []string) error) error {
	seen := map[string]bool{}
	if len(a.BuildingIDs) == 0 && a.CareFlag == "" {
		return s.eachResident(ctx, a.CommunityID, seen, fn)
	}
	after := ""
	for {
		ids, last, err := s.households.page(ctx, a, after, s.batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		ms, err := s.members.MembershipsByHouseholds(ctx, ids)
		if err != nil {
			return err
		}
		var persons []string
		for _, id := range ids {
			for _, m := range ms[id] {
				if !seen[m.PersonID] {
					seen[m.PersonID] = true
					persons = append(persons, m.PersonID)
				}
			}
		}
		if len(persons) > 0 {
			if err := fn(persons); err != nil {
				return err
			}
		}
		if len(ids) < s.batch {
			return nil
		}
		after = last
	}
}

// eachResident is eachPersons for a whole community: it pages the
// community's memberships directly, one query per round.
func (s *Service) eachResident(ctx context.Context, communityID string, seen map[string]bool, fn func(personIDs []string) error) error {
	after := ""
	for {
		ms, err := s.members.MembershipsInCommunity(ctx, communityID, after, s.batch)
		if err != nil {
			return err
		}
		var persons []string
		for _, m := range ms {
			if !seen[m.PersonID] {
				seen[m.PersonID] = true
				persons = append(persons, m.PersonID)
			}
		}
		if len(persons) > 0 {
			if err := fn(persons); err != nil {
				return err
			}
		}
		if len(ms) < s.batch {
			return nil
		}
		after = ms[len(ms)-1].ID
	}
}
