package e2e

import (
	"fmt"
	"testing"
	"time"
)

// A code that can no longer succeed says why, so the app offers a new one;
// a wrong code and a wrong password fail in the same way.
func TestLoginFailureReasons(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	request := `mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`
	login := `mutation($p:String!,$c:String!){ loginWithCode(phone:$p,code:$c){ accessToken } }`
	staffLogin := `mutation($a:String!,$p:String!){ staffLogin(account:$a,password:$p){ accessToken } }`
	en := e.anon()
	en.lang = "en"
	want := func(r *gqlResponse, code, reason string) {
		t.Helper()
		if r.code() != code || r.reason() != reason || r.Errors[0].Message == "" {
			t.Fatalf("want %s / %s, got %+v", code, reason, r.Errors)
		}
	}

	// Wrong password, wrong code: one family.
	want(e.anon().do(staffLogin, map[string]any{"a": w.butlerX, "p": "Wrong-pass1"}), "UNAUTHENTICATED", "WRONG_CREDENTIALS")
	phone := w.OwnerA.Phone
	e.anon().ok(request, map[string]any{"p": phone}, nil)
	code := e.SMS.lastCode(phone)
	wrong := fmt.Sprintf("%06d", (atoiE2E(code)+1)%1_000_000)
	want(e.anon().do(login, map[string]any{"p": phone, "c": wrong}), "UNAUTHENTICATED", "WRONG_CREDENTIALS")

	// Expired.
	e.Clock.Advance(5*time.Minute + time.Second)
	r := e.anon().do(login, map[string]any{"p": phone, "c": code})
	want(r, "UNAUTHENTICATED", "CODE_EXPIRED")
	if r.Errors[0].Message != "验证码已失效，请重新获取" || r.field() != "code" {
		t.Errorf("expired: message %q field %q", r.Errors[0].Message, r.field())
	}
	want(en.do(login, map[string]any{"p": phone, "c": code}), "UNAUTHENTICATED", "CODE_EXPIRED")

	// Out of tries: the last wrong try already says so, and so does the
	// right code after it.
	e.anon().ok(request, map[string]any{"p": phone}, nil)
	code = e.SMS.lastCode(phone)
	wrong = fmt.Sprintf("%06d", (atoiE2E(code)+1)%1_000_000)
	for range 4 {
		want(e.anon().do(login, map[string]any{"p": phone, "c": wrong}), "UNAUTHENTICATED", "WRONG_CREDENTIALS")
	}
	want(e.anon().do(login, map[string]any{"p": phone, "c": wrong}), "UNAUTHENTICATED", "CODE_ATTEMPTS_EXHAUSTED")
	r = en.do(login, map[string]any{"p": phone, "c": code})
	want(r, "UNAUTHENTICATED", "CODE_ATTEMPTS_EXHAUSTED")
	if r.Errors[0].Message != "Too many wrong tries for this code; please request a new one" {
		t.Errorf("exhausted, English: %q", r.Errors[0].Message)
	}

	// A new code works.
	e.Clock.Advance(time.Minute)
	e.anon().ok(request, map[string]any{"p": phone}, nil)
	e.anon().ok(login, map[string]any{"p": phone, "c": e.SMS.lastCode(phone)}, nil)
}

func atoiE2E(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
