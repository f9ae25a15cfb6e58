// Package page implements bounded, cursor-based pages for list screens.
package page

import (
	"encoding/base64"
	"fmt"
	"time"
	"unicode/utf8"

	"qinqing/internal/platform/apperr"
)

// MaxFirst bounds every page: a list screen never loads more than this.
const MaxFirst = 100

// Request is a validated page request: at most First items after the key
// encoded in the cursor.
type Request struct {
	First int
	After string // decoded sort key; empty for the first page
	// Count asks for the total (the caller selected totalCount): a count is
	// a second round trip, spent only when someone reads it.
	Count bool
}

// Limit is how many items a store fetches for r, from the cursor's own key
// on ($gte, see Trim): one more than First tells whether there is a next
// page, and after a cursor one more again is the cursor's own item, whose
// presence tells that something precedes the page (hasPreviousPage) without
// a second query.
func (r Request) Limit() int64 {
	if r.After != "" {
		return int64(r.First) + 2
	}
	return int64(r.First) + 1
}

// From is the query operator a store applies to its sort field with After:
// the cursor's own item is fetched too, and Trim takes it off.
const From = "$gte"

// Parse validates first/after arguments. The cursor is opaque to clients.
func Parse(first *int, after *string, def int) (Request, error) {
	r := Request{First: def}
	if first != nil {
		if *first < 0 || *first > MaxFirst {
			return r, apperr.Invalid("first", "input.out_of_range", 0, MaxFirst)
		}
		r.First = *first
	}
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		// Only a cursor we could have issued: the decoder also takes other
		// spellings of one key (line breaks, stray low bits), and a key that
		// is not text is refused here rather than by the database.
		if err != nil || len(b) == 0 || !utf8.Valid(b) || Cursor(string(b)) != *after {
			return r, apperr.Invalid("after", "input.bad_cursor")
		}
		r.After = string(b)
	}
	return r, nil
}

// Cursor encodes a sort key.
func Cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// Page is one page of items with the key of each.
type Page[T any] struct {
	Items   []T
	Keys    []string
	HasNext bool
	// HasPrev: an item precedes the page. It is known only when the
	// cursor's own item is still in the list; when that item is gone it is
	// false, which the Relay spec allows for forward paging ("may return
	// false" when it cannot tell cheaply), whereas a true is always so.
	HasPrev bool
	Total   int // -1 when not counted
}

// Trim cuts a result fetched with r.Limit() items from r.After on (From)
// down to the page: it takes off the cursor's own item, noting that it
// precedes, cuts to r.First and records whether there was more.
func Trim[T any](items []T, r Request, key func(T) string) Page[T] {
	p := Page[T]{Total: -1}
	if r.After != "" && len(items) > 0 && key(items[0]) == r.After {
		items = items[1:]
		p.HasPrev = true
	}
	if len(items) > r.First {
		items = items[:r.First]
		p.HasNext = true
	}
	p.Items = items
	p.Keys = make([]string, len(items))
	for i, it := range items {
		p.Keys[i] = key(it)
	}
	return p
}

// NewestFirst is a sort key that orders newest first under ascending order
// (so one ascending index and a "$gt cursor" serve every newest-first list),
// with the id breaking ties.
func NewestFirst(t time.Time, id string) string {
	return fmt.Sprintf("%019d|%s", int64(1<<62)-t.UnixMilli(), id)
}
