package scalar

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// render is what the API sends for a marshalled scalar: a JSON string.
func render(t *testing.T, write func(w *bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("rendered %s is not a string: %v", b.String(), err)
	}
	return s
}

func bad(t *testing.T, err error, key string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.BadUserInput || ae.Key != key {
		t.Fatalf("error %v: want BAD_USER_INPUT %s", err, key)
	}
}

// FuzzDate: only real calendar dates in YYYY-MM-DD are accepted, and an
// accepted date is sent back exactly as it came (a stored date never shifts).
func FuzzDate(f *testing.F) {
	for _, s := range []string{
		"2026-11-22", "2024-02-29", "2025-02-29", "2026-13-01", "2026-1-2", "2026-01-02T00:00:00Z", "",
		"0000-01-01", "9999-12-31", "+2026-01-01", "2026-00-10", "2026-01-32", "２０２６-01-01", "2026/01/02",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := UnmarshalDate(context.Background(), s)
		if err != nil {
			bad(t, err, "input.bad_date")
			return
		}
		day, perr := time.Parse(time.DateOnly, d)
		if perr != nil || day.Format(time.DateOnly) != s {
			t.Fatalf("accepted date %q is not canonical (%v)", s, perr)
		}
		if out := render(t, func(w *bytes.Buffer) error { return MarshalDate(d).MarshalGQLContext(context.Background(), w) }); out != s {
			t.Fatalf("date %q sent back as %q", s, out)
		}
	})
}

// FuzzTime: an accepted RFC 3339 time is sent back as the same instant, and
// what is sent back is itself accepted (clients can echo it).
func FuzzTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-22T10:00:00Z", "2026-11-22T18:00:00+08:00", "2026-11-22T10:00:00.123456789-05:30",
		"2026-11-22T10:00:00", "2026-11-22", "", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00",
		"2026-11-22T24:00:00Z", "2026-11-22t10:00:00z", "2026-11-22T10:00:60Z", "2026-11-22T10:00:00+24:00",
		// Found by fuzzing: rendered in Shanghai, these did not read back.
		"1900-12-31T23:59:59+08:00", "9999-12-31T23:59:59-14:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := UnmarshalTime(context.Background(), s)
		if err != nil {
			bad(t, err, "input.bad_time")
			return
		}
		out := render(t, func(w *bytes.Buffer) error { return MarshalTime(in).MarshalGQLContext(context.Background(), w) })
		back, err := UnmarshalTime(context.Background(), out)
		if err != nil {
			t.Fatalf("time %q sent back as %q, which is refused: %v", s, out, err)
		}
		// Rendered to the second: the instant survives up to sub-second digits.
		if !back.Equal(in.Truncate(time.Second)) {
			t.Fatalf("time %q (%v) sent back as %q (%v)", s, in, out, back)
		}
	})
}

// TestScalarsRefuseNonStrings: any other JSON value is refused with a code.
func TestScalarsRefuseNonStrings(t *testing.T) {
	for _, v := range []any{int64(20261122), 1.5, true, nil, []any{"2026-11-22"}, map[string]any{"date": "2026-11-22"}} {
		_, err := UnmarshalDate(context.Background(), v)
		bad(t, err, "input.bad_date")
		_, err = UnmarshalTime(context.Background(), v)
		bad(t, err, "input.bad_time")
	}
}

// An unset date (a nullable Date kept as an empty string) is null, not "".
func TestUnsetDateIsNull(t *testing.T) {
	for in, want := range map[string]string{"": "null", "2026-12-07": `"2026-12-07"`} {
		var b bytes.Buffer
		if err := MarshalDate(in).MarshalGQLContext(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("MarshalDate(%q) = %s, want %s", in, b.String(), want)
		}
	}
}
