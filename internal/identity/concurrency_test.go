package identity

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A double submit racing with itself (two tabs, a retry while the first
// request is in flight) is spent once: every request that succeeds gets the
// same successor, none revokes the session.
func TestConcurrentRefreshSpendsTokenOnce(t *testing.T) {
	e := newEnv(t)
	s := e.loginOwner(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	got := make([]*Session, len(errs))
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.svc.Refresh(e.ctx, s.RefreshToken)
		}()
	}
	wg.Wait()
	successor := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if successor == "" {
				successor = got[i].RefreshToken
			}
			if got[i].RefreshToken != successor || got[i].FamilyID != s.FamilyID {
				t.Fatalf("racing refreshes got different successors")
			}
		case !errors.Is(err, ErrRefreshInvalid):
			t.Fatalf("racing refresh %d: %v", i, err)
		}
	}
	if successor == "" {
		t.Fatal("no racing refresh succeeded")
	}
	if active, _ := e.svc.SessionActive(e.ctx, s.FamilyID); !active {
		t.Fatal("a double submit revoked the session")
	}
	if n, _ := e.db.Collection(colRefresh).CountDocuments(e.ctx, bson.M{"familyId": s.FamilyID}); n != 2 {
		t.Fatalf("%d tokens in the family, want the spent one and one successor", n)
	}
}

func TestConcurrentGuessesRespectAttemptLimit(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	code := e.sms.lastCode(t, ownerPhone)
	var wg sync.WaitGroup
	for i := 1; i <= 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.LoginWithCode(e.ctx, ownerPhone, fmt.Sprintf("%06d", (atoi(code)+i)%1_000_000), "10.0.0.1")
			if !errors.Is(err, ErrBadCode) && !errors.Is(err, ErrCodeExhausted) {
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	tries, err := e.db.Collection(colClaims).CountDocuments(e.ctx, bson.M{"_id": bson.M{"$regex": "^code:.*:try#"}})
	if err != nil {
		t.Fatal(err)
	}
	if tries != 5 {
		t.Fatalf("%d guesses were admitted, want 5", tries)
	}
	_, err = e.svc.LoginWithCode(e.ctx, ownerPhone, code, "10.0.0.1")
	wantErr(t, err, ErrCodeExhausted)
}

func TestConcurrentCodeRequestsRespectLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PhoneMinuteLimit = 2 })
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, fmt.Sprintf("10.2.0.%d", i))
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrTooManyCodes) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 2 || e.sms.count() != 2 {
		t.Fatalf("%d requests allowed, %d texts sent; want 2", ok, e.sms.count())
	}
}

// A burst of guesses sent the moment a wait ends gets one guess, not one
// per request.
func TestConcurrentGuessesAfterDelayGetOneTry(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		_, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 1", "10.6.6.6")
		wantErr(t, err, ErrBadCredentials)
	}
	e.clock.advance(2 * time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.StaffLogin(e.ctx, staffAccount, fmt.Sprintf("wrong password %d", i+2), "10.6.6.6")
		}()
	}
	wg.Wait()
	tried := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrBadCredentials):
			tried++
		case !errors.Is(err, ErrLoginThrottled):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if tried != 1 {
		t.Fatalf("%d guesses got through after the wait, want 1", tried)
	}
}
