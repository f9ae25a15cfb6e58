package identity

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/ratelimit"
)

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.loginOwner(t)
	e.clock.advance(20 * time.Minute)
	second, err := e.svc.Refresh(e.ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.checkSession(t, second, auth.KindPerson, ownerID)
	if second.FamilyID != first.FamilyID || second.RefreshToken == first.RefreshToken {
		t.Fatalf("rotation: first %+v second %+v", first, second)
	}
	third, err := e.svc.Refresh(e.ctx, second.RefreshToken)
	if err != nil {
		t.Fatalf("the new token must work: %v", err)
	}
	if active, err := e.svc.SessionActive(e.ctx, third.FamilyID); err != nil || !active {
		t.Fatalf("active = %v, %v", active, err)
	}
}

// A thief replaying a spent refresh token after the grace window ends the
// whole session, for the thief and the owner alike, and everyone hears it.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t)
	revoked := e.subscribe(t, events.TypeSessionRevoked)
	first := e.loginOwner(t)
	other := e.loginOwner2(t)
	second, err := e.svc.Refresh(e.ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(30 * time.Second)
	_, err = e.svc.Refresh(e.ctx, first.RefreshToken)
	wantErr(t, err, ErrRefreshReused)
	_, err = e.svc.Refresh(e.ctx, second.RefreshToken)
	wantErr(t, err, ErrRefreshInvalid)
	if active, _ := e.svc.SessionActive(e.ctx, first.FamilyID); active {
		t.Fatal("family still active after reuse")
	}
	if ev := recvEvent(t, revoked); ev.SubjectID != first.FamilyID || ev.ActorID != ownerID {
		t.Fatalf("event = %+v, want family %s of %s", ev, first.FamilyID, ownerID)
	}
	// Other sessions are untouched.
	if _, err := e.svc.Refresh(e.ctx, other.RefreshToken); err != nil {
		t.Fatalf("unrelated session: %v", err)
	}
}

// A client that sends its refresh twice (the first response lost) within
// the grace window gets the same new refresh token and a working access
// token of the same session; the database never holds it in plaintext.
func TestRefreshDoubleSubmitWithinGrace(t *testing.T) {
	e := newEnv(t)
	first := e.loginOwner(t)
	second, err := e.svc.Refresh(e.ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(29 * time.Second)
	again, err := e.svc.Refresh(e.ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("double submit within grace: %v", err)
	}
	if again.RefreshToken != second.RefreshToken || again.FamilyID != first.FamilyID || !again.RefreshTokenExpiresAt.Equal(second.RefreshTokenExpiresAt) {
		t.Fatalf("double submit got %+v, want the pair of %+v", again, second)
	}
	if c, err := e.tokens.Verify(again.AccessToken); err != nil || c.Session != first.FamilyID || c.Subject != ownerID {
		t.Fatalf("replayed access token: %+v %v", c, err)
	}
	var raw bson.Raw
	if err := e.db.Collection(colRefresh).FindOne(e.ctx, bson.M{"_id": hashToken(first.RefreshToken)}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), second.RefreshToken) {
		t.Fatal("the successor refresh token is stored in plaintext")
	}
	// The successor works as usual; once it has moved on, its predecessor
	// is no double submit any more.
	if _, err := e.svc.Refresh(e.ctx, again.RefreshToken); err != nil {
		t.Fatalf("successor after a double submit: %v", err)
	}
	_, err = e.svc.Refresh(e.ctx, first.RefreshToken)
	wantErr(t, err, ErrRefreshReused)
}

// Deactivating a staff member ends every one of their sessions at once.
func TestRevokeSubject(t *testing.T) {
	e := newEnv(t)
	subjects := e.subscribe(t, events.TypeSubjectRevoked)
	var sessions []*Session
	for range 2 {
		s, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	owner := e.loginOwner(t)
	if err := e.svc.RevokeSubject(e.ctx, staffID); err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, subjects); ev.SubjectID != staffID {
		t.Fatalf("event = %+v, want subject %s", ev, staffID)
	}
	for _, s := range sessions {
		if active, err := e.svc.SessionActive(e.ctx, s.FamilyID); err != nil || active {
			t.Fatalf("session %s active = %v, %v", s.FamilyID, active, err)
		}
		_, err := e.svc.Refresh(e.ctx, s.RefreshToken)
		wantErr(t, err, ErrRefreshInvalid)
	}
	if active, _ := e.svc.SessionActive(e.ctx, owner.FamilyID); !active {
		t.Fatal("another subject's session was revoked")
	}
}

func TestRefreshInvalid(t *testing.T) {
	e := newEnv(t)
	s := e.loginOwner(t)
	for _, tok := range []string{"", "not-a-token", s.RefreshToken + "x"} {
		_, err := e.svc.Refresh(e.ctx, tok)
		wantErr(t, err, ErrRefreshInvalid)
	}
	e.clock.advance(30*24*time.Hour + time.Second)
	_, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	wantErr(t, err, ErrRefreshInvalid)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s, err := e.svc.StaffLogin(e.ctx, staffAccount, staffPass, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	revoked := e.subscribe(t, events.TypeSessionRevoked)
	if err := e.svc.Logout(e.ctx, s.FamilyID); err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, revoked); ev.SubjectID != s.FamilyID || ev.ActorID != staffID {
		t.Fatalf("event = %+v, want family %s of %s", ev, s.FamilyID, staffID)
	}
	if active, err := e.svc.SessionActive(e.ctx, s.FamilyID); err != nil || active {
		t.Fatalf("active = %v, %v", active, err)
	}
	_, err = e.svc.Refresh(e.ctx, s.RefreshToken)
	wantErr(t, err, ErrRefreshInvalid)
}

func TestSweepExpired(t *testing.T) {
	e := newEnv(t)
	live := e.loginOwner(t)
	if _, err := e.svc.StaffLogin(e.ctx, staffAccount, "wrong password 1", "10.0.0.1"); err == nil {
		t.Fatal("wrong password accepted")
	}
	e.clock.advance(31 * 24 * time.Hour)
	fresh := e.loginOwner2(t)
	if err := e.svc.SweepExpired(e.ctx); err != nil {
		t.Fatal(err)
	}
	count := func(col string) int64 {
		n, err := e.db.Collection(col).CountDocuments(e.ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// What remains belongs to the fresh login: its code and its token, and
	// the five rate-limit hits of its request; the failed sign-in's hits
	// and the old code's claims have gone.
	if n := count(colRefresh); n != 1 {
		t.Errorf("refresh tokens left: %d", n)
	}
	if n := count(colCodes); n != 1 {
		t.Errorf("codes left: %d", n)
	}
	if n := count(ratelimit.Collection); n != 5 {
		t.Errorf("rate-limit hits left: %d", n)
	}
	// Claims: one guess, one use.
	if n := count(colClaims); n != 2 {
		t.Errorf("claims left: %d", n)
	}
	_, err := e.svc.Refresh(e.ctx, live.RefreshToken)
	wantErr(t, err, ErrRefreshInvalid)
	if _, err := e.svc.Refresh(e.ctx, fresh.RefreshToken); err != nil {
		t.Fatal(err)
	}
}

// loginOwner2 signs in a second resident from another address.
func (e *env) loginOwner2(t *testing.T) *Session {
	t.Helper()
	const phone = "13900000002"
	if _, err := e.svc.RequestLoginCode(e.ctx, phone, "10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.LoginWithCode(e.ctx, phone, e.sms.lastCode(t, phone), "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
