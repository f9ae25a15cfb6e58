package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeWechat issues access tokens and accepts subscribe messages; what a send
// answers depends on the openid.
type fakeWechat struct {
	t         *testing.T
	srv       *httptest.Server
	expiresIn int64
	fetches   atomic.Int32
	delay     time.Duration // before answering a token request

	mu    sync.Mutex
	valid map[string]bool // access tokens the server accepts
	sent  []subscribeRequest
	used  []string // access token of each send
}

func newFakeWechat(t *testing.T) *fakeWechat {
	f := &fakeWechat{t: t, expiresIn: 7200, valid: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWechat) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/cgi-bin/token":
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("grant_type") != "client_credential" || q.Get("appid") != "app" || q.Get("secret") != "sec" {
			f.t.Errorf("token request %s %s", r.Method, r.URL)
			_, _ = w.Write([]byte(`{"errcode":40125,"errmsg":"invalid appsecret"}`))
			return
		}
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
		n := f.fetches.Add(1)
		tok := fmt.Sprintf("tok%d", n)
		f.mu.Lock()
		f.valid[tok] = true
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": f.expiresIn})
	case "/cgi-bin/message/subscribe/send":
		tok := r.URL.Query().Get("access_token")
		var body subscribeRequest
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
			f.t.Errorf("send request %s %s", r.Method, r.URL)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		ok := f.valid[tok]
		if ok {
			f.sent = append(f.sent, body)
			f.used = append(f.used, tok)
		}
		f.mu.Unlock()
		if !ok {
			_, _ = w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}`))
			return
		}
		switch body.ToUser {
		case "nogrant":
			_, _ = w.Write([]byte(`{"errcode":43101,"errmsg":"user refuse to accept the msg"}`))
		case "badopenid":
			_, _ = w.Write([]byte(`{"errcode":40003,"errmsg":"invalid openid"}`))
		case "busy":
			_, _ = w.Write([]byte(`{"errcode":-1,"errmsg":"system error"}`))
		case "quota":
			_, _ = w.Write([]byte(`{"errcode":45009,"errmsg":"reach max api daily quota limit"}`))
		case "badtemplate":
			_, _ = w.Write([]byte(`{"errcode":40037,"errmsg":"invalid template_id"}`))
		case "down":
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
		case "garbage":
			_, _ = w.Write([]byte(`<html>`))
		default:
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
		}
	default:
		http.NotFound(w, r)
	}
}

// revoke makes the server refuse every token issued so far (as when another
// server fetched a new one and the grace period ran out).
func (f *fakeWechat) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid = map[string]bool{}
}

func (f *fakeWechat) sends() ([]subscribeRequest, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]subscribeRequest(nil), f.sent...), append([]string(nil), f.used...)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTokens(f *fakeWechat) (*AccessTokens, *testClock) {
	clk := &testClock{t: time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)}
	return NewAccessTokens(&Client{BaseURL: f.srv.URL, AppID: "app", Secret: "sec"}, clk.now), clk
}

func TestSubscribeSendBody(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	err := tk.SendSubscribe(context.Background(), "o1", "TPL", "pages/inbox/index?id=1", map[string]string{"thing1": "报修进度", "thing2": "师傅已出发"})
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := f.sends()
	if len(sent) != 1 {
		t.Fatalf("sent %d", len(sent))
	}
	s := sent[0]
	if s.ToUser != "o1" || s.TemplateID != "TPL" || s.Page != "pages/inbox/index?id=1" || s.State != "formal" || s.Lang != "zh_CN" ||
		s.Data["thing1"]["value"] != "报修进度" || s.Data["thing2"]["value"] != "师傅已出发" || len(s.Data) != 2 {
		t.Fatalf("body %+v", s)
	}
}

func TestTokenCachedAcrossSends(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	for i := 0; i < 5; i++ {
		if err := tk.SendSubscribe(context.Background(), "o1", "TPL", "", map[string]string{"thing1": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("token fetched %d times; want 1", n)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	f := newFakeWechat(t)
	tk, clk := newTokens(f)
	ctx := context.Background()
	a, err := tk.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(7200*time.Second - 5*time.Minute - time.Second) // just inside the margin
	if b, _ := tk.Token(ctx); b != a {
		t.Fatalf("token changed early: %s -> %s", a, b)
	}
	clk.add(2 * time.Second) // 5 minutes before expiry: refresh
	b, err := tk.Token(ctx)
	if err != nil || b == a {
		t.Fatalf("token after the margin = %q, %v; want a new one", b, err)
	}
	if n := f.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d; want 2", n)
	}
}

func TestTokenOneFetchAtATime(t *testing.T) {
	f := newFakeWechat(t)
	f.delay = 50 * time.Millisecond
	tk, _ := newTokens(f)
	var wg sync.WaitGroup
	toks := make([]string, 20)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := tk.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		}()
	}
	wg.Wait()
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("20 concurrent callers fetched %d times; want 1", n)
	}
	for _, tok := range toks {
		if tok != "tok1" {
			t.Fatalf("tokens %v", toks)
		}
	}
}

func TestTokenRefetchedOn40001(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	ctx := context.Background()
	if err := tk.SendSubscribe(ctx, "o1", "TPL", "", map[string]string{"thing1": "x"}); err != nil {
		t.Fatal(err)
	}
	f.revoke() // the cached tok1 is now refused with 40001
	if err := tk.SendSubscribe(ctx, "o1", "TPL", "", map[string]string{"thing1": "x"}); err != nil {
		t.Fatalf("send after revocation: %v", err)
	}
	if n := f.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d; want 2", n)
	}
	_, used := f.sends()
	if len(used) != 2 || used[0] != "tok1" || used[1] != "tok2" {
		t.Fatalf("tokens used %v", used)
	}
	// The new token stays cached.
	if err := tk.SendSubscribe(ctx, "o1", "TPL", "", map[string]string{"thing1": "x"}); err != nil || f.fetches.Load() != 2 {
		t.Fatalf("third send: %v, fetches %d", err, f.fetches.Load())
	}
}

func TestTokenInvalidateOnlyStale(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	ctx := context.Background()
	a, _ := tk.Token(ctx)
	tk.Invalidate(a)
	b, _ := tk.Token(ctx)
	tk.Invalidate(a) // a late failure with the old token must not drop the new one
	if c, _ := tk.Token(ctx); c != b || f.fetches.Load() != 2 {
		t.Fatalf("tokens %s %s %s, fetches %d", a, b, c, f.fetches.Load())
	}
}

func TestSubscribeErrcodes(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	for _, tc := range []struct {
		openid string
		want   error
	}{
		{"nogrant", ErrNoGrant},
		{"badopenid", ErrBadOpenID},
		{"busy", ErrUnavailable},
		{"quota", ErrUnavailable},
		{"down", ErrUnavailable},
		{"garbage", ErrUnavailable},
	} {
		err := tk.SendSubscribe(context.Background(), tc.openid, "TPL", "", map[string]string{"thing1": "x"})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v; want %v", tc.openid, err, tc.want)
		}
	}
	err := tk.SendSubscribe(context.Background(), "badtemplate", "TPL", "", map[string]string{"thing1": "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrCode != 40037 || errors.Is(err, ErrUnavailable) {
		t.Errorf("badtemplate: err = %v; want APIError 40037", err)
	}
}

func TestSubscribeTransportErrorHidesToken(t *testing.T) {
	f := newFakeWechat(t)
	tk, _ := newTokens(f)
	tok, err := tk.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tk.Client.BaseURL = "http://127.0.0.1:1" // the token stays cached; the send cannot connect
	err = tk.SendSubscribe(context.Background(), "o1", "TPL", "", map[string]string{"thing1": "x"})
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), tok) {
		t.Fatalf("err = %v; want ErrUnavailable without the token", err)
	}
	tk.Invalidate(tok)
	_, err = tk.Token(context.Background())
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "sec") {
		t.Fatalf("token fetch err = %v; want ErrUnavailable without the secret", err)
	}
}

func TestTokenErrcode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"errcode":40164,"errmsg":"invalid ip, not in whitelist"}`))
	}))
	defer srv.Close()
	tk := NewAccessTokens(&Client{BaseURL: srv.URL, AppID: "app", Secret: "sec"}, nil)
	err := tk.SendSubscribe(context.Background(), "o1", "TPL", "", nil)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "40164") {
		t.Fatalf("err = %v", err)
	}
}
