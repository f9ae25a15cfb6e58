package page

import (
	"slices"
	"testing"
)

// Trim takes the cursor's own item off (it precedes the page) and cuts to
// First; without that item there is no claim that anything precedes.
func TestTrim(t *testing.T) {
	id := func(s string) string { return s }
	for _, tc := range []struct {
		name           string
		items          []string
		r              Request
		want           []string
		hasPrev, hasNx bool
	}{
		{"first page, more", []string{"a", "b", "c"}, Request{First: 2}, []string{"a", "b"}, false, true},
		{"first page, all", []string{"a", "b"}, Request{First: 2}, []string{"a", "b"}, false, false},
		{"after b, item present, more", []string{"b", "c", "d", "e"}, Request{First: 2, After: "b"}, []string{"c", "d"}, true, true},
		{"after b, item present, last", []string{"b", "c"}, Request{First: 2, After: "b"}, []string{"c"}, true, false},
		{"after b, item deleted", []string{"c", "d", "e"}, Request{First: 2, After: "b"}, []string{"c", "d"}, false, true},
		{"after the last", []string{"b"}, Request{First: 2, After: "b"}, []string{}, true, false},
	} {
		p := Trim(tc.items, tc.r, id)
		if !slices.Equal(p.Items, tc.want) || !slices.Equal(p.Keys, tc.want) || p.HasPrev != tc.hasPrev || p.HasNext != tc.hasNx {
			t.Errorf("%s: %v prev %v next %v", tc.name, p.Items, p.HasPrev, p.HasNext)
		}
		if tc.r.Limit() < int64(tc.r.First)+1 {
			t.Errorf("%s: limit %d", tc.name, tc.r.Limit())
		}
	}
}
