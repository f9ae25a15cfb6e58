package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Stream runs one query and hands its documents, with only the projected
// fields, to fn one at a time, in batches of 500: the shape of every report
// query (KPIs over a window), which must not hold a whole community's
// documents at once. An error from fn stops the stream and is returned as
// is; what names the documents in database errors.
func Stream[T any](ctx context.Context, col *mongo.Collection, q, projection bson.D, what string, fn func(*T) error) error {
	cur, err := col.Find(ctx, q, options.Find().SetProjection(projection).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// InWindow is the filter of a community's documents whose time field lies
// in [from, to): served by a (communityId, field) index.
func InWindow(communityID, field string, from, to time.Time) bson.D {
	return bson.D{{Key: "communityId", Value: communityID}, {Key: field, Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}}
}
