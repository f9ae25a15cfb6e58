package complaint

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// OpenNamed reports which of households have a named complaint still open
// (received, being handled, or answered and waiting for the callback): the
// fee reminders hold such a household back while its dispute is settled.
// Anonymous complaints are left out: holding a household back would tell
// staff that it complained. One query for the batch.
func (s *Service) OpenNamed(ctx context.Context, households []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(households) == 0 {
		return out, nil
	}
	cur, err := s.col.Find(ctx, bson.D{
		{Key: "householdId", Value: bson.D{{Key: "$in", Value: households}}},
		{Key: "anonymous", Value: false},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Received, Handling, Answered}}}},
	}, options.Find().SetProjection(bson.D{{Key: "householdId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("open complaints of households: %w", err)
	}
	var list []struct {
		HouseholdID string `bson:"householdId"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("open complaints of households: %w", err)
	}
	for _, x := range list {
		out[x.HouseholdID] = true
	}
	return out, nil
}
