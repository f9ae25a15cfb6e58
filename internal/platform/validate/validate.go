// Package validate checks input at the edge of each domain service and names
// the field that is wrong.
package validate

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// Phone normalizes a mainland China mobile number ("+86 138-0000-0000" ->
// "13800000000") or reports the field as invalid.
func Phone(field, s string) (string, error) {
	p := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	p = strings.TrimPrefix(strings.TrimPrefix(p, "+86"), "0086")
	if p == "" {
		return "", apperr.Invalid(field, "input.required")
	}
	if !mobile.MatchString(p) {
		return "", apperr.Invalid(field, "input.bad_phone")
	}
	return p, nil
}

// Text trims s and checks it is present (when required) and at most max
// characters (runes, so Chinese text counts as people count it).
func Text(field, s string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", apperr.Invalid(field, "input.required")
	}
	if utf8.RuneCountInString(s) > max {
		return "", apperr.Invalid(field, "input.too_long", max)
	}
	return s, nil
}

// OptText is Text for an optional pointer: nil stays nil.
func OptText(field string, s *string, max int) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := Text(field, *s, false, max)
	return &v, err
}

// List checks a list of short strings: at most maxItems, each at most maxLen.
func List(field string, items []string, maxItems, maxLen int) ([]string, error) {
	if len(items) > maxItems {
		return nil, apperr.Invalid(field, "input.too_many", maxItems)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		v, err := Text(field, it, true, maxLen)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ID checks an id argument's format; an id of the wrong shape can never exist,
// so the caller usually answers NOT_FOUND for a well-formed unknown one.
func ID(field, id string) error {
	if !mongo.ValidID(id) {
		return apperr.Invalid(field, "input.bad_id")
	}
	return nil
}

// IDs checks a list of ids.
func IDs(field string, ids []string, max int) error {
	if len(ids) > max {
		return apperr.Invalid(field, "input.too_many", max)
	}
	for _, id := range ids {
		if err := ID(field, id); err != nil {
			return err
		}
	}
	return nil
}
