// Package apperr is the one vocabulary of failure shared by every domain
// package and the API edge. A domain declares its sentinel errors with New;
// the GraphQL error presenter maps them to extensions.code and a localized
// message in exactly one place. Anything that is not an *Error becomes
// INTERNAL there, so internals never leak to a client.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is the stable, machine-readable contract with the front ends.
type Code string

const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	// BadRequest is an HTTP request the API cannot read at all (malformed
	// or oversized body), as opposed to a readable request with bad input.
	BadRequest  Code = "BAD_REQUEST"
	Conflict    Code = "CONFLICT"
	RateLimited Code = "RATE_LIMITED"
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
)

// Error is a domain failure: a code for machines, a message key for people,
// and, for invalid input, the field that was wrong.
type Error struct {
	Code  Code
	Key   string // message key, see messages.go
	Field string // input field path, e.g. "input.phone"; empty if not about one field
	Args  []any  // values substituted into the localized message
	// Reason refines Code with a stable machine-readable cause (e.g.
	// QUERY_TOO_DEEP), sent as extensions.reason; empty for most errors.
	Reason string
	// RetryAfter says when a RATE_LIMITED request may be tried again; the
	// API sends it as extensions.retryAfterSeconds and a Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Key, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Key)
}

// Is makes a sentinel match every copy of itself that names a field or carries
// arguments, so errors.Is(err, household.ErrNotFound) keeps working after
// WithField.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Key == e.Key
}

// New declares a sentinel error. key must have messages registered.
func New(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// WithField returns a copy of e about the named input field.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithArgs returns a copy of e whose message is formatted with args.
func (e *Error) WithArgs(args ...any) *Error {
	c := *e
	c.Args = args
	return &c
}

// WithReason returns a copy of e that names its cause in extensions.reason.
func (e *Error) WithReason(reason string) *Error {
	c := *e
	c.Reason = reason
	return &c
}

// WithRetryAfter returns a copy of e that may be retried after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// RetryAfterSeconds is the whole seconds a client must wait before trying a
// RATE_LIMITED request again: at least 1, and a minute when the limit did
// not say (better a client waits too long than hammers a limit).
func (e *Error) RetryAfterSeconds() int {
	switch {
	case e.RetryAfter <= 0:
		return 60
	case e.RetryAfter < time.Second:
		return 1
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// Invalid is a BAD_USER_INPUT error about one field.
func Invalid(field, key string, args ...any) *Error {
	return &Error{Code: BadUserInput, Key: key, Field: field, Args: args}
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf is the code the API will show for err.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// Common errors every domain uses.
var (
	ErrUnauthenticated = New(Unauthenticated, "common.unauthenticated")
	ErrForbidden       = New(Forbidden, "common.forbidden")
	ErrNotFound        = New(NotFound, "common.not_found")
	ErrInternal        = New(Internal, "common.internal")
	ErrUnavailable     = New(Unavailable, "common.unavailable")
	ErrRateLimited     = New(RateLimited, "common.rate_limited")
	ErrConflict        = New(Conflict, "common.conflict")
	ErrBadRequest      = New(BadRequest, "common.bad_request")
)
