package intake

import (
	"context"
	"errors"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

// The rules decided before the register is asked: no household store is
// needed (a nil one would panic if reached), so these run without a database.
// Membership and community checks are covered through the API in e2e.
func TestResolveRefusesEarly(t *testing.T) {
	const hh, other, person = "650000000000000000000001", "650000000000000000000002", "650000000000000000000003"
	resident := &access.Caller{Kind: auth.KindPerson, ID: person, Memberships: []access.Membership{{HouseholdID: hh, Role: access.Owner}}}
	desk := &access.Caller{Kind: auth.KindStaff, ID: "650000000000000000000009", Roles: []access.Role{access.CustomerService}}
	cases := []struct {
		name  string
		c     *access.Caller
		h     string
		in    *Input
		code  apperr.Code
		field string
	}{
		{"unknown channel", resident, hh, &Input{Channel: "FAX"}, apperr.BadUserInput, "intake.channel"},
		{"resident by phone", resident, hh, &Input{Channel: Phone}, apperr.BadUserInput, "intake.channel"},
		{"resident for someone else", resident, hh, &Input{Channel: App, PersonID: other}, apperr.BadUserInput, "intake.personId"},
		{"resident of another household", resident, other, nil, apperr.NotFound, ""},
		{"staff without intake", desk, hh, nil, apperr.Forbidden, ""},
		{"staff naming nobody", desk, hh, &Input{Channel: Phone}, apperr.BadUserInput, "intake.personId"},
		{"staff through the app", desk, hh, &Input{Channel: App, PersonID: person}, apperr.BadUserInput, "intake.channel"},
	}
	for _, tc := range cases {
		_, _, err := Resolve(context.Background(), nil, tc.c, tc.h, tc.in, time.Now())
		e, ok := apperr.As(err)
		if !ok || e.Code != tc.code || e.Field != tc.field {
			t.Errorf("%s: got %v, want %s on %q", tc.name, err, tc.code, tc.field)
		}
		if tc.code == apperr.NotFound && !errors.Is(err, household.ErrNotFound) {
			t.Errorf("%s: %v is not the household's NOT_FOUND", tc.name, err)
		}
	}
}
