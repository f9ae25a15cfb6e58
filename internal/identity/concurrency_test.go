package identity

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The guarded single-document updates must hold when requests race.
func TestConcurrentRefreshSpendsTokenOnce(t *testing.T) {
	e := newEnv(t)
	s := e.loginOwner(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Refresh(e.ctx, s.RefreshToken)
		}()
	}
	wg.Wait()
	ok, reused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrRefreshReused):
			reused++
		case !errors.Is(err, ErrRefreshInvalid):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok > 1 || reused == 0 {
		t.Fatalf("%d successes, %d reuse detections", ok, reused)
	}
	if active, _ := e.svc.SessionActive(e.ctx, s.FamilyID); active {
		t.Fatal("family survived a detected reuse")
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
			if !errors.Is(err, ErrBadCode) {
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
	wantErr(t, err, ErrBadCode)
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
