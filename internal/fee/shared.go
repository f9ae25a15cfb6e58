package fee

import (
	"context"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/household"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func roundFloat(v float64) float64 { return math.Round(v) }

// sharedLines gives each household its lines for the period's shared meter
// charges, by the item in force. A charge is split once, by the period's
// first billing run, among the households the meter then serves (the
// shares must sum exactly to the charge, so the split needs them all at
// once: one more read of the households, in the same pages as billing); the
// split is stored on the reading, and a household added later pays no share
// of that period's charge.
func (s *Service) sharedLines(ctx context.Context, communityID, period string, items []*ScheduledItem) (map[string][]Line, error) {
	byKind := map[ItemKind]*Item{}
	for _, si := range items {
		if si.Item.Kind == SharedWater || si.Item.Kind == SharedElectricity {
			byKind[si.Item.Kind] = si.Item
		}
	}
	if len(byKind) == 0 {
		return nil, nil
	}
	readings, err := s.periodReadings(ctx, communityID, period)
	if err != nil || len(readings) == 0 {
		return nil, err
	}
	var all []*household.Household
	for _, rd := range readings {
		it := byKind[rd.Kind]
		if it == nil || rd.Shares != nil {
			continue
		}
		if all == nil {
			if all, err = s.allHouseholds(ctx, communityID); err != nil {
				return nil, err
			}
		}
		shares, total := split(rd, it.Apportion, all)
		// Of two runs at once, the first to store its split wins; both
		// bill from what is stored.
		if _, err := s.readings.UpdateOne(ctx, bson.D{{Key: "_id", Value: rd.ID}, {Key: "shares", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "shares", Value: shares}, {Key: "weightTotal", Value: total}}}}); err != nil {
			return nil, fmt.Errorf("store split: %w", err)
		}
	}
	if all != nil {
		if readings, err = s.periodReadings(ctx, communityID, period); err != nil {
			return nil, err
		}
	}
	out := map[string][]Line{}
	for _, rd := range readings {
		it := byKind[rd.Kind]
		if it == nil {
			continue
		}
		for hid, sh := range rd.Shares {
			q := fmt.Sprintf("均摊 1/%d 户", rd.WeightTotal)
			if it.Apportion == ByArea {
				q = fmt.Sprintf("按面积分摊 %d.%02d/%d.%02d m²", sh[1]/100, sh[1]%100, rd.WeightTotal/100, rd.WeightTotal%100)
			}
			out[hid] = append(out[hid], Line{ItemID: it.ItemID, ItemVersion: it.Version, Code: it.Code, Kind: it.Kind,
				Name: it.Name, NameEN: it.NameEN, Quantity: q, UnitPrice: rd.UnitPrice, Amount: sh[0]})
		}
	}
	return out, nil
}

func (s *Service) periodReadings(ctx context.Context, communityID, period string) ([]*Reading, error) {
	readings, err := mongo.FindAll[Reading](ctx, s.readings, periodQuery(communityID, period), "meter readings", options.Find().SetSort(asc("_id")))
	if err != nil {
		return nil, err
	}
	return readings, nil
}

func (s *Service) allHouseholds(ctx context.Context, communityID string) ([]*household.Household, error) {
	all := []*household.Household{}
	p := page.Request{First: BatchSize}
	for {
		pg, err := s.households.InAudience(ctx, communityID, nil, p)
		if err != nil {
			return nil, err
		}
		all = append(all, pg.Items...)
		if !pg.HasNext {
			return all, nil
		}
		p.After = pg.Keys[len(pg.Keys)-1]
	}
}

// split apportions a reading's charge among the households its meter
// serves (of its building, or all), by area or equally.
func split(rd *Reading, how Apportion, all []*household.Household) (map[string][2]int64, int64) {
	var served []string
	var weights []int64
	var total int64
	for _, h := range all {
		if rd.BuildingID != "" && h.BuildingID != rd.BuildingID {
			continue
		}
		w := int64(1)
		if how == ByArea {
			w = areaHundredths(h)
		}
		if w == 0 {
			continue
		}
		served, weights, total = append(served, h.ID), append(weights, w), total+w
	}
	amounts := apportion(rd.Charge, weights)
	out := make(map[string][2]int64, len(served))
	for i, id := range served {
		out[id] = [2]int64{amounts[i], weights[i]}
	}
	return out, total
}
