package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"qinqing/graph/model"
	"qinqing/internal/platform/page"
)

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pageArgs is how every connection field reads first/after: page.Parse
// (a malformed cursor is BAD_USER_INPUT naming "after", never an empty page)
// and, from the field's selection, whether the caller reads totalCount, so
// the count's round trip is spent only then.
func pageArgs(ctx context.Context, first *int, after *string, def int) (page.Request, error) {
	p, err := page.Parse(first, after, def)
	if err != nil {
		return p, err
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
			if f.Name == "totalCount" {
				p.Count = true
			}
		}
	}
	return p, nil
}

// pageInfo is the one place a connection's PageInfo is made.
func pageInfo[T any](p page.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrev}
	if n := len(p.Keys); n > 0 {
		pi.StartCursor = strp(page.Cursor(p.Keys[0]))
		pi.EndCursor = strp(page.Cursor(p.Keys[n-1]))
	}
	return pi
}

// edges builds Relay edges from a page with a constructor for the edge type.
func edges[T, E any](p page.Page[T], mk func(cursor string, node T) E) []E {
	out := make([]E, len(p.Items))
	for i, it := range p.Items {
		out[i] = mk(page.Cursor(p.Keys[i]), it)
	}
	return out
}
