package identity

import (
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

func TestWechatBoundLogin(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.LoginWithWechat(e.ctx, "code-bound")
	if err != nil {
		t.Fatal(err)
	}
	if got.NeedsPhone || got.BindingTicket != "" {
		t.Fatalf("bound user asked to bind: %+v", got)
	}
	e.checkSession(t, got.Session, auth.KindPerson, ownerID)
}

func TestWechatBind(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.LoginWithWechat(e.ctx, "code-new")
	if err != nil {
		t.Fatal(err)
	}
	if !got.NeedsPhone || got.BindingTicket == "" || got.Session != nil {
		t.Fatalf("unbound user: %+v", got)
	}
	const phone = "13900000002"
	if _, err := e.svc.RequestLoginCode(e.ctx, phone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	code := e.sms.lastCode(t, phone)

	_, err = e.svc.BindPhone(e.ctx, "forged", phone, code, "10.0.0.1")
	wantErr(t, err, ErrBadTicket)
	_, err = e.svc.BindPhone(e.ctx, got.BindingTicket, phone, "000000", "10.0.0.1")
	if code != "000000" {
		wantErr(t, err, ErrBadCode)
	}

	s, err := e.svc.BindPhone(e.ctx, got.BindingTicket, phone, code, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e.checkSession(t, s, auth.KindPerson, "p-second")
	// The code was spent by binding.
	_, err = e.svc.LoginWithCode(e.ctx, phone, code, "10.0.0.1")
	wantErr(t, err, ErrCodeExpired)

	again, err := e.svc.LoginWithWechat(e.ctx, "code-new-2")
	if err != nil {
		t.Fatal(err)
	}
	if again.NeedsPhone || again.Session == nil || again.Session.SubjectID != "p-second" {
		t.Fatalf("after binding: %+v", again)
	}
}

func TestWechatTicketExpires(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.LoginWithWechat(e.ctx, "code-new")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(10*time.Minute + time.Second)
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.BindPhone(e.ctx, got.BindingTicket, ownerPhone, e.sms.lastCode(t, ownerPhone), "10.0.0.1")
	wantErr(t, err, ErrBadTicket)
}

func TestWechatBindRemovedResident(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.LoginWithWechat(e.ctx, "code-new")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RequestLoginCode(e.ctx, ownerPhone, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// The resident moved out between asking for the code and using it.
	e.people.remove(ownerPhone)
	_, err = e.svc.BindPhone(e.ctx, got.BindingTicket, ownerPhone, e.sms.lastCode(t, ownerPhone), "10.0.0.1")
	wantErr(t, err, ErrPhoneNotRegistered)
}

func TestWechatErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		code string
		want *apperr.Error
	}{
		{"unknown-code", ErrBadWechatCode},
		{"used-code", ErrBadWechatCode},
		{"", ErrBadWechatCode},
		{"boom", ErrWechatUnavailable},
	} {
		t.Run(tc.code, func(t *testing.T) {
			_, err := e.svc.LoginWithWechat(e.ctx, tc.code)
			wantErr(t, err, tc.want)
		})
	}
}
