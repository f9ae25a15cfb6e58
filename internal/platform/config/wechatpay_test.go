package config

import (
	"strings"
	"testing"
)

func TestWechatPaySettings(t *testing.T) {
	full := map[string]string{
		"JWT_SECRET": secret, "WECHAT_APP_ID": "wxmini", "WECHATPAY_MCH_ID": "1900000109", "WECHATPAY_SERIAL": "5157F09EFDC096DE15EBE81A47057A72",
		"WECHATPAY_KEY_FILE": "/run/secrets/apiclient_key.pem", "WECHATPAY_APIV3_KEY": secret,
		"WECHATPAY_PLATFORM_CERT_FILE": "/run/secrets/wechatpay_cert.pem", "WECHATPAY_NOTIFY_URL": "https://wuye.example.com/pay/wechat/notify",
	}
	with := func(changes ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for i := 0; i < len(changes); i += 2 {
			m[changes[i]] = changes[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"off when WECHATPAY_MCH_ID is unset", map[string]string{"JWT_SECRET": secret}, ""},
		{"complete with the platform certificate", full, ""},
		{"complete with the platform public key", with("WECHATPAY_PLATFORM_CERT_FILE", "", "WECHATPAY_PUBLIC_KEY_FILE", "/k.pem", "WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_0114"), ""},
		{"settings without the merchant id are a typo, not off", with("WECHATPAY_MCH_ID", ""), "WECHATPAY_MCH_ID"},
		{"a missing key file", with("WECHATPAY_KEY_FILE", ""), "WECHATPAY_KEY_FILE"},
		{"a short APIv3 key", with("WECHATPAY_APIV3_KEY", "short"), "WECHATPAY_APIV3_KEY"},
		{"neither certificate nor public key", with("WECHATPAY_PLATFORM_CERT_FILE", ""), "WECHATPAY_PUBLIC_KEY_FILE"},
		{"both certificate and public key", with("WECHATPAY_PUBLIC_KEY_FILE", "/k.pem", "WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_0114"), "one of"},
		{"a public key without its id", with("WECHATPAY_PLATFORM_CERT_FILE", "", "WECHATPAY_PUBLIC_KEY_FILE", "/k.pem"), "WECHATPAY_PUBLIC_KEY_ID"},
		{"no app id at all", with("WECHAT_APP_ID", ""), "APP_ID"},
		{"a relative notify URL", with("WECHATPAY_NOTIFY_URL", "/pay/wechat/notify"), "WECHATPAY_NOTIFY_URL"},
		{"a base URL with a path", with("WECHATPAY_BASE_URL", "http://127.0.0.1:9/v3"), "WECHATPAY_BASE_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unsetAll(t)
			t.Setenv("DATA_DIR", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := Load()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load() error = %v; want one mentioning %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.WechatPayMchID != "" && c.WechatPayMiniProgramAppID != "wxmini" {
				t.Errorf("mini program app id = %q, want WECHAT_APP_ID's", c.WechatPayMiniProgramAppID)
			}
		})
	}
	t.Run("plain http notify URL only outside production", func(t *testing.T) {
		unsetAll(t)
		for k, v := range with("WECHATPAY_NOTIFY_URL", "http://wuye.example.com/pay/wechat/notify", "APP_ENV", "production", "MONGODB_URI", mongo) {
			t.Setenv(k, v)
		}
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), "https") {
			t.Fatalf("Load() error = %v; want https required in production", err)
		}
	})
}
