// Package wechat talks to the WeChat mini-program server API. Only what the
// service needs is here: exchanging a login code for the user's openid.
package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is WeChat's API host; tests point BaseURL at a local fake.
const DefaultBaseURL = "https://api.weixin.qq.com"

// ErrInvalidCode means the login code was wrong, expired or already used: the
// caller's fault, so the mini program should get a fresh code and retry.
var ErrInvalidCode = errors.New("wechat: invalid or used login code")

// ErrUnavailable wraps every other failure: WeChat down, misconfiguration,
// rate limits. None of them is the user's fault.
var ErrUnavailable = errors.New("wechat: unavailable")

// Client calls the WeChat API for one mini program.
type Client struct {
	BaseURL string
	AppID   string
	Secret  string
	HTTP    *http.Client // nil means a client with a 10 s timeout
}

// Session is what jscode2session says about the user.
type Session struct {
	OpenID     string
	UnionID    string
	SessionKey string
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Code2Session exchanges a wx.login code for the user's openid.
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	q := url.Values{
		"appid":      {c.AppID},
		"secret":     {c.Secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return Session{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL carries the app secret; never put it in an error message.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Session{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Session{}, fmt.Errorf("%w: http status %d", ErrUnavailable, resp.StatusCode)
	}
	var r struct {
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
		ErrCode    int    `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
	}
	// WeChat sometimes labels JSON as text/plain, so ignore the content type.
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r); err != nil {
		return Session{}, fmt.Errorf("%w: decode: %v", ErrUnavailable, err)
	}
	switch r.ErrCode {
	case 0:
	case 40029, 40163: // invalid code, code already used
		return Session{}, fmt.Errorf("%w (errcode %d: %s)", ErrInvalidCode, r.ErrCode, r.ErrMsg)
	default:
		return Session{}, fmt.Errorf("%w: errcode %d: %s", ErrUnavailable, r.ErrCode, r.ErrMsg)
	}
	if r.OpenID == "" {
		return Session{}, fmt.Errorf("%w: answer without openid", ErrUnavailable)
	}
	return Session{OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}
