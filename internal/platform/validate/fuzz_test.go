package validate

import (
	"errors"
	"regexp"
	"testing"

	"qinqing/internal/platform/apperr"
)

var normalised = regexp.MustCompile(`^1[0-9]{10}$`)

// badInput checks err is a BAD_USER_INPUT naming field.
func badInput(t *testing.T, err error, field string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.BadUserInput || ae.Field != field {
		t.Fatalf("error %v: want BAD_USER_INPUT on %q", err, field)
	}
}

// FuzzPhone: whatever people type, a number that validates is stored as the
// 11 bare digits of a mainland mobile, the same however it was spelled, and
// anything else is refused naming the field.
func FuzzPhone(f *testing.F) {
	for _, s := range []string{
		"13800000000", "+86 138-0000-0000", "0086 13800000000", " 13912345678 ", "+8613912345678",
		"", "   ", "+86", "0086", "12800000000", "1380000000", "138000000000", "１３８００００００００",
		"+86+8613800000000", "0086+8613800000000", "138 0000 0000\n", "138\x000000000", "١٣٨٠٠٠٠٠٠٠٠",
		"13800000000; DROP TABLE", "-1-3-8-0-0-0-0-0-0-0-0", "\u00a013800000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Phone("input.phone", s)
		if err != nil {
			badInput(t, err, "input.phone")
			if p != "" {
				t.Fatalf("refused %q but returned %q", s, p)
			}
			return
		}
		if !normalised.MatchString(p) {
			t.Fatalf("Phone(%q) = %q, not 11 digits starting with 1", s, p)
		}
		// Normalising is idempotent: the stored form validates to itself,
		// so a lookup by the stored number finds the same person.
		if again, err := Phone("input.phone", p); err != nil || again != p {
			t.Fatalf("Phone(%q) = %q, but Phone(%q) = %q, %v", s, p, p, again, err)
		}
	})
}

// FuzzID: an id argument is accepted only in the one spelling ids are made
// in (24 lowercase hex digits), so string comparisons of ids in access rules
// and database lookups agree.
func FuzzID(f *testing.F) {
	for _, s := range []string{
		"65a1b2c3d4e5f60718293a4b", "65A1B2C3D4E5F60718293A4B", "", "0", "65a1b2c3d4e5f60718293a4",
		"65a1b2c3d4e5f60718293a4bc", "65a1b2c3d4e5f60718293a4g", "{\"$gt\":\"\"}", " 65a1b2c3d4e5f60718293a4b",
		"65a1b2c3d4e5f60718293a4\u00e9", "000000000000000000000000",
	} {
		f.Add(s)
	}
	lowerHex := regexp.MustCompile(`^[0-9a-f]{24}$`)
	f.Fuzz(func(t *testing.T, s string) {
		err := ID("input.id", s)
		if lowerHex.MatchString(s) != (err == nil) {
			t.Fatalf("ID(%q) = %v; want accepted exactly when 24 lowercase hex digits", s, err)
		}
		if err != nil {
			badInput(t, err, "input.id")
		}
		if err := IDs("ids", []string{s}, 1); (err == nil) != lowerHex.MatchString(s) {
			t.Fatalf("IDs([%q]) = %v disagrees with ID", s, err)
		} else if err != nil && !errors.Is(err, apperr.Invalid("ids", "input.bad_id")) {
			t.Fatalf("IDs([%q]) = %v", s, err)
		}
	})
}

// FuzzText: trimmed, limited by characters as people count them, and
// required fields are never blank.
func FuzzText(f *testing.F) {
	f.Add("  物业 ", true, 2)
	f.Add("", true, 10)
	f.Add("\xff\xfe", false, 1)
	f.Add("abc", false, 0)
	f.Add(" \u3000 ", true, 5)
	f.Fuzz(func(t *testing.T, s string, required bool, max int) {
		if max < 0 || max > 1000 {
			return
		}
		v, err := Text("input.note", s, required, max)
		if err != nil {
			badInput(t, err, "input.note")
			return
		}
		if required && v == "" {
			t.Fatalf("required text %q accepted as empty", s)
		}
		if n := len([]rune(v)); n > max {
			t.Fatalf("Text(%q, max %d) kept %d characters", s, max, n)
		}
	})
}
