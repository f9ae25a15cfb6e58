package files

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignedURL(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 1, 0, 0, time.UTC)
	key, err := DeriveURLKey([]byte("test-secret-test-secret-test-secret-123"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(key, []byte("test-secret")) || len(key) != 32 {
		t.Fatalf("derived key %x", key)
	}
	s, err := NewSigner(key, time.Hour, "https://wuye.example.com/", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	const id = "6560a1b2c3d4e5f601234567"
	parse := func(raw string) (string, Variant, string, string) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := ParseVariant(u.Query().Get("v"))
		if !ok {
			t.Fatalf("variant of %s", raw)
		}
		return strings.TrimPrefix(u.Path, "/files/"), v, u.Query().Get("exp"), u.Query().Get("sig")
	}
	thumb := s.URL(id, Thumb)
	if !strings.HasPrefix(thumb, "https://wuye.example.com/files/"+id+"?") || !strings.Contains(thumb, "v=thumb") {
		t.Fatalf("url %s", thumb)
	}
	gotID, v, exp, sig := parse(thumb)
	if _, err := s.Verify(gotID, v, exp, sig); err != nil {
		t.Fatalf("own url refused: %v", err)
	}
	// The same URL for a while, so an app's image cache keeps working.
	now = now.Add(5 * time.Minute)
	if again := s.URL(id, Thumb); again != thumb {
		t.Errorf("url changed within the rounding step:\n%s\n%s", thumb, again)
	}
	bad := map[string][4]string{
		"tampered signature": {id, string(Thumb), exp, "A" + sig[1:]},
		"another file":       {"6560a1b2c3d4e5f601234568", string(Thumb), exp, sig},
		"another variant":    {id, string(Original), exp, sig},
		"later expiry":       {id, string(Thumb), exp + "0", sig},
		"no signature":       {id, string(Thumb), exp, ""},
	}
	for name, c := range bad {
		if _, err := s.Verify(c[0], Variant(c[1]), c[2], c[3]); !errors.Is(err, ErrURLInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	now = now.Add(75 * time.Minute) // past any expiry this URL could have had
	if _, err := s.Verify(gotID, v, exp, sig); !errors.Is(err, ErrURLExpired) {
		t.Errorf("expired: %v", err)
	}
	// Another key (another deployment) does not accept it.
	other, _ := NewSigner(bytes.Repeat([]byte{7}, 32), time.Hour, "", func() time.Time { return now.Add(-time.Hour) })
	if _, err := other.Verify(gotID, v, exp, sig); !errors.Is(err, ErrURLInvalid) {
		t.Errorf("other key: %v", err)
	}
	if u := other.URL(id, Original); !strings.HasPrefix(u, "/files/"+id+"?exp=") {
		t.Errorf("relative original url %s", u)
	}
}
