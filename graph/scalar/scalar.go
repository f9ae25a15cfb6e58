// Package scalar implements the API's Time and Date scalars.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"qinqing/internal/platform/apperr"
)

// Shanghai is the default time zone for rendering times (DESIGN.md).
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Time is an instant, rendered as RFC 3339 with the China offset.
type Time = time.Time

// MarshalTime renders t as RFC 3339 in Asia/Shanghai.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(t.In(Shanghai).Format(time.RFC3339))) })
}

// UnmarshalTime accepts RFC 3339 with an offset (or Z).
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Invalid("time", "input.bad_time")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.Invalid("time", "input.bad_time")
	}
	return t, nil
}

// Date is a calendar date, YYYY-MM-DD.
type Date = string

// MarshalDate renders a date.
func MarshalDate(d string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d)) })
}

// UnmarshalDate accepts only real dates in YYYY-MM-DD form.
func UnmarshalDate(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", apperr.Invalid("date", "input.bad_date")
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", apperr.Invalid("date", "input.bad_date")
	}
	return s, nil
}
