package files

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Variant is a rendition of a stored file.
type Variant string

const (
	Original Variant = "orig"
	Thumb    Variant = "thumb"
)

// ParseVariant reads the v= parameter of a file URL; absent is the original.
func ParseVariant(s string) (Variant, bool) {
	switch Variant(s) {
	case "", Original:
		return Original, true
	case Thumb:
		return Thumb, true
	}
	return "", false
}

// Errors of a signed URL. The server answers both with 403 before looking
// the file up, so neither tells whether the file exists; expired is told
// apart so an app knows to ask the API for a fresh URL.
var (
	ErrURLInvalid = errors.New("file url: bad signature")
	ErrURLExpired = errors.New("file url: expired")
)

// DeriveURLKey makes the URL-signing key from the JWT secret when no
// FILE_URL_KEY is configured: HKDF with its own label, so a leaked URL
// signature says nothing about the token key and no token verifies as a
// URL or the other way round.
func DeriveURLKey(jwtSecret []byte) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, jwtSecret, []byte("qinqing"), "file-url-signing-key/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive file url key: %w", err)
	}
	return k, nil
}

// Signer issues and checks short-lived file URLs: HMAC-SHA256 over the file
// id, the variant and the expiry. Whoever holds a URL may read that one
// rendition of that one file until it expires, so the API issues URLs only
// where the caller may see the file.
type Signer struct {
	key  []byte
	ttl  time.Duration
	base string
	now  func() time.Time
}

// NewSigner: base is the public origin (https://wuye.example.com) that
// makes URLs absolute, or "" for relative /files/… URLs.
func NewSigner(key []byte, ttl time.Duration, base string, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("file url key must be at least 32 bytes")
	}
	if ttl <= 0 {
		return nil, errors.New("file url ttl must be positive")
	}
	return &Signer{key: key, ttl: ttl, base: strings.TrimRight(base, "/"), now: now}, nil
}

// step rounds expiries up so one file's URL stays the same for a while:
// an app's image cache keys on the URL, and a new URL on every query would
// download every photo again. A URL lives between ttl and 1.25×ttl.
func (s *Signer) step() int64 { return max(int64(s.ttl/time.Second)/4, 1) }

// URL is the signed URL of rendition v of file id.
func (s *Signer) URL(id string, v Variant) string {
	st := s.step()
	exp := (s.now().Add(s.ttl).Unix() + st - 1) / st * st
	q := url.Values{}
	if v != Original {
		q.Set("v", string(v))
	}
	q.Set("exp", strconv.FormatInt(exp, 10))
	q.Set("sig", s.mac(id, v, exp))
	return s.base + "/files/" + url.PathEscape(id) + "?" + q.Encode()
}

// Verify checks a URL's exp and sig for id and v; on success it returns
// how long the URL has left, which bounds how long a client may cache.
func (s *Signer) Verify(id string, v Variant, exp, sig string) (time.Duration, error) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" {
		return 0, ErrURLInvalid
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(id, v, e))) {
		return 0, ErrURLInvalid
	}
	left := time.Unix(e, 0).Sub(s.now())
	if left <= 0 {
		return 0, ErrURLExpired
	}
	return left, nil
}

func (s *Signer) mac(id string, v Variant, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	// Variant and expiry never hold a newline, so the fields split one way only.
	fmt.Fprintf(m, "files/v1\n%s\n%s\n%d", id, v, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
