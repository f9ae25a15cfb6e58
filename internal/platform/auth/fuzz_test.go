package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: garbage, truncated, re-signed or tampered tokens are refused
// without panicking; a token that verifies carries a subject and a kind,
// and only tokens signed with our key verify.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tk, err := NewTokens([]byte("fuzz-secret-fuzz-secret-fuzz-secret-123"), 15*time.Minute, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	good, _, _ := tk.Issue(KindStaff, "65a1b2c3d4e5f60718293a4b", "s1")
	short, _ := tk.SignShort("wechat-bind", "p1", time.Minute)
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	for _, s := range []string{
		good, short, none, "", ".", "..", "a.b.c", good + "x", good[:len(good)-1], parts[0] + "." + parts[1],
		parts[0] + ".e30." + parts[2], "Bearer " + good, strings.Repeat("A", 10000),
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"knd":"ADMIN","sub":"x","iss":"qinqing","exp":9999999999}`)) + "." + parts[2],
	} {
		f.Add(s)
	}
	other, _ := NewTokens([]byte("another-secret-another-secret-another"), 15*time.Minute, func() time.Time { return now })
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tk.Verify(s)
		if err != nil {
			if c != nil {
				t.Fatalf("refused %q but returned claims", s)
			}
			return
		}
		if c.Subject == "" || (c.Kind != KindStaff && c.Kind != KindPerson) {
			t.Fatalf("verified %q without subject or kind: %+v", s, c)
		}
		if c.ExpiresAt == nil || !c.ExpiresAt.After(now) {
			t.Fatalf("verified an expired token %q", s)
		}
		if _, err := other.Verify(s); err == nil {
			t.Fatalf("token %q verifies under another key", s)
		}
		if _, err := tk.VerifyShort("wechat-bind", s); err == nil && c.Audience == nil {
			t.Fatalf("access token %q accepted as a binding ticket", s)
		}
	})
}
