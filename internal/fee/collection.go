package fee

import (
	"context"

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
