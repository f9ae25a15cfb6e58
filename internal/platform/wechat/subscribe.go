package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrNoGrant is errcode 43101: the user refused the template or has no
// one-time subscription left for it. Nothing was sent.
var ErrNoGrant = errors.New("wechat: no subscription grant left (43101)")

// ErrBadOpenID is errcode 40003: WeChat does not know the openid (for this
// mini program). Nothing was sent.
var ErrBadOpenID = errors.New("wechat: invalid openid (40003)")

// APIError is an errcode SendSubscribe does not map to a sentinel: a bad
// template id, data WeChat refuses, and so on. Retrying will not help.
type APIError struct {
	ErrCode int
	ErrMsg  string
}

func (e *APIError) Error() string { return fmt.Sprintf("wechat: errcode %d: %s", e.ErrCode, e.ErrMsg) }

const (
	// tokenRefreshMargin: a cached token is replaced this long before WeChat
	// says it expires.
	tokenRefreshMargin = 5 * time.Minute
	// tokenFetchTimeout bounds one fetch, which runs detached from the
	// caller's context because every waiter shares its outcome.
	tokenFetchTimeout = 15 * time.Second
	// tokenDefaultTTL is assumed when WeChat omits expires_in.
	tokenDefaultTTL = 7200 * time.Second
)

// AccessTokens fetches the mini program's access_token
// (GET /cgi-bin/token?grant_type=client_credential) and caches it in memory,
// refreshing it 5 minutes before it expires. It is safe for concurrent use;
// at most one fetch runs at a time and everybody waiting for it shares its
// result, success or failure. The zero value with Client set works;
// NewAccessTokens lets tests move the clock.
//
// Note that /cgi-bin/token invalidates the previous token (after a grace
// period of about 5 minutes), so several server processes each holding their
// own cache knock each other's tokens out now and then; SendSubscribe answers
// 40001/42001 by fetching a fresh token and retrying once, which absorbs it.
type AccessTokens struct {
	Client *Client
	now    func() time.Time

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	fetching  *tokenFetch // non-nil while a fetch runs
}

type tokenFetch struct {
	done chan struct{}
	err  error
}

// NewAccessTokens returns a token cache for c; now nil means time.Now.
func NewAccessTokens(c *Client, now func() time.Time) *AccessTokens {
	return &AccessTokens{Client: c, now: now}
}

func (t *AccessTokens) clock() time.Time {
	if t.now == nil {
		return time.Now()
	}
	return t.now()
}

// Token returns a valid access token, fetching one when none is cached or the
// cached one is within 5 minutes of expiry.
func (t *AccessTokens) Token(ctx context.Context) (string, error) {
	for {
		t.mu.Lock()
		if t.token != "" && t.clock().Before(t.refreshAt) {
			tok := t.token
			t.mu.Unlock()
			return tok, nil
		}
		if f := t.fetching; f != nil {
			t.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil {
					return "", f.err
				}
				continue // read the token the fetch stored
			case <-ctx.Done():
				return "", fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
			}
		}
		f := &tokenFetch{done: make(chan struct{})}
		t.fetching = f
		t.mu.Unlock()

		start := t.clock()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
		tok, ttl, err := t.fetch(fctx)
		cancel()

		t.mu.Lock()
		f.err = err
		t.fetching = nil
		if err == nil {
			margin := tokenRefreshMargin
			if ttl <= 2*margin {
				margin = ttl / 2 // an unusually short-lived token: use half of it
			}
			t.token, t.refreshAt = tok, start.Add(ttl-margin)
		}
		close(f.done)
		t.mu.Unlock()
		if err != nil {
			return "", err
		}
		return tok, nil
	}
}

// Invalidate drops the cached token if it is still stale (WeChat answered
// 40001 or 42001 for it), so the next Token fetches a new one. Passing the
// token that failed, rather than dropping whatever is cached, keeps a burst
// of concurrent failures from fetching once per failure.
func (t *AccessTokens) Invalidate(stale string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == stale {
		t.token = ""
	}
}

func (t *AccessTokens) fetch(ctx context.Context) (string, time.Duration, error) {
	c := t.Client
	if c == nil {
		return "", 0, fmt.Errorf("%w: no client configured", ErrUnavailable)
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.AppID}, "secret": {c.Secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+"/cgi-bin/token?"+q.Encode(), nil)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	if err := c.doJSON(req, &r); err != nil {
		return "", 0, fmt.Errorf("access token: %w", err)
	}
	if r.ErrCode != 0 {
		// Wrong appid/secret (40013, 40125), IP not whitelisted (40164),
		// busy (-1): none of it is a recipient's fault.
		return "", 0, fmt.Errorf("%w: access token: errcode %d: %s", ErrUnavailable, r.ErrCode, r.ErrMsg)
	}
	if r.AccessToken == "" {
		return "", 0, fmt.Errorf("%w: access token: answer without access_token", ErrUnavailable)
	}
	ttl := time.Duration(r.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = tokenDefaultTTL
	}
	return r.AccessToken, ttl, nil
}

// subscribeRequest is the body of /cgi-bin/message/subscribe/send.
type subscribeRequest struct {
	ToUser     string                       `json:"touser"`
	TemplateID string                       `json:"template_id"`
	Page       string                       `json:"page,omitempty"`
	Data       map[string]map[string]string `json:"data"`
	State      string                       `json:"miniprogram_state"`
	Lang       string                       `json:"lang"`
}

// SendSubscribe sends one subscribe message (订阅消息) to openid. data maps
// the template's keys (thing1, time2, ...) to their values. Errors:
// ErrNoGrant (43101), ErrBadOpenID (40003), ErrUnavailable wrapped (45009
// quota, -1 busy, 45011, non-200 answers, transport failures, a token that
// stays invalid), or an *APIError for any other errcode. A token WeChat calls
// invalid or expired (40001, 42001, 40014) is fetched again and the message
// retried once.
func (t *AccessTokens) SendSubscribe(ctx context.Context, openid, templateID, page string, data map[string]string) error {
	body := subscribeRequest{ToUser: openid, TemplateID: templateID, Page: page,
		Data: make(map[string]map[string]string, len(data)), State: "formal", Lang: "zh_CN"}
	for k, v := range data {
		body.Data[k] = map[string]string{"value": v}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("wechat: encode subscribe message: %w", err)
	}
	for attempt := 0; ; attempt++ {
		tok, err := t.Token(ctx)
		if err != nil {
			return err
		}
		code, msg, err := t.postSubscribe(ctx, tok, raw)
		if err != nil {
			return err
		}
		switch code {
		case 0:
			return nil
		case 40001, 42001, 40014: // invalid credential, token expired, invalid token
			t.Invalidate(tok)
			if attempt == 0 {
				continue
			}
			return fmt.Errorf("%w: access token refused again (errcode %d: %s)", ErrUnavailable, code, msg)
		case 43101:
			return fmt.Errorf("%w: %s", ErrNoGrant, msg)
		case 40003:
			return fmt.Errorf("%w: %s", ErrBadOpenID, msg)
		case 45009, 45011, -1: // daily quota, minute quota, system busy
			return fmt.Errorf("%w: errcode %d: %s", ErrUnavailable, code, msg)
		default:
			return &APIError{ErrCode: code, ErrMsg: msg}
		}
	}
}

func (t *AccessTokens) postSubscribe(ctx context.Context, token string, body []byte) (int, string, error) {
	c := t.Client
	u := c.base() + "/cgi-bin/message/subscribe/send?" + url.Values{"access_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := c.doJSON(req, &r); err != nil {
		return 0, "", fmt.Errorf("subscribe send: %w", err)
	}
	return r.ErrCode, r.ErrMsg, nil
}

func (c *Client) base() string {
	b := c.BaseURL
	if b == "" {
		b = DefaultBaseURL
	}
	return strings.TrimRight(b, "/")
}

// doJSON runs req and decodes a 200 answer into out. Everything else is
// ErrUnavailable; the URL, which carries the secret or the access token, is
// kept out of the error.
func (c *Client) doJSON(req *http.Request, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return fmt.Errorf("%w: http status %d", ErrUnavailable, resp.StatusCode)
	}
	// WeChat sometimes labels JSON as text/plain, so ignore the content type.
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(out); err != nil {
		return fmt.Errorf("%w: decode: %v", ErrUnavailable, err)
	}
	return nil
}
