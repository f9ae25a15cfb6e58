// Package auth issues and verifies access tokens and carries the caller
// through a request's context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind says which side of the service a caller is on.
type Kind string

const (
	KindStaff  Kind = "STAFF"
	KindPerson Kind = "PERSON" // owner, family member or tenant
)

// Claims is what an access token says about its bearer. Roles and scopes are
// deliberately not in the token: they are read from the database per request
// so that an admin's change of scope takes effect at once.
type Claims struct {
	Kind    Kind   `json:"knd"`
	Session string `json:"sid"` // refresh-token family, for logout
	jwt.RegisteredClaims
}

// Tokens signs and verifies access tokens with HMAC-SHA256.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	issuer string
	now    func() time.Time
}

// NewTokens makes a signer. secret must be at least 32 bytes.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("jwt secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: secret, ttl: ttl, issuer: "qinqing", now: now}, nil
}

// TTL is how long an access token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for subject.
func (t *Tokens) Issue(kind Kind, subject, session string) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	c := Claims{
		Kind:    kind,
		Session: session,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer and expiry.
func (t *Tokens) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return nil, err
	}
	if c.Subject == "" || (c.Kind != KindStaff && c.Kind != KindPerson) {
		return nil, errors.New("token without subject or kind")
	}
	return &c, nil
}

// SignShort signs a short-lived, single-purpose token (e.g. the WeChat binding
// ticket). purpose is checked by VerifyShort so one kind cannot stand in for another.
func (t *Tokens) SignShort(purpose, subject string, ttl time.Duration) (string, error) {
	now := t.now()
	c := jwt.RegisteredClaims{
		Issuer:    t.issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{purpose},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// VerifyShort returns the subject of a token made by SignShort for purpose.
func (t *Tokens) VerifyShort(purpose, token string) (string, error) {
	var c jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(purpose),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

// Identity is the verified bearer of a request, before its roles are loaded.
type Identity struct {
	Kind    Kind
	Subject string // staff id or person id
	Session string
}

type ctxKey struct{}

// WithIdentity stores the verified identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// IdentityFrom returns the identity, if the request carried a valid token.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
