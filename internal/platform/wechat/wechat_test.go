package wechat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCode2Session(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "app" || q.Get("secret") != "sec" ||
			q.Get("grant_type") != "authorization_code" {
			t.Errorf("request %s", r.URL)
		}
		switch q.Get("js_code") {
		case "ok":
			_, _ = w.Write([]byte(`{"openid":"o1","session_key":"sk","unionid":"u1"}`))
		case "invalid":
			_, _ = w.Write([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
		case "used":
			_, _ = w.Write([]byte(`{"errcode":40163,"errmsg":"code been used"}`))
		case "busy":
			_, _ = w.Write([]byte(`{"errcode":-1,"errmsg":"system busy"}`))
		case "garbage":
			_, _ = w.Write([]byte(`<html>`))
		default:
			http.Error(w, "oops", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, AppID: "app", Secret: "sec"}

	s, err := c.Code2Session(context.Background(), "ok")
	if err != nil || s != (Session{OpenID: "o1", UnionID: "u1", SessionKey: "sk"}) {
		t.Fatalf("session %+v, %v", s, err)
	}
	for _, tc := range []struct {
		code string
		want error
	}{
		{"invalid", ErrInvalidCode},
		{"used", ErrInvalidCode},
		{"busy", ErrUnavailable},
		{"garbage", ErrUnavailable},
		{"500", ErrUnavailable},
	} {
		_, err := c.Code2Session(context.Background(), tc.code)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.code, err, tc.want)
		}
	}

	// A transport failure must not leak the app secret from the URL.
	down := &Client{BaseURL: "http://127.0.0.1:1", AppID: "app", Secret: "topsecret"}
	_, err = down.Code2Session(context.Background(), "ok")
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("transport error: %v", err)
	}
}
