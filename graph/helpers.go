package graph

import (
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

func pageInfo[T any](p page.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext}
	if n := len(p.Keys); n > 0 {
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
