// Package wechatpay is WeChat Pay API v3 for property fees, through the
// official SDK (github.com/wechatpay-apiv3/wechatpay-go): prepay orders for
// the mini program (JSAPI) and the app, order queries, refunds, and the
// payment notification. Amounts are integer fen throughout, as the API's.
//
// The SDK signs every request with the merchant key and verifies every
// response with the platform certificate (or platform public key); nothing
// here switches that off, also in tests, where wechatpaytest plays WeChat.
package wechatpay

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/app"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
)

// Config is one merchant account. Exactly one of PlatformCert and
// PublicKey (with PublicKeyID) says how WeChat's signatures are checked:
// older merchants verify with the platform certificate, newer ones with the
// platform public key WeChat assigns them.
type Config struct {
	MchID      string
	SerialNo   string // serial number of the merchant's API certificate
	PrivateKey *rsa.PrivateKey
	// APIv3Key decrypts notifications (32 bytes). Never logged.
	APIv3Key string

	MiniProgramAppID string // JSAPI payments from the mini program
	AppAppID         string // payments from the mobile app; empty = app payments off
	NotifyURL        string // where WeChat posts payment results (https in production)
	// RefundNotifyURL is where WeChat posts refund results; empty: the
	// NotifyURL with its last segment "notify" replaced by "refund-notify".
	RefundNotifyURL string

	PlatformCert *x509.Certificate
	PublicKeyID  string // PUB_KEY_ID_...
	PublicKey    *rsa.PublicKey

	// BaseURL replaces https://api.mch.weixin.qq.com (scheme and host
	// only); for the fake in tests. Empty = the real API.
	BaseURL string
	// Timeout bounds one API call; 0 = 10s.
	Timeout time.Duration
}

// Client calls WeChat Pay for one merchant. Safe for concurrent use.
type Client struct {
	cfg     Config
	core    *core.Client
	jsapi   jsapi.JsapiApiService
	app     app.AppApiService
	refunds refunddomestic.RefundsApiService
	notify  *notify.Handler
}

// New checks cfg and builds the SDK client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.MchID == "":
		return nil, errors.New("wechatpay: merchant id is required")
	case cfg.SerialNo == "":
		return nil, errors.New("wechatpay: merchant certificate serial number is required")
	case cfg.PrivateKey == nil:
		return nil, errors.New("wechatpay: merchant private key is required")
	case len(cfg.APIv3Key) != 32:
		return nil, errors.New("wechatpay: the APIv3 key must be 32 bytes")
	case cfg.MiniProgramAppID == "" && cfg.AppAppID == "":
		return nil, errors.New("wechatpay: an app id (mini program or app) is required")
	case cfg.NotifyURL == "":
		return nil, errors.New("wechatpay: notify URL is required")
	case (cfg.PlatformCert == nil) == (cfg.PublicKey == nil):
		return nil, errors.New("wechatpay: give either the platform certificate or the platform public key")
	case cfg.PublicKey != nil && cfg.PublicKeyID == "":
		return nil, errors.New("wechatpay: the platform public key needs its id (PUB_KEY_ID_...)")
	}
	var verifier auth.Verifier
	var authOpt core.ClientOption
	if cfg.PublicKey != nil {
		verifier = verifiers.NewSHA256WithRSAPubkeyVerifier(cfg.PublicKeyID, *cfg.PublicKey)
		authOpt = option.WithWechatPayPublicKeyAuthCipher(cfg.MchID, cfg.SerialNo, cfg.PrivateKey, cfg.PublicKeyID, cfg.PublicKey)
	} else {
		verifier = verifiers.NewSHA256WithRSAVerifier(core.NewCertificateMapWithList([]*x509.Certificate{cfg.PlatformCert}))
		authOpt = option.WithWechatPayAuthCipher(cfg.MchID, cfg.SerialNo, cfg.PrivateKey, []*x509.Certificate{cfg.PlatformCert})
	}
	hc, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	// Options apply in order: the auth cipher sets the signer and the
	// response validator; the HTTP client only changes where requests go.
	c, err := core.NewClient(context.Background(), authOpt, option.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: SDK client: %w", err)
	}
	h, err := notify.NewRSANotifyHandler(cfg.APIv3Key, verifier)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: notification handler: %w", err)
	}
	return &Client{
		cfg: cfg, core: c, notify: h,
		jsapi: jsapi.JsapiApiService{Client: c}, app: app.AppApiService{Client: c},
		refunds: refunddomestic.RefundsApiService{Client: c},
	}, nil
}

// MchID is the merchant this client acts for.
func (c *Client) MchID() string { return c.cfg.MchID }

// AppEnabled reports whether app payments are configured.
func (c *Client) AppEnabled() bool { return c.cfg.AppAppID != "" }

// MiniProgramEnabled reports whether mini-program payments are configured.
func (c *Client) MiniProgramEnabled() bool { return c.cfg.MiniProgramAppID != "" }

func httpClient(cfg Config) (*http.Client, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	hc := &http.Client{Timeout: timeout}
	if cfg.BaseURL == "" {
		return hc, nil
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("wechatpay: base URL %q is not an http(s) origin", cfg.BaseURL)
	}
	// A path prefix would change the URL the server sees but not the one
	// the SDK signed, so every signature would fail.
	if base.Path != "" && base.Path != "/" || base.RawQuery != "" {
		return nil, fmt.Errorf("wechatpay: base URL %q must be an origin without a path", cfg.BaseURL)
	}
	official, _ := url.Parse(consts.WechatPayAPIServer)
	hc.Transport = rebase{from: official.Host, scheme: base.Scheme, host: base.Host, next: http.DefaultTransport}
	return hc, nil
}

// rebase sends requests the SDK addresses to the official host to another
// origin. It runs after the SDK has signed the request (the signature
// covers the path and query, not the host) and before the response comes
// back to the SDK's validator, so both stay in force.
type rebase struct {
	from, scheme, host string
	next               http.RoundTripper
}

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != r.from {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.scheme, r.host, ""
	return r.next.RoundTrip(out)
}
