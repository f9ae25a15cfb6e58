package identity

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

func TestStaffLogin(t *testing.T) {
	e := newEnv(t)
	s, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e.checkSession(t, s, auth.KindStaff, staffID)

	for _, tc := range []struct{ name, account, password string }{
		{"wrong password", staffAccount, "wrong password 1"},
		{"unknown account", "nobody", staffPass},
		{"empty password", staffAccount, ""},
		{"empty account", "  ", staffPass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.StaffLogin(e.ctx, tc.account, tc.password, "10.0.0.1")
			wantErr(t, err, ErrBadCredentials)
		})
	}
}

func TestStaffLockout(t *testing.T) {
	for _, account := range []string{staffAccount, "no-such-account"} {
		t.Run(account, func(t *testing.T) {
			e := newEnv(t)
			for i := 0; i < 5; i++ {
				_, err := e.svc.StaffLogin(e.ctx, account, "wrong password 1", "10.0.0.1")
				wantErr(t, err, ErrBadCredentials)
			}
			// Locked: even the right password is refused, and the account
			// name's case does not get around it.
			for _, a := range []string{account, strings.ToUpper(account)} {
				_, err := e.svc.StaffLogin(e.ctx, a, staffPass, "10.0.0.1")
				wantErr(t, err, ErrLocked)
			}
			e.clock.advance(15*time.Minute - time.Second)
			_, err := e.svc.StaffLogin(e.ctx, account, staffPass, "10.0.0.1")
			wantErr(t, err, ErrLocked)

			e.clock.advance(2 * time.Second)
			_, err = e.svc.StaffLogin(e.ctx, account, staffPass, "10.0.0.1")
			if account == staffAccount {
				if err != nil {
					t.Fatalf("after the lock ends: %v", err)
				}
			} else {
				wantErr(t, err, ErrBadCredentials)
			}
		})
	}
}

func TestStaffSuccessResetsFailures(t *testing.T) {
	e := newEnv(t)
	fail := func(n int) {
		for i := 0; i < n; i++ {
			_, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 1", "10.0.0.1")
			wantErr(t, err, ErrBadCredentials)
		}
	}
	fail(4)
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	fail(4)
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1"); err != nil {
		t.Fatalf("4 failures after a success must not lock: %v", err)
	}
}

func TestPasswords(t *testing.T) {
	h, err := HashPassword("abcdefg1")
	if err != nil || !strings.HasPrefix(h, "$2") {
		t.Fatalf("hash %q, %v", h, err)
	}
	for _, tc := range []struct {
		pw  string
		key string
	}{
		{"abcdefg1", ""},
		{"密码密码密码ab12", ""},
		{"abc1", "identity.password_length"},
		{strings.Repeat("a1", 37), "identity.password_length"},
		{"abcdefgh", "identity.password_weak"},
		{"12345678", "identity.password_weak"},
	} {
		err := CheckPassword("input.password", tc.pw)
		if tc.key == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.pw, err)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.BadUserInput || e.Key != tc.key || e.Field != "input.password" {
			t.Errorf("%q: error %v, want %s", tc.pw, err, tc.key)
		}
	}
}
