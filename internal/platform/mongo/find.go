package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FindMap runs one query and returns its documents keyed by key: the shape
// of every loader batch (one $in, results re-ordered by the caller's keys).
func FindMap[T any](ctx context.Context, col *mongo.Collection, filter bson.D, key func(*T) string) (map[string]*T, error) {
	cur, err := col.Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", col.Name(), err)
	}
	var list []*T
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("find %s: %w", col.Name(), err)
	}
	out := make(map[string]*T, len(list))
	for _, v := range list {
		out[key(v)] = v
	}
	return out, nil
}

// ByIDs loads documents by _id in one $in query.
func ByIDs[T any](ctx context.Context, col *mongo.Collection, ids []string, key func(*T) string) (map[string]*T, error) {
	return FindMap(ctx, col, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, key)
}
