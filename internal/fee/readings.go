package fee

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// Reading is a shared meter's reading for a period (公摊抄表): the charge,
// (current - previous) × unit price, is apportioned among the households of
// the building (a building's own meter) or of the whole community.
type Reading struct {
	ID          string   `bson:"_id"` // "<communityId>:<period>:<kind>:<buildingId>"
	CommunityID string   `bson:"communityId"`
	Period      string   `bson:"period"`
	Kind        ItemKind `bson:"kind"`
	BuildingID  string   `bson:"buildingId,omitempty"` // empty: the community's meter
	Previous    int64    `bson:"previous"`             // hundredths of a unit (m³, kWh)
	Current     int64    `bson:"current"`
	UnitPrice   int64    `bson:"unitPrice"` // fen per unit
	Charge      int64    `bson:"charge"`    // fen, rounded half up
	// Shares is the split, made once by the period's first billing run and
	// kept, so every later run (a building, a household added later) bills
	// the same shares and the shares always sum to the charge: household id
	// to [fen, weight]; WeightTotal is the sum of the weights.
	Shares      map[string][2]int64 `bson:"shares,omitempty"`
	WeightTotal int64               `bson:"weightTotal,omitempty"`
	RecordedBy  string              `bson:"recordedBy"`
	RecordedAt  time.Time           `bson:"recordedAt"`
}

// ReadingInput is one meter's reading.
type ReadingInput struct {
	Kind              ItemKind
	BuildingID        string
	Previous, Current float64
	UnitPrice         int64
}

// maxMeter bounds a meter reading: a 9-digit meter.
const maxMeter = 1e9

// RecordReadings stores the period's shared meter readings (ManagesSchedule),
// replacing earlier ones of the same meter; once the period is billed its
// readings are fixed (CONFLICT naming the period).
func (s *Service) RecordReadings(ctx context.Context, c *access.Caller, communityID, period string, in []ReadingInput) ([]*Reading, error) {
	if _, err := s.staffCommunity(ctx, c, "communityId", communityID, ManagesSchedule); err != nil {
		return nil, err
	}
	if err := checkPeriod("period", period); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > 50 {
		return nil, apperr.Invalid("readings", "input.too_many", 50)
	}
	now := s.now().UTC()
	out := make([]*Reading, 0, len(in))
	for i, r := range in {
		f := func(name string) string { return fmt.Sprintf("readings.%d.%s", i, name) }
		if r.Kind != SharedWater && r.Kind != SharedElectricity {
			return nil, apperr.Invalid(f("kind"), "fee.bad_kind")
		}
		if r.BuildingID != "" {
			if _, err := s.communities.CheckBuildings(ctx, f("buildingId"), communityID, []string{r.BuildingID}, 1); err != nil {
				return nil, err
			}
		}
		if r.Previous < 0 || r.Previous > maxMeter || math.IsNaN(r.Previous) {
			return nil, apperr.Invalid(f("previous"), "input.out_of_range", 0, maxMeter)
		}
		if r.Current < r.Previous || r.Current > maxMeter || math.IsNaN(r.Current) {
			return nil, apperr.Invalid(f("current"), "fee.reading_order")
		}
		if r.UnitPrice < 0 || r.UnitPrice > MaxRate {
			return nil, apperr.Invalid(f("unitPriceFen"), "fee.rate_range", MaxRate)
		}
		prev, cur := int64(math.Round(r.Previous*100)), int64(math.Round(r.Current*100))
		out = append(out, &Reading{ID: communityID + ":" + period + ":" + string(r.Kind) + ":" + r.BuildingID, CommunityID: communityID,
			Period: period, Kind: r.Kind, BuildingID: r.BuildingID, Previous: prev, Current: cur, UnitPrice: r.UnitPrice,
			Charge: roundHundredths((cur - prev) * r.UnitPrice), RecordedBy: c.ID, RecordedAt: now})
	}
	n, err := s.bills.CountDocuments(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: period}}, options.Count().SetLimit(1))
	if err != nil {
		return nil, fmt.Errorf("period billed: %w", err)
	}
	if n > 0 {
		return nil, ErrPeriodBilled.WithField("period").WithArgs(period)
	}
	for _, r := range out {
		if _, err := s.readings.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, r, options.Replace().SetUpsert(true)); err != nil {
			return nil, fmt.Errorf("record reading: %w", err)
		}
	}
	return out, nil
}

// roundHundredths turns an amount in hundredths of a fen into fen, half up.
func roundHundredths(v int64) int64 { return (v + 50) / 100 }

// apportion splits total among weights so the shares sum exactly to total:
// each gets the floor of its exact share, and the fen left over go one each
// to the largest remainders (ties: the earlier weight).
func apportion(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		return out
	}
	rem := make([]int64, len(weights))
	left := total
	for i, w := range weights {
		out[i] = total * w / sum
		rem[i] = total * w % sum
		left -= out[i]
	}
	idx := make([]int, len(weights))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rem[idx[a]] > rem[idx[b]] })
	for i := 0; left > 0 && i < len(idx); i++ {
		if weights[idx[i]] > 0 {
			out[idx[i]]++
			left--
		}
	}
	return out
}
