package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every variable Load reads; each case starts from none of them set.
var allVars = []string{
	"APP_ENV", "HTTP_ADDR", "MONGODB_URI", "MONGODB_DB", "DATA_DIR", "JWT_SECRET", "JWT_SECRET_FILE",
	"ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL", "LOGIN_CODE_SECRET", "GRAPHQL_INTROSPECTION", "GRAPHQL_PLAYGROUND",
	"COMPANY_ID", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "SMS_BASE_URL", "SMS_API_KEY",
	"WECHAT_BASE_URL", "WECHAT_APP_ID", "WECHAT_APP_SECRET",
	"GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_COMPLEXITY", "GRAPHQL_MAX_RESPONSE_BYTES", "GRAPHQL_OPERATION_TIMEOUT",
	"MAX_BODY_BYTES", "MAX_UPLOAD_BYTES", "READ_HEADER_TIMEOUT", "BODY_READ_TIMEOUT", "IDLE_TIMEOUT", "METRICS_ADDR",
	"WS_INIT_TIMEOUT", "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", "WS_MAX_SUBSCRIPTIONS_PER_USER", "WS_MAX_CONNECTIONS_PER_USER", "WS_SEND_QUEUE",
	"FILE_URL_KEY", "FILE_URL_TTL", "PUBLIC_BASE_URL",
	"WECHATPAY_MCH_ID", "WECHATPAY_SERIAL", "WECHATPAY_KEY_FILE", "WECHATPAY_APIV3_KEY", "WECHATPAY_PLATFORM_CERT_FILE",
	"WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_MINIPROGRAM_APP_ID", "WECHATPAY_APP_APP_ID",
	"WECHATPAY_BASE_URL", "WECHATPAY_NOTIFY_URL",
}

// unsetAll clears the environment Load reads for the rest of the test, and
// restores it afterwards.
func unsetAll(t *testing.T) {
	t.Helper()
	for _, k := range allVars {
		t.Setenv(k, "") // registers the restore
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	secret = "0123456789abcdef0123456789abcdef" // 32 characters: the minimum
	mongo  = "mongodb://db.internal:27017/?replicaSet=rs0"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		file    *string // written to a temporary file named by JWT_SECRET_FILE
		wantErr string  // substring of the error; "" = Load succeeds
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "development runs on defaults with a generated secret",
			check: func(t *testing.T, c *Config) {
				if c.Env != "development" || c.Production() {
					t.Errorf("Env = %q", c.Env)
				}
				if len(c.JWTSecret) != 64 {
					t.Errorf("JWTSecret = %q, want 32 random bytes in hex", c.JWTSecret)
				}
				if c.MaxDepth != 10 || c.MaxComplexity != 20000 || c.MaxBodyBytes != 1<<20 || c.OperationTimeout != 15*time.Second || c.MetricsAddr != "127.0.0.1:9090" {
					t.Errorf("limits = %+v", c)
				}
				if c.AccessTTL != 15*time.Minute || c.RefreshTTL != 720*time.Hour || c.ShutdownWait != 20*time.Second {
					t.Errorf("lifetimes = %v %v %v", c.AccessTTL, c.RefreshTTL, c.ShutdownWait)
				}
				if c.WSInitTimeout != 10*time.Second || c.WSSubsPerConnection != 50 || c.WSSubsPerUser != 200 || c.WSConnectionsPerUser != 20 || c.WSSendQueue != 256 {
					t.Errorf("websocket limits = %v %d %d %d %d", c.WSInitTimeout, c.WSSubsPerConnection, c.WSSubsPerUser, c.WSConnectionsPerUser, c.WSSendQueue)
				}
				if c.HTTPAddr != ":8080" || c.MongoDB != "qinqing" || c.MongoURI != "" || c.CompanyID != "qinqing-demo" {
					t.Errorf("defaults = %+v", c)
				}
			},
		},
		{
			name:    "production without JWT_SECRET refuses to start",
			env:     map[string]string{"APP_ENV": "production", "MONGODB_URI": mongo},
			wantErr: "JWT_SECRET",
		},
		{
			name:    "production is recognised in any case",
			env:     map[string]string{"APP_ENV": "Production", "MONGODB_URI": mongo},
			wantErr: "JWT_SECRET",
		},
		{
			name:    "production with a short secret refuses to start",
			env:     map[string]string{"APP_ENV": "production", "MONGODB_URI": mongo, "JWT_SECRET": secret[:31]},
			wantErr: "at least 32",
		},
		{
			name:    "an unknown APP_ENV refuses to start rather than run with development defaults",
			env:     map[string]string{"APP_ENV": "prod", "JWT_SECRET": secret, "MONGODB_URI": mongo},
			wantErr: `APP_ENV "prod"`,
		},
		{
			name:    "production without MONGODB_URI refuses the embedded database",
			env:     map[string]string{"APP_ENV": "production", "JWT_SECRET": secret},
			wantErr: "MONGODB_URI",
		},
		{
			name: "production with a secret and a database starts, without playground or introspection",
			env:  map[string]string{"APP_ENV": "production", "JWT_SECRET": secret, "MONGODB_URI": mongo},
			check: func(t *testing.T, c *Config) {
				if c.JWTSecret != secret || c.MongoURI != mongo {
					t.Errorf("secret %q, uri %q", c.JWTSecret, c.MongoURI)
				}
				if c.IntrospectionOn() || c.PlaygroundOn() {
					t.Errorf("introspection %v, playground %v in production", c.IntrospectionOn(), c.PlaygroundOn())
				}
			},
		},
		{
			name: "file URLs: relative, an hour, key derived, by default; absolute with PUBLIC_BASE_URL",
			env:  map[string]string{"JWT_SECRET": secret, "PUBLIC_BASE_URL": "https://wuye.example.com", "FILE_URL_TTL": "30m"},
			check: func(t *testing.T, c *Config) {
				if c.PublicBaseURL != "https://wuye.example.com" || c.FileURLTTL != 30*time.Minute || c.FileURLKey != "" {
					t.Errorf("file urls = %q %v %q", c.PublicBaseURL, c.FileURLTTL, c.FileURLKey)
				}
			},
		},
		{
			name: "a PUBLIC_BASE_URL that is not an origin is refused",
			env:  map[string]string{"JWT_SECRET": secret, "PUBLIC_BASE_URL": "wuye.example.com"}, wantErr: "PUBLIC_BASE_URL",
		},
		{
			name: "a short FILE_URL_KEY is refused",
			env:  map[string]string{"JWT_SECRET": secret, "FILE_URL_KEY": "short"}, wantErr: "FILE_URL_KEY",
		},
		{
			name: "a short secret is refused in development too",
			env:  map[string]string{"JWT_SECRET": "short"}, wantErr: "at least 32",
		},
		{
			name: "JWT_SECRET_FILE is read and trimmed",
			env:  map[string]string{"APP_ENV": "production", "MONGODB_URI": mongo},
			file: ptr("  " + secret + "\n"),
			check: func(t *testing.T, c *Config) {
				if c.JWTSecret != secret {
					t.Errorf("JWTSecret = %q, want the file's content trimmed", c.JWTSecret)
				}
			},
		},
		{
			name: "JWT_SECRET wins over JWT_SECRET_FILE",
			env:  map[string]string{"JWT_SECRET": secret + "-env"},
			file: ptr(secret + "-file"),
			check: func(t *testing.T, c *Config) {
				if c.JWTSecret != secret+"-env" {
					t.Errorf("JWTSecret = %q", c.JWTSecret)
				}
			},
		},
		{
			name:    "a JWT_SECRET_FILE holding a short secret is refused",
			env:     map[string]string{"APP_ENV": "production", "MONGODB_URI": mongo},
			file:    ptr("tiny\n"),
			wantErr: "at least 32",
		},
		{
			name:    "an unreadable JWT_SECRET_FILE is an error naming it",
			env:     map[string]string{"JWT_SECRET_FILE": filepath.Join(os.TempDir(), "qinqing-no-such-secret-file")},
			wantErr: "JWT_SECRET_FILE",
		},
		{
			name: "development: introspection and playground on",
			env:  map[string]string{"APP_ENV": "development"},
			check: func(t *testing.T, c *Config) {
				if !c.IntrospectionOn() || !c.PlaygroundOn() {
					t.Errorf("introspection %v, playground %v", c.IntrospectionOn(), c.PlaygroundOn())
				}
			},
		},
		{
			name: "GRAPHQL_INTROSPECTION=false turns introspection off, not the playground",
			env:  map[string]string{"GRAPHQL_INTROSPECTION": "false"},
			check: func(t *testing.T, c *Config) {
				if c.IntrospectionOn() || !c.PlaygroundOn() {
					t.Errorf("introspection %v, playground %v", c.IntrospectionOn(), c.PlaygroundOn())
				}
			},
		},
		{
			name: "GRAPHQL_PLAYGROUND=false turns the playground off, not introspection",
			env:  map[string]string{"GRAPHQL_PLAYGROUND": "false"},
			check: func(t *testing.T, c *Config) {
				if !c.IntrospectionOn() || c.PlaygroundOn() {
					t.Errorf("introspection %v, playground %v", c.IntrospectionOn(), c.PlaygroundOn())
				}
			},
		},
		{
			name: "production may switch introspection on, never the playground",
			env:  map[string]string{"APP_ENV": "production", "JWT_SECRET": secret, "MONGODB_URI": mongo, "GRAPHQL_INTROSPECTION": "true", "GRAPHQL_PLAYGROUND": "true"},
			check: func(t *testing.T, c *Config) {
				if !c.IntrospectionOn() || c.PlaygroundOn() {
					t.Errorf("introspection %v, playground %v", c.IntrospectionOn(), c.PlaygroundOn())
				}
			},
		},
		{
			// The parser names the struct field (Introspect), not the variable.
			name:    "a switch that is not a boolean is an error quoting the value",
			env:     map[string]string{"GRAPHQL_INTROSPECTION": "maybe"},
			wantErr: `"maybe"`,
		},
		{
			name:    "a lifetime that is not a duration is an error quoting the value",
			env:     map[string]string{"ACCESS_TOKEN_TTL": "15"},
			wantErr: `duration "15"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unsetAll(t)
			t.Setenv("DATA_DIR", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.file != nil {
				path := filepath.Join(t.TempDir(), "jwt-secret")
				if err := os.WriteFile(path, []byte(*tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("JWT_SECRET_FILE", path)
			}
			c, err := Load()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load() = %+v, %v; want an error mentioning %q", c, err, tc.wantErr)
				}
				if c != nil {
					t.Errorf("Load returned a config with its error: %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// Without JWT_SECRET a development server must not sign with a secret
// anyone can read in the source: it generates one, keeps it private in the
// data directory, and reuses it so sessions survive a restart.
func TestDevelopmentSecretIsGeneratedAndKept(t *testing.T) {
	unsetAll(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("DATA_DIR", dir)
	first, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, devSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if again.JWTSecret != first.JWTSecret {
		t.Error("a restart made a new secret: every session would end")
	}
	t.Setenv("DATA_DIR", t.TempDir())
	other, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if other.JWTSecret == first.JWTSecret {
		t.Error("two data directories share a secret: it is not random")
	}
}

// The switches as the server reads them, whatever filled the struct.
func TestSwitchesPerEnvironment(t *testing.T) {
	on, off := true, false
	tests := []struct {
		env                      string
		introspect, playground   *bool
		wantIntrospect, wantPlay bool
	}{
		{"development", nil, nil, true, true},
		{"test", nil, nil, true, true},
		{"production", nil, nil, false, false},
		{"PRODUCTION", nil, nil, false, false},
		{"development", &off, &off, false, false},
		{"production", &on, &on, true, false},
	}
	for _, tc := range tests {
		c := &Config{Env: tc.env, Introspect: tc.introspect, Playground: tc.playground}
		if got := c.IntrospectionOn(); got != tc.wantIntrospect {
			t.Errorf("%s introspect=%v: IntrospectionOn = %v", tc.env, deref(tc.introspect), got)
		}
		if got := c.PlaygroundOn(); got != tc.wantPlay {
			t.Errorf("%s playground=%v: PlaygroundOn = %v", tc.env, deref(tc.playground), got)
		}
	}
}

func ptr(s string) *string { return &s }

func deref(b *bool) any {
	if b == nil {
		return "unset"
	}
	return *b
}
