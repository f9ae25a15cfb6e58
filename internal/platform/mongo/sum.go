package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// SumInt64 adds up field (a "$path") over the documents stages leave, in
// the database: one round trip, no documents shipped. It uses one $group
// with one $sum, which both MongoDB and FerretDB serve. Missing fields
// count as 0.
func SumInt64(ctx context.Context, col *mongo.Collection, stages bson.A, field string) (int64, error) {
	pipe := append(stages, bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "t", Value: bson.D{{Key: "$sum", Value: field}}}}}})
	cur, err := col.Aggregate(ctx, pipe)
	if err != nil {
		return 0, fmt.Errorf("sum %s of %s: %w", field, col.Name(), err)
	}
	var rows []struct {
		T int64 `bson:"t"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return 0, fmt.Errorf("sum %s of %s: %w", field, col.Name(), err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].T, nil
}
