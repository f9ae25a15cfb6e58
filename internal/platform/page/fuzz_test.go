package page

import (
	"testing"
	"time"
	"unicode/utf8"

	"qinqing/internal/platform/apperr"
)

// FuzzParse: a cursor the server accepts is one it could have issued: it
// decodes to a key that encodes back to the very same cursor (one cursor per
// key, no second spelling), the key is text the database can compare, and
// anything else is refused naming "after". first stays within its bounds.
func FuzzParse(f *testing.F) {
	key := NewestFirst(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), "65a1b2c3d4e5f60718293a4b")
	for _, s := range []string{
		Cursor(key), Cursor("a"), "", "=", "QQ", "QR", "QQ==", "QU\nJD", "QU\rJD", "____", "+/+/",
		Cursor("\xff\xfe"), Cursor("\x00"), "!!!!", "QUJD\n", Cursor(`{"$gt":""}`),
	} {
		f.Add(s, 10, true)
	}
	f.Add("", -1, true)
	f.Add("", 101, true)
	f.Add("", 0, false)
	f.Fuzz(func(t *testing.T, after string, first int, hasFirst bool) {
		var fp *int
		if hasFirst {
			fp = &first
		}
		r, err := Parse(fp, &after, 20)
		if err != nil {
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.BadUserInput || (ae.Field != "after" && ae.Field != "first") {
				t.Fatalf("Parse(%d, %q) = %v: want BAD_USER_INPUT naming first or after", first, after, err)
			}
			return
		}
		if r.First < 0 || r.First > MaxFirst {
			t.Fatalf("Parse(%d) accepted first = %d", first, r.First)
		}
		if after == "" {
			if r.After != "" {
				t.Fatalf("empty cursor decoded to %q", r.After)
			}
			return
		}
		if r.After == "" || !utf8.ValidString(r.After) {
			t.Fatalf("cursor %q accepted with key %q", after, r.After)
		}
		if c := Cursor(r.After); c != after {
			t.Fatalf("cursor %q decodes to %q, which encodes to %q", after, r.After, c)
		}
	})
}

// FuzzCursor: every key the server makes round-trips through its cursor.
func FuzzCursor(f *testing.F) {
	f.Add("0000000000000000001|65a1b2c3d4e5f60718293a4b")
	f.Add("a")
	f.Add("物业")
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" || !utf8.ValidString(key) {
			return
		}
		c := Cursor(key)
		r, err := Parse(nil, &c, 20)
		if err != nil || r.After != key {
			t.Fatalf("key %q: cursor %q parsed to %q, %v", key, c, r.After, err)
		}
	})
}
