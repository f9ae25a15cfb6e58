package fee

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// ParkingFigures are a community's parking spaces now and the parking fees
// of some billing months, for the owners' management report.
type ParkingFigures struct {
	Spaces   int // spaces on the register (held or free)
	Assigned int // spaces held by a household
	// Billed is the PARKING lines of the months' bills (cancelled bills
	// aside) less their relief, in fen.
	Billed int64
}

// Parking counts the spaces (one query on the (communityId, code) index)
// and the parking lines of the months' bills (one streamed query per month
// over the (communityId, period) bills).
func (s *Service) Parking(ctx context.Context, communityID string, months []string) (ParkingFigures, error) {
	var out ParkingFigures
	err := mongo.Stream(ctx, s.spaces, bson.D{{Key: "communityId", Value: communityID}}, bson.D{{Key: "householdId", Value: 1}}, "parking spaces",
		func(sp *Space) error {
			out.Spaces++
			if sp.HouseholdID != "" {
				out.Assigned++
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	for _, m := range months {
		q := append(periodQuery(communityID, m), bson.E{Key: "status", Value: bson.D{{Key: "$ne", Value: Cancelled}}})
		err := mongo.Stream(ctx, s.bills, q, bson.D{{Key: "lines", Value: 1}}, "parking billed",
			func(b *Bill) error {
				for _, l := range b.Lines {
					if l.Kind == Parking {
						out.Billed += l.Amount - l.Relief
					}
				}
				return nil
			})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
