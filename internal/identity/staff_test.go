package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// An attacker guessing one account from one address waits longer after each
// failure past the third, while the real user on another address signs in
// at once, and the attacker's address is forgiven by a success.
func TestStaffLoginGrowingDelays(t *testing.T) {
	for _, account := range []string{staffAccount, "no-such-account"} {
		t.Run(account, func(t *testing.T) {
			e := newEnv(t)
			guess := func(a string) error {
				_, err := e.svc.StaffLogin(e.ctx, a, "wrong password 1", "10.6.6.6")
				return err
			}
			for range 3 {
				wantErr(t, guess(account), ErrBadCredentials)
			}
			for _, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
				// Too early, whatever the case of the account name.
				err := guess(strings.ToUpper(account))
				wantErr(t, err, ErrLoginThrottled)
				if e, _ := apperr.As(err); e.RetryAfter != wait {
					t.Fatalf("retry after %v, want %v", e.RetryAfter, wait)
				}
				e.clock.advance(wait - time.Second)
				wantErr(t, guess(account), ErrLoginThrottled)
				e.clock.advance(time.Second)
				wantErr(t, guess(account), ErrBadCredentials)
			}
			if account != staffAccount {
				return
			}
			// The real user, from their own device, is not slowed at all.
			if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1"); err != nil {
				t.Fatalf("real user from a clean address: %v", err)
			}
			// The delay grows to its cap and no further.
			e.clock.advance(32 * time.Second)
			for range 6 {
				wantErr(t, guess(account), ErrBadCredentials)
				_, err := e.svc.StaffLogin(e.ctx, account, "wrong password 1", "10.6.6.6")
				wantErr(t, err, ErrLoginThrottled)
				ae, _ := apperr.As(err)
				e.clock.advance(ae.RetryAfter)
			}
			err := guess(account)
			wantErr(t, err, ErrBadCredentials)
			if _, err := e.svc.StaffLogin(e.ctx, account, staffPass, "10.6.6.6"); !errors.Is(err, ErrLoginThrottled) {
				t.Fatalf("right password before the wait: %v", err)
			} else if ae, _ := apperr.As(err); ae.RetryAfter != 5*time.Minute {
				t.Fatalf("capped wait %v, want 5m", ae.RetryAfter)
			}
			e.clock.advance(5 * time.Minute)
			if _, err := e.svc.StaffLogin(e.ctx, account, staffPass, "10.6.6.6"); err != nil {
				t.Fatalf("right password after the wait: %v", err)
			}
			// Forgiven: three free failures again.
			for range 3 {
				wantErr(t, guess(account), ErrBadCredentials)
			}
		})
	}
}

// Many addresses guessing one account are slowed to AccountAttempts a
// minute once each has failed; an address that has not failed is never
// counted, so the real user still signs in.
func TestStaffLoginAccountCapSlowsOnlyFailingClients(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Login.AccountAttempts = 3 })
	bot := func(i int) string { return fmt.Sprintf("10.9.0.%d", i) }
	for i := range 5 {
		_, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 1", bot(i))
		wantErr(t, err, ErrBadCredentials)
	}
	for i := range 5 {
		_, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 2", bot(i))
		if i < 3 {
			wantErr(t, err, ErrBadCredentials)
		} else {
			wantErr(t, err, ErrLoginThrottled)
		}
	}
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1"); err != nil {
		t.Fatalf("real user from a clean address: %v", err)
	}
	e.clock.advance(time.Minute)
	_, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 2", bot(4))
	wantErr(t, err, ErrBadCredentials)
}

// One address trying a password on many accounts is cut off after
// ClientFailures failures an hour, even with the right password; other
// addresses are not affected.
func TestStaffLoginSprayAcrossAccounts(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		_, err := e.svc.StaffLogin(e.ctx, fmt.Sprintf("staff%02d", i), "Spring2026", "10.6.6.6")
		wantErr(t, err, ErrBadCredentials)
		e.clock.advance(time.Minute)
	}
	_, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.6.6.6")
	wantErr(t, err, ErrLoginThrottled)
	if ae, _ := apperr.As(err); ae.RetryAfter != 40*time.Minute {
		t.Fatalf("retry after %v, want 40m (the oldest failure leaves the hour)", ae.RetryAfter)
	}
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	e.clock.advance(40 * time.Minute)
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.6.6.6"); err != nil {
		t.Fatalf("after the oldest failure aged out: %v", err)
	}
}

type alertLog struct {
	mu     sync.Mutex
	alerts []LoginAlert
}

func (a *alertLog) StaffLoginAlert(_ context.Context, l LoginAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = append(a.alerts, l)
	return nil
}

func (a *alertLog) len() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.alerts) }

// Ten failures on a known account within an hour raise one alert an hour;
// unknown accounts raise none.
func TestStaffLoginAlert(t *testing.T) {
	e := newEnv(t)
	alerts := &alertLog{}
	e.svc.UseAlerts(alerts)
	fail := func(account string, n int) {
		for i := range n {
			_, err := e.svc.StaffLogin(e.ctx, account, "wrong password 1", fmt.Sprintf("10.8.%d.%d", e.clock.now().Minute(), i))
			wantErr(t, err, ErrBadCredentials)
		}
	}
	fail("nobody", 15)
	fail(staffAccount, 9)
	if alerts.len() != 0 {
		t.Fatalf("alerts after 9 failures: %d", alerts.len())
	}
	fail(staffAccount, 6)
	if alerts.len() != 1 || alerts.alerts[0].StaffID != staffID || alerts.alerts[0].Failures != 10 {
		t.Fatalf("alerts = %+v, want one for %s at 10 failures", alerts.alerts, staffID)
	}
	e.clock.advance(time.Hour)
	fail(staffAccount, 10)
	if alerts.len() != 2 {
		t.Fatalf("alerts an hour later: %d, want 2", alerts.len())
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
