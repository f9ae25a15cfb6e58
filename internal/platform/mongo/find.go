package mongo

import (
	"time"

	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/page"
)

// FindMap runs one query and returns its documents keyed by key: the shape
// of every loader batch (one $in, results re-ordered by the caller's keys).
func FindMap[T any](ctx context.Context, col *mongo.Collection, filter bson.D, key func(*T) string) (map[string]*T, error) {
	list, err := FindAll[T](ctx, col, filter, "find "+col.Name())
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(list))
	for _, v := range list {
		out[key(v)] = v
	}
	return out, nil
}

// FindAll runs one query and decodes every document; what names the
// query in errors. Callers bound the result by the filter ($in of a batch,
// one day, one household), never by a page: list screens use FindPage.
func FindAll[T any](ctx context.Context, col *mongo.Collection, filter bson.D, what string, opts ...options.Lister[options.FindOptions]) ([]*T, error) {
	cur, err := col.Find(ctx, filter, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var list []*T
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

// ByIDs loads documents by _id in one $in query.
func ByIDs[T any](ctx context.Context, col *mongo.Collection, ids []string, key func(*T) string) (map[string]*T, error) {
	return FindMap(ctx, col, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, key)
}

// PageQuery describes a list screen's query: the sort-key field its cursor
// walks (ascending, unique), whether to count the whole result whatever the
// caller asked (p.Count asks per request), and fields to leave out.
type PageQuery struct {
	SortField string // default "sortKey"
	Count     bool
	Omit      []string
}

// FindPage returns one bounded page of q after the cursor in p: one find
// (see page.Request.Limit) and, when asked, one count with the same filter.
func FindPage[T any](ctx context.Context, col *mongo.Collection, q bson.D, p page.Request, pq PageQuery, key func(*T) string) (page.Page[*T], error) {
	var none page.Page[*T]
	field := pq.SortField
	if field == "" {
		field = "sortKey"
	}
	total := int64(-1)
	if pq.Count || p.Count {
		n, err := col.CountDocuments(ctx, q)
		if err != nil {
			return none, fmt.Errorf("count %s: %w", col.Name(), err)
		}
		total = n
	}
	if p.After != "" {
		q = append(append(bson.D{}, q...), bson.E{Key: field, Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	fo := options.Find().SetSort(bson.D{{Key: field, Value: 1}}).SetLimit(p.Limit())
	if len(pq.Omit) > 0 {
		proj := bson.D{}
		for _, f := range pq.Omit {
			proj = append(proj, bson.E{Key: f, Value: 0})
		}
		fo.SetProjection(proj)
	}
	cur, err := col.Find(ctx, q, fo)
	if err != nil {
		return none, fmt.Errorf("list %s: %w", col.Name(), err)
	}
	var list []*T
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("list %s: %w", col.Name(), err)
	}
	pg := page.Trim(list, p, key)
	pg.Total = int(total)
	return pg, nil
}

// FindByID loads one document by _id; a missing one is notFound (the
// domain's own sentinel), anything else is wrapped with the collection.
func FindByID[T any](ctx context.Context, col *mongo.Collection, id string, notFound error) (*T, error) {
	var v T
	err := col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("find %s %s: %w", col.Name(), id, err)
	}
	return &v, nil
}

// InRange appends to q the condition from <= field < to, for each bound that
// is set (list screens' date filters).
func InRange(q bson.D, field string, from, to *time.Time) bson.D {
	r := bson.D{}
	if from != nil {
		r = append(r, bson.E{Key: "$gte", Value: from.UTC()})
	}
	if to != nil {
		r = append(r, bson.E{Key: "$lt", Value: to.UTC()})
	}
	if len(r) == 0 {
		return q
	}
	return append(q, bson.E{Key: field, Value: r})
}
