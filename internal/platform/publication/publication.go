// Package publication is what the documents a company publishes to a
// community's owners share: one per community and period (the income and
// expense statement, the management report, the published outcomes), each
// a chain of versions where a correction is the next version and the
// earlier ones stay readable. A list shows each period once, newest period
// first, as its newest version the reader may see.
package publication

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/period"
)

// Chain says how to read a document's place in its chain.
type Chain[T any] struct {
	Period  func(*T) string
	Version func(*T) int
}

// Versions loads every version of the community's periods in one query
// and groups them by period, newest first. keep (nil: all) drops what the
// reader may not see, e.g. a draft.
func Versions[T any](ctx context.Context, col *mgo.Collection, communityID string, periods []string, what string, ch Chain[T], keep func(*T) bool) (map[string][]*T, error) {
	list, err := mongo.FindAll[T](ctx, col, bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: bson.D{{Key: "$in", Value: periods}}}}, what,
		options.Find().SetSort(bson.D{{Key: "period", Value: 1}, {Key: "version", Value: -1}}))
	if err != nil {
		return nil, err
	}
	out := map[string][]*T{}
	for _, x := range list {
		if keep == nil || keep(x) {
			out[ch.Period(x)] = append(out[ch.Period(x)], x)
		}
	}
	for _, vs := range out {
		// Sorted again in Go: the order must not depend on the database's sort of a $in.
		slices.SortFunc(vs, func(a, b *T) int { return ch.Version(b) - ch.Version(a) })
	}
	return out, nil
}

// Latest pages the periods listed in heads (documents with communityId,
// period and sortKey, one per community and period, matching q) newest
// first, and gives each period's newest version that load returns. A
// period without one (its first publication cut short between listing the
// period and storing the version, or nothing the reader may see) is
// skipped. The total counts listed periods.
func Latest[T any](ctx context.Context, heads *mgo.Collection, q bson.D, p page.Request, load func(periods []string) (map[string][]*T, error)) (page.Page[*T], error) {
	type head struct {
		Period  string `bson:"period"`
		SortKey string `bson:"sortKey"`
	}
	hs, err := mongo.FindPage(ctx, heads, q, p, mongo.PageQuery{}, func(h *head) string { return h.SortKey })
	if err != nil {
		return page.Page[*T]{}, err
	}
	out := page.Page[*T]{HasNext: hs.HasNext, HasPrev: hs.HasPrev, Total: hs.Total}
	if len(hs.Items) == 0 {
		return out, nil
	}
	periods := make([]string, len(hs.Items))
	for i, h := range hs.Items {
		periods[i] = h.Period
	}
	vs, err := load(periods)
	if err != nil {
		return page.Page[*T]{}, err
	}
	for i, h := range hs.Items {
		if v := vs[h.Period]; len(v) > 0 {
			out.Items = append(out.Items, v[0])
			out.Keys = append(out.Keys, hs.Keys[i])
		}
	}
	return out, nil
}

// ID is the derived id of a period's version: "community:period:vN", so a
// version's id says where it belongs and two publishers of the same
// version collide on it.
func ID(communityID, periodText string, version int) string {
	return communityID + ":" + periodText + ":v" + strconv.Itoa(version)
}

// ParseID splits an id; ok is false for anything ID could not have made
// with a version from 1 to maxVersions.
func ParseID(id string, maxVersions int) (communityID, periodText string, version int, ok bool) {
	parts := strings.Split(id, ":")
	if len(parts) != 3 || !mongo.ValidID(parts[0]) || !strings.HasPrefix(parts[2], "v") {
		return "", "", 0, false
	}
	if _, err := period.Parse("id", parts[1]); err != nil {
		return "", "", 0, false
	}
	v, err := strconv.Atoi(parts[2][1:])
	if err != nil || v < 1 || v > maxVersions || strconv.Itoa(v) != parts[2][1:] {
		return "", "", 0, false
	}
	return parts[0], parts[1], v, true
}
