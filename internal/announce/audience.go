package announce

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
)

// householdFinder answers "which households are in this audience" with one
// query on the household register's collection. household.Service offers
// only a paged, caller-checked List with a single care flag; this adapter is
// read-only, projects ids, and uses the register's own indexes
// (communityId+sortKey, communityId+careFlags+sortKey). It is the one place
// this package reads another package's collection; it should move to
// household.Service as HouseholdIDsOfAudience when that file is free.
type householdFinder struct{ col *mgo.Collection }

func (f householdFinder) HouseholdIDs(ctx context.Context, communityID string, buildingIDs, careFlags []string) ([]string, error) {
	q := bson.D{{Key: "communityId", Value: communityID}}
	if len(buildingIDs) > 0 {
		q = append(q, bson.E{Key: "buildingId", Value: bson.D{{Key: "$in", Value: buildingIDs}}})
	}
	if len(careFlags) > 0 {
		q = append(q, bson.E{Key: "careFlags", Value: bson.D{{Key: "$in", Value: careFlags}}})
	}
	cur, err := f.col.Find(ctx, q, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "sortKey", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("households of audience: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("households of audience: %w", err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out, nil
}

// recipients are the persons of the audience's households, each once, in
// the register's walking order. Memberships are loaded in $in batches.
func (s *Service) recipients(ctx context.Context, communityID string, buildingIDs, careFlags []string) ([]notify.Recipient, error) {
	hids, err := s.finder.HouseholdIDs(ctx, communityID, buildingIDs, careFlags)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := []notify.Recipient{}
	for start := 0; start < len(hids); start += householdInChunks {
		chunk := hids[start:min(start+householdInChunks, len(hids))]
		ms, err := s.households.MembershipsByHouseholds(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, h := range chunk {
			for _, m := range ms[h] {
				if seen[m.PersonID] {
					continue
				}
				seen[m.PersonID] = true
				out = append(out, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: communityID})
			}
		}
	}
	return out, nil
}
