package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/ratelimit"
)

// BcryptCost is the work factor of new password hashes. Tests lower it to
// bcrypt.MinCost; production keeps 10 (about 50-100 ms per check).
var BcryptCost = 10

const (
	minPasswordLen = 8
	maxPasswordLen = 72 // bcrypt ignores bytes beyond 72
)

// HashPassword hashes a password for storage by the staff package.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword enforces the password policy for a new password. It is
// deliberately modest: length matters more than character classes, and a
// policy staff cannot remember ends up on a sticky note.
func CheckPassword(field, pw string) error {
	if n := utf8.RuneCountInString(pw); n < minPasswordLen || len(pw) > maxPasswordLen {
		return apperr.Invalid(field, "identity.password_length", minPasswordLen, maxPasswordLen)
	}
	var letter, digit bool
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsLetter(r):
			letter = true
		}
	}
	if !letter || !digit {
		return apperr.Invalid(field, "identity.password_weak")
	}
	return nil
}

var (
	dummyMu   sync.Mutex
	dummyCost int
	dummyVal  []byte
)

// mustDummyHash returns a hash of a random password at the current
// BcryptCost, computed once per cost so tests that lower the cost stay fast.
func mustDummyHash() []byte {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if dummyVal == nil || dummyCost != BcryptCost {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(b)), BcryptCost)
		if err != nil {
			panic("identity: dummy bcrypt hash: " + err.Error())
		}
		dummyVal, dummyCost = h, BcryptCost
	}
	return dummyVal
}

// LoginPolicy is how staff sign-in resists password guessing without
// locking the real user out. Every window rolls (see internal/platform/ratelimit).
//
//   - Per account and client IP: the first FreeFailures failures within
//     FailureWindow cost nothing; after that each attempt from that client on
//     that account must wait BaseDelay doubled per further failure, at most
//     MaxDelay, after the latest failure, and only one attempt per wait gets
//     through. A success from that client forgives its failures.
//   - Per account, from all clients that have failed on it within
//     FailureWindow: at most AccountAttempts attempts per AccountWindow. This
//     slows a guesser with many addresses; a client with no recent failure on
//     the account is never counted or refused by it, so the real user signing
//     in from their own device gets in while someone sprays elsewhere.
//   - Per client IP across all accounts: at most ClientFailures failures per
//     FailureWindow (spraying one password over many accounts); once spent,
//     that client's attempts are refused until its oldest failure ages out.
//   - AlertFailures failures on one known account within AlertWindow, from
//     all clients, alert the community's supervisors (or the admins), at most
//     once per account per AlertWindow.
type LoginPolicy struct {
	FailureWindow       time.Duration
	FreeFailures        int
	BaseDelay, MaxDelay time.Duration
	AccountAttempts     int
	AccountWindow       time.Duration
	ClientFailures      int
	AlertFailures       int
	AlertWindow         time.Duration
}

// DefaultLoginPolicy: 3 free failures per account and client in an hour,
// then waits of 2 s, 4 s, 8 s ... up to 5 min; 10 attempts a minute per
// account from failing clients; 20 failures an hour per client; an alert at
// 10 failures on an account within an hour.
func DefaultLoginPolicy() LoginPolicy {
	return LoginPolicy{
		FailureWindow: time.Hour, FreeFailures: 3, BaseDelay: 2 * time.Second, MaxDelay: 5 * time.Minute,
		AccountAttempts: 10, AccountWindow: time.Minute,
		ClientFailures: 20,
		AlertFailures:  10, AlertWindow: time.Hour,
	}
}

// delay is the wait after the latest of failures (failures >= FreeFailures).
func (p LoginPolicy) delay(failures int) time.Duration {
	d := p.BaseDelay
	for i := p.FreeFailures; i < failures && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// StaffLogin checks a staff account and password under the LoginPolicy.
// Unknown accounts, disabled accounts and wrong passwords are
// indistinguishable to the caller and are throttled alike.
func (s *Service) StaffLogin(ctx context.Context, account, password, clientIP string) (*Session, error) {
	account = strings.TrimSpace(account)
	if account == "" || password == "" || len(account) > 128 {
		return nil, ErrBadCredentials
	}
	// Count on the case-folded account so "Wang" and "wang" share limits
	// whatever the staff package's matching rules are.
	acct := strings.ToLower(account)
	// Limit keys name the account by digest: what was typed may be a
	// password in the wrong field, and the keys stay in the database.
	key := hashToken(acct)[:32]
	p := s.cfg.Login
	pairKey := "login:fail:" + key + "|" + clientIP
	failures, latest, err := s.limits.Count(ctx, pairKey, p.FailureWindow)
	if err != nil {
		return nil, err
	}
	if failures >= p.FreeFailures {
		now := s.now()
		if until := latest.Add(p.delay(failures)); now.Before(until) {
			return nil, ErrLoginThrottled.WithRetryAfter(until.Sub(now))
		}
		// One attempt per wait: a burst sent the moment it ends gets one
		// guess, not one per request.
		gate := fmt.Sprintf("login:gate:%s|%s|%d", key, clientIP, latest.UnixMilli())
		if ok, err := s.claim(ctx, gate, latest.Add(p.FailureWindow)); err != nil || !ok {
			return nil, orErr(err, ErrLoginThrottled.WithRetryAfter(p.delay(failures+1)))
		}
	}
	rules := []ratelimit.Rule{{Key: "login:client:" + clientIP, Window: p.FailureWindow, Max: p.ClientFailures}}
	if failures > 0 {
		rules = append(rules, ratelimit.Rule{Key: "login:account:" + key, Window: p.AccountWindow, Max: p.AccountAttempts})
	}
	hits, wait, err := s.limits.Take(ctx, rules...)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, ErrLoginThrottled.WithRetryAfter(wait)
	}

	id, hash, found, err := s.staff.StaffCredentials(ctx, account)
	if err != nil {
		return nil, errors.Join(err, hits.Release(ctx))
	}
	if !found {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
	} else if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
		// Not a failure after all: give the client's failure budget back
		// and forgive this client's failures on the account.
		if err := errors.Join(hits.Release(ctx), s.limits.Clear(ctx, pairKey)); err != nil {
			return nil, err
		}
		return s.newSession(ctx, auth.KindStaff, id, "")
	}
	if err := s.loginFailed(ctx, acct, key, pairKey, id); err != nil {
		return nil, err
	}
	// An unknown account name is not logged: it is often a password typed
	// into the wrong field.
	logged := "(unknown)"
	if found {
		logged = account
	}
	s.log.InfoContext(ctx, "identity: staff login failed", "account", logged, "ip", clientIP, "known", found)
	return nil, ErrBadCredentials
}

// loginFailed records a failure for the client's delay and the account's
// alert, and raises the alert when the account crosses the threshold.
func (s *Service) loginFailed(ctx context.Context, acct, key, pairKey, staffID string) error {
	p := s.cfg.Login
	accountKey := "login:failures:" + key
	_, err := s.limits.Allow(ctx,
		ratelimit.Rule{Key: pairKey, Window: p.FailureWindow},
		ratelimit.Rule{Key: accountKey, Window: p.AlertWindow})
	if err != nil || staffID == "" {
		return err
	}
	n, _, err := s.limits.Count(ctx, accountKey, p.AlertWindow)
	if err != nil || n < p.AlertFailures {
		return err
	}
	// The claim makes it one alert per account per window, however many
	// failures and servers.
	if wait, err := s.limits.Allow(ctx, ratelimit.Rule{Key: "login:alert:" + key, Window: p.AlertWindow, Max: 1}); err != nil || wait > 0 {
		return err
	}
	s.log.WarnContext(ctx, "identity: many failed sign-ins on a staff account", "account", acct, "failures", n)
	if s.alerts == nil {
		return nil
	}
	a := LoginAlert{StaffID: staffID, Account: acct, Failures: n, Window: p.AlertWindow, At: s.now()}
	if err := s.alerts.StaffLoginAlert(ctx, a); err != nil {
		// The failed sign-in must read the same either way; the log has it.
		s.log.ErrorContext(ctx, "identity: staff login alert not sent", "account", acct, "err", err)
	}
	return nil
}

func orErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
