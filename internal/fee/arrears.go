package fee

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Arrear is one household's arrears as of a date (欠费): its open bills due
// before that date.
type Arrear struct {
	HouseholdID, BuildingID, Label string
	Outstanding                    int64  // fen
	OldestDueDate                  string // "YYYY-MM-DD"
	AgeDays                        int    // days since the oldest due date
	BillsOverdue                   int
}

// Arrears pages the households in arrears as of asOf (empty: today in the
// community's time zone), by household id; finance and the front desk.
// A page reads the overdue bills of at most first+1 households, in the
// order of the {communityId, householdId, dueDate} index.
func (s *Service) Arrears(ctx context.Context, c *access.Caller, communityID, buildingID, asOf string, p page.Request) (page.Page[*Arrear], error) {
	var none page.Page[*Arrear]
	com, err := s.staffCommunity(ctx, c, "communityId", communityID, readsBills)
	if err != nil {
		return none, err
	}
	if asOf == "" {
		asOf = today(com, s.now())
	} else if !dateRe.MatchString(asOf) {
		return none, apperr.Invalid("asOf", "fee.bad_date")
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if p.After != "" {
		q = append(q, bson.E{Key: "householdId", Value: bson.D{{Key: "$gte", Value: p.After}}})
	}
	q = append(q, bson.E{Key: "dueDate", Value: bson.D{{Key: "$lt", Value: asOf}}},
		bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{Issued, PartlyPaid}}}})
	if buildingID != "" {
		if err := validate.ID("buildingId", buildingID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "buildingId", Value: buildingID})
	}
	cur, err := s.bills.Find(ctx, q, options.Find().SetSort(asc("communityId", "householdId", "dueDate")).SetBatchSize(500).
		SetProjection(bson.D{{Key: "householdId", Value: 1}, {Key: "buildingId", Value: 1}, {Key: "label", Value: 1}, {Key: "dueDate", Value: 1},
			{Key: "amount", Value: 1}, {Key: "relieved", Value: 1}, {Key: "paid", Value: 1}, {Key: "status", Value: 1}}))
	if err != nil {
		return none, fmt.Errorf("arrears: %w", err)
	}
	defer cur.Close(ctx)
	var list []*Arrear
	for cur.Next(ctx) {
		var b Bill
		if err := cur.Decode(&b); err != nil {
			return none, fmt.Errorf("arrears: %w", err)
		}
		var a *Arrear
		if n := len(list); n > 0 && list[n-1].HouseholdID == b.HouseholdID {
			a = list[n-1]
		} else {
			// The cursor's own household, the page and one more say
			// whether there is a next page.
			if len(list) >= p.First+2 {
				break
			}
			a = &Arrear{HouseholdID: b.HouseholdID, BuildingID: b.BuildingID, Label: b.Label, OldestDueDate: b.DueDate}
			list = append(list, a)
		}
		a.Outstanding += b.Outstanding()
		a.BillsOverdue++
		a.AgeDays = daysBetween(a.OldestDueDate, asOf)
	}
	if err := cur.Err(); err != nil {
		return none, fmt.Errorf("arrears: %w", err)
	}
	return page.Trim(list, p, func(a *Arrear) string { return a.HouseholdID }), nil
}
