package identity

import (
	"fmt"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

func TestCodeLogin(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.RequestLoginCode(e.ctx, "+86 138-0000-0001", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got != (CodeRequested{RetryAfterSeconds: 60, ExpiresInSeconds: 300}) {
		t.Fatalf("answer = %+v", got)
	}
	code := e.sms.lastCode(t, ownerPhone)
	s, err := e.svc.LoginWithCode(e.ctx, ownerPhone, code, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e.checkSession(t, s, auth.KindPerson, ownerID)

	// Single use: a used code is spent like an expired one.
	_, err = e.svc.LoginWithCode(e.ctx, ownerPhone, code, "10.0.0.1")
	wantErr(t, err, ErrCodeExpired)
}

func TestCodeBadPhone(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.RequestLoginCode(e.ctx, "12345", "10.0.0.1")
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.BadUserInput || ae.Field != "phone" {
		t.Fatalf("error = %v", err)
	}
}

func TestCodeUnknownPhone(t *testing.T) {
	e := newEnv(t)
	known, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	sent := e.sms.count()
	unknown, err := e.svc.RequestLoginCode(e.ctx, "13700000009", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if unknown != known {
		t.Fatalf("unknown phone answered %+v, known %+v", unknown, known)
	}
	if e.sms.count() != sent {
		t.Fatal("an SMS was sent to an unknown phone")
	}
	// Rate limited like a known phone.
	_, err = e.svc.RequestLoginCode(e.ctx, "13700000009", "10.0.0.1")
	wantErr(t, err, ErrTooManyCodes)
	// Any code fails exactly as a wrong code does, runs out of tries and
	// expires as a resident's does.
	_, err = e.svc.LoginWithCode(e.ctx, "13700000009", "123456", "10.0.0.1")
	wantErr(t, err, ErrBadCode)
	for range 3 {
		_, err = e.svc.LoginWithCode(e.ctx, "13700000009", "123456", "10.0.0.1")
		wantErr(t, err, ErrBadCode)
	}
	_, err = e.svc.LoginWithCode(e.ctx, "13700000009", "123456", "10.0.0.1")
	wantErr(t, err, ErrCodeExhausted)
	_, err = e.svc.LoginWithCode(e.ctx, "13700000009", "123456", "10.0.0.1")
	wantErr(t, err, ErrCodeExhausted)
	e.clock.advance(5*time.Minute + time.Second)
	_, err = e.svc.LoginWithCode(e.ctx, "13700000009", "123456", "10.0.0.1")
	wantErr(t, err, ErrCodeExpired)
	// A phone that never asked for a code: nothing to try.
	_, err = e.svc.LoginWithCode(e.ctx, "13700000008", "123456", "10.0.0.1")
	wantErr(t, err, ErrCodeExpired)
}

func TestCodeRateLimits(t *testing.T) {
	limits := func(c *Config) { c.IPHourLimit, c.IPDayLimit = 3, 5 }
	for _, tc := range []struct {
		name    string
		phone   func(i int) string // phone of the i-th request
		ip      func(i int) string
		gap     time.Duration // clock moves by this after each request
		allowed int           // requests that succeed before the first refusal
		then    time.Duration // after the refusal, moving this far allows again
	}{
		{"phone per minute", fixedPhone, spreadIP, 0, 1, time.Minute},
		{"phone per day", fixedPhone, spreadIP, 61 * time.Second, 10, 24 * time.Hour},
		{"phone per client per day", fixedPhone, fixedIP, 61 * time.Second, 3, 24 * time.Hour},
		{"ip per hour", spreadPhone, fixedIP, 0, 3, time.Hour},
		{"ip per day", spreadPhone, fixedIP, time.Hour, 5, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, limits)
			for i := 0; i < tc.allowed; i++ {
				if _, err := e.svc.RequestLoginCode(e.ctx, tc.phone(i), tc.ip(i)); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				e.clock.advance(tc.gap)
			}
			_, err := e.svc.RequestLoginCode(e.ctx, tc.phone(tc.allowed), tc.ip(tc.allowed))
			wantErr(t, err, ErrTooManyCodes)
			e.clock.advance(tc.then)
			if _, err := e.svc.RequestLoginCode(e.ctx, tc.phone(tc.allowed+1), tc.ip(tc.allowed+1)); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

// Someone requesting codes for a resident's phone from one client spends
// only that client's share of the phone's day; the resident still gets codes.
func TestCodeBurnLeavesVictimCodes(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		_, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.6.6.6")
		if i < 3 && err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if i >= 3 {
			wantErr(t, err, ErrTooManyCodes)
		}
		e.clock.advance(61 * time.Second)
	}
	for i := range 7 {
		if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, fmt.Sprintf("10.0.%d.1", i/3)); err != nil {
			t.Fatalf("resident's request %d: %v", i+1, err)
		}
		e.clock.advance(61 * time.Second)
	}
}

func fixedPhone(int) string    { return ownerPhone }
func spreadPhone(i int) string { return fmt.Sprintf("137%08d", i) }
func fixedIP(int) string       { return "10.0.0.1" }
func spreadIP(i int) string    { return fmt.Sprintf("10.1.%d.%d", i/200, i%200) }

func TestCodeExpires(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(5*time.Minute + time.Second)
	_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, e.sms.lastCode(t, ownerPhone), "10.0.0.1")
	wantErr(t, err, ErrCodeExpired)
}

func TestCodeAttemptLimit(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	code := e.sms.lastCode(t, ownerPhone)
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	for i := 0; i < 4; i++ {
		_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, wrong, "10.0.0.1")
		wantErr(t, err, ErrBadCode)
	}
	// The fifth wrong try is the last: it says so.
	_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, wrong, "10.0.0.1")
	wantErr(t, err, ErrCodeExhausted)
	_, err = e.svc.LoginWithCode(e.ctx, ownerPhone, code, "10.0.0.1")
	wantErr(t, err, ErrCodeExhausted)

	// A fresh code works again.
	e.clock.advance(time.Minute)
	if s := e.loginOwner(t); s.SubjectID != ownerID {
		t.Fatalf("subject %s", s.SubjectID)
	}
}

func TestCodeFifthAttemptMayBeRight(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	code := e.sms.lastCode(t, ownerPhone)
	// Malformed codes cannot be right and do not spend attempts.
	_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, "abc", "10.0.0.1")
	wantErr(t, err, ErrBadCode)
	for i := 0; i < 4; i++ {
		_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000), "10.0.0.1")
		wantErr(t, err, ErrBadCode)
	}
	if _, err := e.svc.LoginWithCode(e.ctx, ownerPhone, code, "10.0.0.1"); err != nil {
		t.Fatalf("fifth attempt with the right code: %v", err)
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}
