// Package config reads the server's settings from environment variables.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is every setting; the README documents each variable.
type Config struct {
	Env        string        `env:"APP_ENV" envDefault:"development"`
	HTTPAddr   string        `env:"HTTP_ADDR" envDefault:":8080"`
	MongoURI   string        `env:"MONGODB_URI"`
	MongoDB    string        `env:"MONGODB_DB" envDefault:"qinqing"`
	DataDir    string        `env:"DATA_DIR" envDefault:"./data"`
	JWTSecret  string        `env:"JWT_SECRET"`
	JWTKeyFile string        `env:"JWT_SECRET_FILE"`
	AccessTTL  time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTTL time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"720h"`
	CodeSecret string        `env:"LOGIN_CODE_SECRET"`
	Introspect *bool         `env:"GRAPHQL_INTROSPECTION"`
	Playground *bool         `env:"GRAPHQL_PLAYGROUND"`
	CompanyID  string        `env:"COMPANY_ID" envDefault:"qinqing-demo"`
	// CompanyName signs generated documents (written notices); unset, they
	// are signed "<community>物业服务中心".
	CompanyName string `env:"COMPANY_NAME"`
	// PDFFont is the CJK TrueType (.ttf, not .ttc) font of generated PDFs;
	// unset, the Debian paths in internal/platform/pdf.KnownPaths are tried.
	PDFFont      string        `env:"PDF_FONT"`
	ShutdownWait time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	LogLevel     string        `env:"LOG_LEVEL" envDefault:"info"`

	// EmbeddedDBAddr is where the embedded database listens (host:port);
	// empty takes a free loopback port. Fix it to attach more server
	// processes with MONGODB_URI=mongodb://<addr>/.
	EmbeddedDBAddr string `env:"EMBEDDED_DB_ADDR"`
	// ExplorerCDN, when set, serves the full GraphiQL at / with its scripts
	// from this mirror (see internal/platform/explorer.MirrorURL); unset,
	// / is the embedded explorer, which needs no network.
	ExplorerCDN string `env:"EXPLORER_CDN"`

	// Limits on one request (see graph/limits.go; zero = the default there).
	MaxDepth         int           `env:"GRAPHQL_MAX_DEPTH" envDefault:"10"`
	MaxComplexity    int           `env:"GRAPHQL_MAX_COMPLEXITY" envDefault:"20000"`
	MaxResponseBytes int           `env:"GRAPHQL_MAX_RESPONSE_BYTES" envDefault:"4194304"`
	OperationTimeout time.Duration `env:"GRAPHQL_OPERATION_TIMEOUT" envDefault:"15s"`
	MaxBodyBytes     int64         `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	MaxUploadBytes   int64         `env:"MAX_UPLOAD_BYTES" envDefault:"20971520"`
	// LoaderWait > 0 sends loader batches after this wait instead of when
	// their level is resolved (graph/batch.go); 0, the default, waits for
	// nothing.
	LoaderWait time.Duration `env:"GRAPHQL_LOADER_WAIT" envDefault:"0"`
	// Slow clients: headers, then the body, must arrive in time; an idle
	// keep-alive connection is closed after IdleTimeout.
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT" envDefault:"10s"`
	BodyReadTimeout   time.Duration `env:"BODY_READ_TIMEOUT" envDefault:"30s"`
	IdleTimeout       time.Duration `env:"IDLE_TIMEOUT" envDefault:"120s"`
	// MetricsAddr serves /metrics on its own listener (keep it private);
	// "off" (or empty in code) = no metrics endpoint. The API address never
	// serves /metrics.
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9090"`
	// RefreshReuseGrace: a spent refresh token presented again this soon gets
	// the same successor (a double submit) instead of ending the session.
	RefreshReuseGrace time.Duration `env:"REFRESH_REUSE_GRACE" envDefault:"30s"`

	// TrustedProxies are CIDRs of load balancers whose X-Forwarded-For is
	// believed for per-IP login limits.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`

	FCMCredentialsFile string `env:"FCM_CREDENTIALS_FILE"`
	FCMProjectID       string `env:"FCM_PROJECT_ID"`
	FCMEndpoint        string `env:"FCM_ENDPOINT"`
	// OutboxInterval is the longest an idle outbox worker sleeps: it wakes
	// when any server queues deliveries and when the earliest one is due.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1m"`
	// ScheduleInterval is how often greetings and reminders are looked for.
	ScheduleInterval time.Duration `env:"SCHEDULE_INTERVAL" envDefault:"1m"`
	// Callback prompts: ask an owner who signed without rating, remind the
	// butler whose callback is due, and the supervisors when it is overdue.
	RatePromptAfter  time.Duration `env:"RATE_PROMPT_AFTER" envDefault:"2h"`
	CallbackDueAfter time.Duration `env:"CALLBACK_DUE_AFTER" envDefault:"24h"`
	CallbackOverdue  time.Duration `env:"CALLBACK_OVERDUE_AFTER" envDefault:"72h"`

	// Websockets: connection_init deadline, and bounds per connection and
	// per user (across this process) that keep one client from holding
	// unbounded subscriptions; a socket whose send queue fills is closed.
	WSInitTimeout        time.Duration `env:"WS_INIT_TIMEOUT" envDefault:"10s"`
	WSSubsPerConnection  int           `env:"WS_MAX_SUBSCRIPTIONS_PER_CONNECTION" envDefault:"50"`
	WSSubsPerUser        int           `env:"WS_MAX_SUBSCRIPTIONS_PER_USER" envDefault:"200"`
	WSConnectionsPerUser int           `env:"WS_MAX_CONNECTIONS_PER_USER" envDefault:"20"`
	WSSendQueue          int           `env:"WS_SEND_QUEUE" envDefault:"256"`

	SMSBaseURL string `env:"SMS_BASE_URL"`
	SMSAPIKey  string `env:"SMS_API_KEY"`

	WechatBaseURL   string `env:"WECHAT_BASE_URL" envDefault:"https://api.weixin.qq.com"`
	WechatAppID     string `env:"WECHAT_APP_ID"`
	WechatAppSecret string `env:"WECHAT_APP_SECRET"`
	// WechatTemplates maps message kinds to subscribe-message template ids:
	// REPAIR_PROGRESS:AbC1...,FESTIVAL_GREETING:XyZ9...
	WechatTemplates map[string]string `env:"WECHAT_TEMPLATES" envKeyValSeparator:":"`
	WechatPage      string            `env:"WECHAT_PAGE" envDefault:"pages/inbox/index"`

	// WeChat Pay API v3 for fees (internal/platform/wechatpay): off unless
	// WECHATPAY_MCH_ID is set. WechatPayAPIv3Key is a secret: never logged.
	// WeChat's signatures are checked with the platform certificate or,
	// for newer merchants, the platform public key and its id.
	WechatPayMchID            string `env:"WECHATPAY_MCH_ID"`
	WechatPaySerial           string `env:"WECHATPAY_SERIAL"`
	WechatPayKeyFile          string `env:"WECHATPAY_KEY_FILE"`
	WechatPayAPIv3Key         string `env:"WECHATPAY_APIV3_KEY"`
	WechatPayPlatformCertFile string `env:"WECHATPAY_PLATFORM_CERT_FILE"`
	WechatPayPublicKeyFile    string `env:"WECHATPAY_PUBLIC_KEY_FILE"`
	WechatPayPublicKeyID      string `env:"WECHATPAY_PUBLIC_KEY_ID"`
	// WechatPayMiniProgramAppID unset = WECHAT_APP_ID, the mini program
	// residents sign in with; WechatPayAppAppID unset = no app payments.
	WechatPayMiniProgramAppID string `env:"WECHATPAY_MINIPROGRAM_APP_ID"`
	WechatPayAppAppID         string `env:"WECHATPAY_APP_APP_ID"`
	WechatPayBaseURL          string `env:"WECHATPAY_BASE_URL"`
	WechatPayNotifyURL        string `env:"WECHATPAY_NOTIFY_URL"`

	// File URLs are signed (internal/platform/files/sign.go). FileURLKey
	// unset: a key derived from JWT_SECRET under its own label.
	FileURLKey string        `env:"FILE_URL_KEY"`
	FileURLTTL time.Duration `env:"FILE_URL_TTL" envDefault:"1h"`
	// PublicBaseURL makes file URLs absolute (https://wuye.example.com).
	PublicBaseURL string `env:"PUBLIC_BASE_URL"`
}

// TrustedPrefixes parses TrustedProxies (validated by Load).
func (c *Config) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pr, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil {
			out = append(out, pr)
		}
	}
	return out
}

// Production reports production mode, where unsafe defaults are refused.
func (c *Config) Production() bool { return strings.EqualFold(c.Env, "production") }

// IntrospectionOn defaults to on in development, off in production.
func (c *Config) IntrospectionOn() bool {
	if c.Introspect != nil {
		return *c.Introspect
	}
	return !c.Production()
}

// PlaygroundOn is never on in production.
func (c *Config) PlaygroundOn() bool {
	if c.Production() {
		return false
	}
	return c.Playground == nil || *c.Playground
}

// Environments APP_ENV may name; anything else is a start-up error, so a
// typo such as "prod" never runs with development defaults.
var environments = []string{"development", "test", "production"}

// devSecretFile holds the generated development JWT secret in DATA_DIR.
const devSecretFile = "jwt-dev-secret"

// Load reads the environment and checks what must hold before starting.
func Load() (*Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if c.JWTSecret == "" && c.JWTKeyFile != "" {
		b, err := os.ReadFile(c.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: JWT_SECRET_FILE: %w", err)
		}
		c.JWTSecret = strings.TrimSpace(string(b))
	}
	if !slices.ContainsFunc(environments, func(e string) bool { return strings.EqualFold(e, c.Env) }) {
		return nil, fmt.Errorf("config: APP_ENV %q is not one of %s", c.Env, strings.Join(environments, ", "))
	}
	if c.JWTSecret == "" {
		if c.Production() {
			return nil, errors.New("config: JWT_SECRET (or JWT_SECRET_FILE) is required in production")
		}
		s, err := devSecret(c.DataDir)
		if err != nil {
			return nil, fmt.Errorf("config: development JWT secret: %w", err)
		}
		c.JWTSecret = s
	}
	if len(c.JWTSecret) < 32 {
		return nil, errors.New("config: JWT_SECRET must be at least 32 characters")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(strings.TrimSpace(p)); err != nil {
			return nil, fmt.Errorf("config: TRUSTED_PROXIES: %q is not a CIDR prefix", p)
		}
	}
	if c.FileURLKey != "" && len(c.FileURLKey) < 32 {
		return nil, errors.New("config: FILE_URL_KEY must be at least 32 characters")
	}
	if c.FileURLTTL <= 0 {
		return nil, errors.New("config: FILE_URL_TTL must be positive")
	}
	if c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("config: PUBLIC_BASE_URL %q is not an http(s) origin such as https://wuye.example.com", c.PublicBaseURL)
		}
	}
	if c.WechatPayMiniProgramAppID == "" {
		c.WechatPayMiniProgramAppID = c.WechatAppID
	}
	if err := c.checkWechatPay(); err != nil {
		return nil, err
	}
	if c.Production() && c.MongoURI == "" {
		return nil, errors.New("config: MONGODB_URI is required in production (the embedded database is for development)")
	}
	return &c, nil
}

// devSecret returns the development JWT secret kept in dir, generating a
// random one on first use. A fixed secret in the source would let anyone
// sign tokens for any development server reachable on a network; one per
// data directory keeps sessions valid across restarts.
func devSecret(dir string) (string, error) {
	path := filepath.Join(dir, devSecretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) >= 32:
		return strings.TrimSpace(string(b)), nil
	case err == nil:
		return "", fmt.Errorf("%s holds no usable secret; delete it to make a new one", path)
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	s := hex.EncodeToString(key)
	// O_EXCL: two processes starting at once agree on the first one written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return devSecret(dir)
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return s, f.Close()
}

// checkWechatPay refuses a half-configured WeChat Pay at start-up rather
// than failing the first payment: either WECHATPAY_MCH_ID is unset (off)
// or everything a payment needs is there.
func (c *Config) checkWechatPay() error {
	if c.WechatPayMchID == "" {
		if c.WechatPaySerial != "" || c.WechatPayKeyFile != "" || c.WechatPayAPIv3Key != "" || c.WechatPayNotifyURL != "" {
			return errors.New("config: WECHATPAY_* is set but WECHATPAY_MCH_ID is not")
		}
		return nil
	}
	switch {
	case c.WechatPaySerial == "" || c.WechatPayKeyFile == "":
		return errors.New("config: WeChat Pay needs WECHATPAY_SERIAL and WECHATPAY_KEY_FILE (the merchant API certificate's serial and key)")
	case len(c.WechatPayAPIv3Key) != 32:
		return errors.New("config: WECHATPAY_APIV3_KEY must be the 32-character APIv3 key")
	case (c.WechatPayPlatformCertFile == "") == (c.WechatPayPublicKeyFile == ""):
		return errors.New("config: WeChat Pay needs one of WECHATPAY_PLATFORM_CERT_FILE and WECHATPAY_PUBLIC_KEY_FILE")
	case c.WechatPayPublicKeyFile != "" && !strings.HasPrefix(c.WechatPayPublicKeyID, "PUB_KEY_ID_"):
		return errors.New("config: WECHATPAY_PUBLIC_KEY_FILE needs WECHATPAY_PUBLIC_KEY_ID (PUB_KEY_ID_...)")
	case c.WechatPayMiniProgramAppID == "" && c.WechatPayAppAppID == "":
		return errors.New("config: WeChat Pay needs WECHATPAY_MINIPROGRAM_APP_ID (or WECHAT_APP_ID) or WECHATPAY_APP_APP_ID")
	}
	u, err := url.Parse(c.WechatPayNotifyURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && (c.Production() || u.Scheme != "http")) {
		return fmt.Errorf("config: WECHATPAY_NOTIFY_URL %q must be an absolute https URL (http outside production), e.g. https://wuye.example.com/pay/wechat/notify", c.WechatPayNotifyURL)
	}
	if c.WechatPayBaseURL != "" {
		b, err := url.Parse(c.WechatPayBaseURL)
		if err != nil || (b.Scheme != "https" && b.Scheme != "http") || b.Host == "" || (b.Path != "" && b.Path != "/") {
			return fmt.Errorf("config: WECHATPAY_BASE_URL %q must be an origin such as https://api.mch.weixin.qq.com", c.WechatPayBaseURL)
		}
	}
	return nil
}
