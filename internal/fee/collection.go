package fee

import (
	"context"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// Collection is a community's collection rate for period (收缴率), for the
// finance statement and the KPIs: billed (before relief), collected,
// relieved and outstanding, in fen, and the number of bills; cancelled
// bills count nowhere. One streamed query over the period's bills.
func (s *Service) Collection(ctx context.Context, communityID, period string) (billed, collected, relieved, outstanding int64, bills int, err error) {
	q := append(periodQuery(communityID, period), bson.E{Key: "status", Value: bson.D{{Key: "$ne", Value: Cancelled}}})
	err = mongo.Stream(ctx, s.bills, q, bson.D{{Key: "amount", Value: 1}, {Key: "relieved", Value: 1}, {Key: "paid", Value: 1}, {Key: "status", Value: 1}},
		"collection rate", func(b *Bill) error {
			bills++
			billed += b.Amount
			collected += b.Paid
			relieved += b.Relieved
			outstanding += b.Outstanding()
			return nil
		})
	return billed, collected, relieved, outstanding, bills, err
}

// Figures are a collection's amounts in fen and its bills.
type Figures struct {
	Billed, Collected, Relieved, Outstanding int64
	Bills                                    int
}

func (f *Figures) add(b *Bill) {
	f.Bills++
	f.Billed += b.Amount
	f.Collected += b.Paid
	f.Relieved += b.Relieved
	f.Outstanding += b.Outstanding()
}

// Rate is collected / (billed - relieved): relieved amounts are not owed;
// nil when nothing is owed.
func (f *Figures) Rate() *float64 {
	owed := f.Billed - f.Relieved
	if owed <= 0 {
		return nil
	}
	r := float64(f.Collected) / float64(owed)
	return &r
}

// PeriodCollection is one billing period's collection, in all and per
// building (by building id).
type PeriodCollection struct {
	Period     string
	Total      Figures
	ByBuilding map[string]*Figures
}

// CollectionByBuilding is the collection of each of periods, in all and per
// building, for the KPIs: one streamed query over those periods' bills
// (cancelled ones count nowhere).
func (s *Service) CollectionByBuilding(ctx context.Context, communityID string, periods []string) (map[string]*PeriodCollection, error) {
	out := make(map[string]*PeriodCollection, len(periods))
	for _, p := range periods {
		out[p] = &PeriodCollection{Period: p, ByBuilding: map[string]*Figures{}}
	}
	if len(periods) == 0 {
		return out, nil
	}
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: bson.D{{Key: "$in", Value: periods}}},
		{Key: "status", Value: bson.D{{Key: "$ne", Value: Cancelled}}}}
	err := mongo.Stream(ctx, s.bills, q, bson.D{{Key: "period", Value: 1}, {Key: "buildingId", Value: 1}, {Key: "amount", Value: 1},
		{Key: "relieved", Value: 1}, {Key: "paid", Value: 1}, {Key: "status", Value: 1}}, "collection by building", func(b *Bill) error {
		pc := out[b.Period]
		if pc == nil {
			return nil
		}
		pc.Total.add(b)
		f := pc.ByBuilding[b.BuildingID]
		if f == nil {
			f = &Figures{}
			pc.ByBuilding[b.BuildingID] = f
		}
		f.add(b)
		return nil
	})
	return out, err
}

// The fields of a collection as the API reads them.

// Billed is the period's total billed.
func (p *PeriodCollection) Billed() int64 { return p.Total.Billed }

// Collected is the period's total collected.
func (p *PeriodCollection) Collected() int64 { return p.Total.Collected }

// Relieved is the period's total relieved.
func (p *PeriodCollection) Relieved() int64 { return p.Total.Relieved }

// Outstanding is the period's total outstanding.
func (p *PeriodCollection) Outstanding() int64 { return p.Total.Outstanding }

// Bills is the period's number of bills.
func (p *PeriodCollection) Bills() int { return p.Total.Bills }

// Rate is the period's collection rate.
func (p *PeriodCollection) Rate() *float64 { return p.Total.Rate() }

// BuildingFigures is one building's part of a period's collection.
type BuildingFigures struct {
	BuildingID string
	Figures
}

// Buildings lists the period's buildings' figures, by building id.
func (p *PeriodCollection) Buildings() []*BuildingFigures {
	out := make([]*BuildingFigures, 0, len(p.ByBuilding))
	for id, f := range p.ByBuilding {
		out = append(out, &BuildingFigures{BuildingID: id, Figures: *f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].BuildingID < out[j].BuildingID })
	return out
}
