// Package scalar implements the API's Time and Date scalars.
package scalar

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

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
func MarshalTime(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strconv.Quote(t.In(Shanghai).Format(time.RFC3339)))
		return err
	})
}

// MarshalDate renders a date.
func MarshalDate(d string) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		// A date kept as a string is unset when empty: a nullable Date
		// field (a move-in date not given) is null, never "".
		if d == "" {
			_, err := io.WriteString(w, "null")
			return err
		}
		_, err := io.WriteString(w, strconv.Quote(d))
		return err
	})
}

// named puts the argument path being decoded (e.g. input.moveInDate) on a
// validation error, so the client learns which field was wrong.
func named(ctx context.Context, err error) error {
	ae, ok := apperr.As(err)
	if !ok {
		return err
	}
	var parts []string
	for _, el := range graphql.GetPath(ctx) {
		switch e := el.(type) {
		case ast.PathName:
			parts = append(parts, string(e))
		case ast.PathIndex:
			parts = append(parts, strconv.Itoa(int(e)))
		}
	}
	// The path starts at the field whose argument this is (createHousehold);
	// inputs are named from the argument on (input.moveInDate).
	if len(parts) < 2 {
		return ae
	}
	return ae.WithField(strings.Join(parts[1:], "."))
}

// UnmarshalTime accepts RFC 3339 with an offset (or Z); errors name
// the input field being decoded.
func UnmarshalTime(ctx context.Context, v any) (time.Time, error) {
	t, err := unmarshalTime(v)
	return t, named(ctx, err)
}

func unmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Invalid("time", "input.bad_time")
	}
	t, err := time.Parse(time.RFC3339, s)
	// Times are sent back in Asia/Shanghai, so only instants whose Shanghai
	// rendering reads back as the same instant: before 1901 the zone's
	// offset has seconds (LMT +08:05:43) that RFC 3339 cannot write, and
	// after 9999 the year has five digits.
	if y := t.In(Shanghai).Year(); err != nil || y < 1901 || y > 9999 {
		return time.Time{}, apperr.Invalid("time", "input.bad_time")
	}
	return t, nil
}

// Date is a calendar date, YYYY-MM-DD.
type Date = string

// UnmarshalDate accepts only real dates in YYYY-MM-DD form; errors
// name the input field being decoded.
func UnmarshalDate(ctx context.Context, v any) (string, error) {
	d, err := unmarshalDate(v)
	return d, named(ctx, err)
}

func unmarshalDate(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", apperr.Invalid("date", "input.bad_date")
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", apperr.Invalid("date", "input.bad_date")
	}
	return s, nil
}

// Upload is a file sent in a multipart request.
type Upload = graphql.Upload

// MarshalUpload writes the file's content (gqlgen's own rendering); with a
// context, as gqlgen then passes one to UnmarshalUpload too.
func MarshalUpload(u graphql.Upload) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.Copy(w, u.File)
		return err
	})
}

// UnmarshalUpload accepts only a file part of a multipart request: any other
// value (a string in JSON variables, say) is the client's mistake, named by
// field, not a server error.
func UnmarshalUpload(ctx context.Context, v any) (graphql.Upload, error) {
	u, ok := v.(graphql.Upload)
	if !ok {
		return graphql.Upload{}, named(ctx, apperr.Invalid("upload", "input.bad_upload"))
	}
	return u, nil
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"input.bad_upload": {ZH: "应为随请求上传的文件", EN: "must be a file uploaded with the request"},
	})
}
