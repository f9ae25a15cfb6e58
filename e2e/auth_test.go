package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"qinqing/internal/platform/config"
	"testing"
	"time"
)

func TestStaffLoginAndThrottle(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	login := `mutation($a:String!,$p:String!){ staffLogin(account:$a,password:$p){ accessToken me { kind roles staff { account } } } }`

	var ok struct {
		StaffLogin struct {
			AccessToken string
			Me          struct {
				Kind  string
				Roles []string
				Staff struct{ Account string }
			}
		}
	}
	e.anon().ok(login, map[string]any{"a": w.butlerX, "p": w.Password}, &ok)
	if ok.StaffLogin.Me.Kind != "STAFF" || ok.StaffLogin.Me.Staff.Account != w.butlerX || !contains(ok.StaffLogin.Me.Roles, "BUTLER") {
		t.Fatalf("me after login = %+v", ok.StaffLogin.Me)
	}

	// A wrong password and an unknown account look the same.
	wrong := e.anon().fails("UNAUTHENTICATED", login, map[string]any{"a": w.butlerX, "p": "nope-wrong-1"})
	unknown := e.anon().fails("UNAUTHENTICATED", login, map[string]any{"a": "nobody.here", "p": "nope-wrong-1"})
	if wrong.Errors[0].Message != unknown.Errors[0].Message {
		t.Errorf("wrong password %q and unknown account %q must read the same", wrong.Errors[0].Message, unknown.Errors[0].Message)
	}
	// After a third failure from this client, its next attempt on the
	// account must wait (2 s), even with the right password; there is no
	// lock-out, so waiting is enough.
	for i := 0; i < 2; i++ {
		e.anon().fails("UNAUTHENTICATED", login, map[string]any{"a": w.butlerX, "p": "nope-wrong-1"})
	}
	r := e.anon().fails("RATE_LIMITED", login, map[string]any{"a": w.butlerX, "p": w.Password})
	if s, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); s != 2 {
		t.Fatalf("retryAfterSeconds = %v, want 2", r.Errors[0].Extensions["retryAfterSeconds"])
	}
	e.Clock.Advance(2 * time.Second)
	e.anon().ok(login, map[string]any{"a": w.butlerX, "p": w.Password}, nil)
}

func TestOwnerCodeLogin(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	request := `mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds expiresInSeconds } }`
	login := `mutation($p:String!,$c:String!){ loginWithCode(phone:$p,code:$c){ accessToken me { kind roles person { name } memberships { role household { id label } } } } }`

	// Unknown phones get the same answer as known ones, and no SMS.
	var known, unknown json.RawMessage
	e.anon().ok(request, map[string]any{"p": w.OwnerA.Phone}, &known)
	e.anon().ok(request, map[string]any{"p": "13811112222"}, &unknown)
	if string(known) != string(unknown) {
		t.Errorf("known phone answer %s differs from unknown %s", known, unknown)
	}
	if e.SMS.count("13811112222") != 0 {
		t.Error("an SMS was sent to an unregistered phone")
	}
	code := e.SMS.lastCode(w.OwnerA.Phone)
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}

	// A second request within the minute is rate limited.
	e.anon().fails("RATE_LIMITED", request, map[string]any{"p": w.OwnerA.Phone})

	// A wrong code names the field and fails as a wrong password does;
	// the right one signs the owner in.
	r := e.anon().fails("UNAUTHENTICATED", login, map[string]any{"p": w.OwnerA.Phone, "c": "000000"})
	if r.field() != "code" || r.reason() != "WRONG_CREDENTIALS" {
		t.Errorf("wrong code error names field %q reason %q, want code, WRONG_CREDENTIALS", r.field(), r.reason())
	}
	var out struct {
		LoginWithCode struct {
			Me struct {
				Kind        string
				Roles       []string
				Person      struct{ Name string }
				Memberships []struct {
					Role      string
					Household struct{ ID, Label string }
				}
			}
		}
	}
	e.anon().ok(login, map[string]any{"p": "+86 139-0000-0001", "c": code}, &out)
	me := out.LoginWithCode.Me
	if me.Kind != "PERSON" || me.Person.Name != "王建国" || len(me.Memberships) != 1 || me.Memberships[0].Household.ID != w.HA.ID || me.Memberships[0].Role != "OWNER" {
		t.Fatalf("me = %+v", me)
	}
	// The code is single use.
	e.anon().fails("UNAUTHENTICATED", login, map[string]any{"p": w.OwnerA.Phone, "c": code})

	// Codes expire after five minutes.
	e.Clock.Advance(2 * time.Minute)
	e.anon().ok(request, map[string]any{"p": w.OwnerA.Phone}, nil)
	code = e.SMS.lastCode(w.OwnerA.Phone)
	e.Clock.Advance(5*time.Minute + time.Second)
	e.anon().fails("UNAUTHENTICATED", login, map[string]any{"p": w.OwnerA.Phone, "c": code})

	// A malformed phone is refused with the field named.
	r = e.anon().fails("BAD_USER_INPUT", request, map[string]any{"p": "12345"})
	if r.field() != "phone" {
		t.Errorf("bad phone error names field %q, want phone", r.field())
	}
}

func TestRefreshRotationReuseAndLogout(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	c := e.staff(w.supervisorX, w.Password)
	refresh := `mutation($t:String!){ refreshToken(token:$t){ accessToken refreshToken } }`
	me := `{ me { kind } }`

	first := c.refresh
	var r1 struct {
		RefreshToken struct{ AccessToken, RefreshToken string }
	}
	e.anon().ok(refresh, map[string]any{"t": first}, &r1)
	if r1.RefreshToken.RefreshToken == first {
		t.Fatal("refresh did not rotate the token")
	}
	c.token = r1.RefreshToken.AccessToken
	c.ok(me, nil, nil)

	// Presenting the old token again after the 30 s grace for double
	// submits is theft: the whole session ends.
	e.Clock.Advance(30 * time.Second)
	e.anon().fails("UNAUTHENTICATED", refresh, map[string]any{"t": first})
	e.anon().fails("UNAUTHENTICATED", refresh, map[string]any{"t": r1.RefreshToken.RefreshToken})
	// Refused before anything runs, like a bad or expired token: 401.
	if r := c.do(me, nil); r.status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("access token of a revoked session: status %d, %+v", r.status, r.Errors)
	}

	// Logout ends the session at once.
	c2 := e.staff(w.supervisorX, w.Password)
	var lo struct{ Logout bool }
	c2.ok(`mutation{ logout }`, nil, &lo)
	if !lo.Logout {
		t.Fatal("logout returned false")
	}
	c2.fails("UNAUTHENTICATED", me, nil)
	e.anon().fails("UNAUTHENTICATED", refresh, map[string]any{"t": c2.refresh})

	// An expired access token is refused.
	c3 := e.staff(w.supervisorX, w.Password)
	e.Clock.Advance(16 * time.Minute)
	if r := c3.do(me, nil); r.status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("expired token: status %d errors %+v", r.status, r.Errors)
	}
}

func TestWechatLoginAndBinding(t *testing.T) {
	openids := map[string]string{"code-known": "openid-1", "code-again": "openid-1"}
	wx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sns/jscode2session" || r.URL.Query().Get("appid") != "wx-app" || r.URL.Query().Get("secret") != "wx-secret" {
			http.Error(w, "bad request", 400)
			return
		}
		id, ok := openids[r.URL.Query().Get("js_code")]
		if !ok {
			_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 40029, "errmsg": "invalid code"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"openid": id, "session_key": "k"})
	}))
	defer wx.Close()
	e := newEnv(t, func(c *config.Config) {
		c.WechatBaseURL, c.WechatAppID, c.WechatAppSecret = wx.URL, "wx-app", "wx-secret"
	})
	w := e.world()
	wxLogin := `mutation($c:String!){ loginWithWechat(code:$c){ needsPhone bindingTicket auth { accessToken me { person { name } } } } }`

	var first struct {
		LoginWithWechat struct {
			NeedsPhone    bool
			BindingTicket string
			Auth          *struct{ AccessToken string }
		}
	}
	e.anon().ok(wxLogin, map[string]any{"c": "code-known"}, &first)
	if !first.LoginWithWechat.NeedsPhone || first.LoginWithWechat.BindingTicket == "" || first.LoginWithWechat.Auth != nil {
		t.Fatalf("unbound openid: %+v", first.LoginWithWechat)
	}
	e.anon().ok(`mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`, map[string]any{"p": w.OwnerB.Phone}, nil)
	var bound struct {
		BindPhone struct {
			Me struct{ Person struct{ Name string } }
		}
	}
	e.anon().ok(`mutation($t:String!,$p:String!,$c:String!){ bindPhone(bindingTicket:$t,phone:$p,code:$c){ me { person { name } } } }`,
		map[string]any{"t": first.LoginWithWechat.BindingTicket, "p": w.OwnerB.Phone, "c": e.SMS.lastCode(w.OwnerB.Phone)}, &bound)
	if bound.BindPhone.Me.Person.Name != w.OwnerB.Name {
		t.Fatalf("bound to %q, want %q", bound.BindPhone.Me.Person.Name, w.OwnerB.Name)
	}
	var again struct {
		LoginWithWechat struct {
			NeedsPhone bool
			Auth       *struct {
				Me struct{ Person struct{ Name string } }
			}
		}
	}
	e.anon().ok(wxLogin, map[string]any{"c": "code-again"}, &again)
	if again.LoginWithWechat.NeedsPhone || again.LoginWithWechat.Auth == nil || again.LoginWithWechat.Auth.Me.Person.Name != w.OwnerB.Name {
		t.Fatalf("bound openid did not log in: %+v", again.LoginWithWechat)
	}
	r := e.anon().fails("BAD_USER_INPUT", wxLogin, map[string]any{"c": "code-bogus"})
	if r.field() != "code" {
		t.Errorf("invalid wechat code names field %q", r.field())
	}
}
