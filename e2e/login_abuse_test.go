package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/events"
)

// The attacks on sign-in, through the real handler. The test server trusts
// 127.0.0.1 as a proxy so each request can come from its own client address.

const (
	staffLoginQ  = `mutation($a:String!,$p:String!){ staffLogin(account:$a,password:$p){ accessToken refreshToken } }`
	requestCodeQ = `mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`
	refreshQ     = `mutation($t:String!){ refreshToken(token:$t){ accessToken refreshToken } }`
)

func behindProxy(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }

// fromIP posts a GraphQL request as the client at ip and returns the answer
// with its headers.
func (e *env) fromIP(ip, token, query string, vars map[string]any) (*gqlResponse, http.Header) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	out.status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return &out, resp.Header
}

// wantCode checks the error code of an answer.
func wantCode(t *testing.T, r *gqlResponse, code string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("want %q, got errors %+v data %s", code, r.Errors, r.Data)
	}
}

// wantRetryAfter checks a RATE_LIMITED answer says when to retry, in the
// error and in the HTTP header, and returns the wait.
func wantRetryAfter(t *testing.T, r *gqlResponse, h http.Header, secs int) time.Duration {
	t.Helper()
	wantCode(t, r, "RATE_LIMITED")
	got, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64)
	if int(got) != secs || h.Get("Retry-After") != strconv.Itoa(secs) {
		t.Fatalf("retryAfterSeconds %v, Retry-After %q; want %d", r.Errors[0].Extensions["retryAfterSeconds"], h.Get("Retry-After"), secs)
	}
	return time.Duration(secs) * time.Second
}

// Someone guessing a butler's password from one address waits longer after
// each failure past the third; the butler signs in from their own phone the
// whole time.
func TestStaffPasswordGuessingDoesNotLockOutRealUser(t *testing.T) {
	e := newEnv(t, behindProxy)
	w := e.world()
	guess := func() (*gqlResponse, http.Header) {
		return e.fromIP("203.0.113.6", "", staffLoginQ, map[string]any{"a": w.butlerX, "p": "Guess12345"})
	}
	for range 3 {
		r, _ := guess()
		wantCode(t, r, "UNAUTHENTICATED")
	}
	for _, wait := range []int{2, 4, 8} {
		r, h := guess()
		wantRetryAfter(t, r, h, wait)
		// The real user, meanwhile, from an address that has not failed.
		r, _ = e.fromIP("198.51.100.7", "", staffLoginQ, map[string]any{"a": w.butlerX, "p": w.Password})
		wantCode(t, r, "")
		e.Clock.Advance(time.Duration(wait) * time.Second)
		r, _ = guess()
		wantCode(t, r, "UNAUTHENTICATED")
	}
}

// One address trying a common password on every account is cut off after
// 20 failures in an hour; other addresses are not.
func TestStaffPasswordSprayingIsCutOff(t *testing.T) {
	e := newEnv(t, behindProxy)
	w := e.world()
	for i := range 20 {
		r, _ := e.fromIP("203.0.113.6", "", staffLoginQ, map[string]any{"a": fmt.Sprintf("staff.%02d", i), "p": "Spring2026"})
		wantCode(t, r, "UNAUTHENTICATED")
	}
	r, h := e.fromIP("203.0.113.6", "", staffLoginQ, map[string]any{"a": w.engineerX, "p": "Spring2026"})
	wantRetryAfter(t, r, h, 3600)
	r, _ = e.fromIP("198.51.100.7", "", staffLoginQ, map[string]any{"a": w.engineerX, "p": w.Password})
	wantCode(t, r, "")
	e.Clock.Advance(time.Hour)
	r, _ = e.fromIP("203.0.113.6", "", staffLoginQ, map[string]any{"a": w.engineerX, "p": "Spring2026"})
	wantCode(t, r, "UNAUTHENTICATED")
}

// Many failures on one account tell its supervisors, once an hour; the
// other community's supervisor hears nothing.
func TestStaffLoginAlertReachesSupervisorsOnce(t *testing.T) {
	e := newEnv(t, behindProxy)
	w := e.world()
	for i := range 14 {
		r, _ := e.fromIP(fmt.Sprintf("203.0.113.%d", i/3), "", staffLoginQ, map[string]any{"a": w.butlerX, "p": "Guess12345"})
		wantCode(t, r, "UNAUTHENTICATED")
	}
	alerts := func(account string) int {
		var in struct {
			Notifications struct {
				Edges []struct{ Node struct{ Kind, Body string } }
			}
		}
		e.staff(account, w.Password).ok(`{ notifications(first: 50){ edges { node { kind body } } } }`, nil, &in)
		n := 0
		for _, ed := range in.Notifications.Edges {
			if ed.Node.Kind == "STAFF_LOGIN_ALERT" {
				n++
			}
		}
		return n
	}
	if n := alerts(w.supervisorX); n != 1 {
		t.Fatalf("supervisor of the community got %d alerts, want 1", n)
	}
	if n := alerts(w.supervisorY); n != 0 {
		t.Fatalf("another community's supervisor got %d alerts", n)
	}
}

// Someone requesting codes for a resident's phone from one client can spend
// only 3 of its 10 daily codes: the resident still gets theirs.
func TestSMSCodeBurnLeavesVictimCodes(t *testing.T) {
	e := newEnv(t, behindProxy)
	w := e.world()
	phone := w.OwnerA.Phone
	for range 3 {
		r, _ := e.fromIP("203.0.113.6", "", requestCodeQ, map[string]any{"p": phone})
		wantCode(t, r, "")
		e.Clock.Advance(61 * time.Second)
	}
	r, h := e.fromIP("203.0.113.6", "", requestCodeQ, map[string]any{"p": phone})
	wantRetryAfter(t, r, h, 24*3600-3*61)
	before := e.SMS.count(phone)
	r, _ = e.fromIP("198.51.100.7", "", requestCodeQ, map[string]any{"p": phone})
	wantCode(t, r, "")
	if e.SMS.count(phone) != before+1 {
		t.Fatal("the resident got no code")
	}
}

// Two code requests 0.75 s apart across a minute boundary: the second is
// refused (a fixed window would have let it through).
func TestSMSCodeLimitRollsAcrossMinuteBoundary(t *testing.T) {
	e := newEnv(t, behindProxy)
	w := e.world()
	start := time.Date(2026, 11, 22, 10, 0, 59, 600e6, time.UTC)
	e.Clock.Set(start)
	r, _ := e.fromIP("198.51.100.7", "", requestCodeQ, map[string]any{"p": w.OwnerA.Phone})
	wantCode(t, r, "")
	e.Clock.Set(start.Add(750 * time.Millisecond))
	r, h := e.fromIP("198.51.100.8", "", requestCodeQ, map[string]any{"p": w.OwnerA.Phone})
	wantRetryAfter(t, r, h, 60)
	e.Clock.Set(start.Add(time.Minute))
	r, _ = e.fromIP("198.51.100.8", "", requestCodeQ, map[string]any{"p": w.OwnerA.Phone})
	wantCode(t, r, "")
}

// An app that sends its refresh twice (the first answer lost) gets the
// same pair within 30 s; a replay after that is theft and ends the session.
func TestRefreshDoubleSubmit(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	c := e.staff(w.supervisorX, w.Password)
	var a, b struct {
		RefreshToken struct{ AccessToken, RefreshToken string }
	}
	e.anon().ok(refreshQ, map[string]any{"t": c.refresh}, &a)
	e.Clock.Advance(29 * time.Second)
	e.anon().ok(refreshQ, map[string]any{"t": c.refresh}, &b)
	if a.RefreshToken.RefreshToken != b.RefreshToken.RefreshToken {
		t.Fatal("a double submit within the grace window got a different refresh token")
	}
	c.token = b.RefreshToken.AccessToken
	c.ok(`{ me { kind } }`, nil, nil)

	e.Clock.Advance(time.Second)
	e.anon().fails("UNAUTHENTICATED", refreshQ, map[string]any{"t": c.refresh})
	c.fails("UNAUTHENTICATED", `{ me { kind } }`, nil)
	e.anon().fails("UNAUTHENTICATED", refreshQ, map[string]any{"t": a.RefreshToken.RefreshToken})
}

// Deactivating a staff member ends their sessions at once: their access
// token stops working, their refresh token too, and every server hears it.
func TestDeactivatedStaffSessionEnds(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	revoked, stop := e.App.Services.Events.Subscribe(func(ev events.Event) bool { return ev.Type == events.TypeSubjectRevoked }, 4)
	defer stop()
	butler := e.staff(w.butlerX, w.Password)
	butler.ok(`{ me { kind } }`, nil, nil)
	var me struct {
		Me struct{ Staff struct{ ID string } }
	}
	butler.ok(`{ me { staff { id } } }`, nil, &me)
	admin := e.staff(w.adminAcct, w.Password)
	admin.ok(`mutation($id:ID!){ updateStaffScope(staffId:$id, input:{active:false}){ id } }`, map[string]any{"id": me.Me.Staff.ID}, nil)

	if r := butler.do(`{ me { kind } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("deactivated staff's token still works: %+v", r.Errors)
	}
	e.anon().fails("UNAUTHENTICATED", refreshQ, map[string]any{"t": butler.refresh})
	select {
	case ev := <-revoked:
		if ev.SubjectID != me.Me.Staff.ID {
			t.Fatalf("subject revoked event for %q, want %q", ev.SubjectID, me.Me.Staff.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no subject revoked event")
	}
}
