package fee

import (
	"context"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: colBills, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "dueDate", Value: 1}}},
	}})
}

// Overdue is what one household owes on bills past their due date.
type Overdue struct {
	HouseholdID string
	BuildingID  string
	Fen         int64  // outstanding on the overdue bills
	OldestDue   string // the oldest overdue bill's due date
	Bills       int
}

// OverdueIn lists the community's households owing on bills due before
// today (YYYY-MM-DD, the community's date), in one streamed query that
// reads only the amounts: what the reminder ladder chases.
func (s *Service) OverdueIn(ctx context.Context, communityID, today string) ([]Overdue, error) {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: bson.D{{Key: "$in", Value: []BillStatus{Issued, PartlyPaid}}}},
		{Key: "dueDate", Value: bson.D{{Key: "$lt", Value: today}}}}
	fields := bson.D{{Key: "householdId", Value: 1}, {Key: "buildingId", Value: 1}, {Key: "status", Value: 1}, {Key: "dueDate", Value: 1},
		{Key: "amount", Value: 1}, {Key: "relieved", Value: 1}, {Key: "paid", Value: 1}}
	by := map[string]*Overdue{}
	err := mongo.Stream(ctx, s.bills, q, fields, "overdue bills", func(b *Bill) error {
		owed := b.Outstanding()
		if owed <= 0 {
			return nil
		}
		o := by[b.HouseholdID]
		if o == nil {
			o = &Overdue{HouseholdID: b.HouseholdID, BuildingID: b.BuildingID, OldestDue: b.DueDate}
			by[b.HouseholdID] = o
		}
		o.Fen += owed
		o.Bills++
		if b.DueDate < o.OldestDue {
			o.OldestDue = b.DueDate
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Overdue, 0, len(by))
	for _, o := range by {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].HouseholdID < out[j].HouseholdID })
	return out, nil
}
