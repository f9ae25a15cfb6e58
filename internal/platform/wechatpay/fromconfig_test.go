package wechatpay_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

func TestFromConfig(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c, err := wechatpay.FromConfig(&config.Config{}, log)
	if c != nil || err != nil || !strings.Contains(logs.String(), "WeChat Pay is off: WECHATPAY_MCH_ID is not set") {
		t.Fatalf("unset = %v, %v; log %q", c, err, logs.String())
	}

	for _, mode := range []string{"certificate", "public key"} {
		t.Run(mode, func(t *testing.T) {
			logs.Reset()
			m := wechatpaytest.NewMerchant(t)
			var opts []wechatpaytest.Option
			if mode == "public key" {
				opts = append(opts, wechatpaytest.WithPublicKey())
			}
			srv := wechatpaytest.New(t, m, opts...)
			dir := t.TempDir()
			cfg := &config.Config{
				WechatPayMchID: m.MchID, WechatPaySerial: m.Serial, WechatPayKeyFile: m.WriteKey(t, dir), WechatPayAPIv3Key: m.APIv3Key,
				WechatPayMiniProgramAppID: m.MiniProgramAppID, WechatPayBaseURL: srv.URL, WechatPayNotifyURL: notifyURL + "?token=s3cret",
			}
			if mode == "public key" {
				cfg.WechatPayPublicKeyFile, cfg.WechatPayPublicKeyID = srv.WritePublicKey(t, dir), srv.PublicKeyID()
			} else {
				cfg.WechatPayPlatformCertFile = srv.WriteCertificate(t, dir)
			}
			c, err := wechatpay.FromConfig(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.PrepayJSAPI(context.Background(), "FEE202603000001", "物业费", 100, "o-openid-1", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if c.AppEnabled() || !c.MiniProgramEnabled() {
				t.Errorf("app %v, mini program %v", c.AppEnabled(), c.MiniProgramEnabled())
			}
			line := logs.String()
			if !strings.Contains(line, "WeChat Pay is on") || !strings.Contains(line, "mchId="+m.MchID) || !strings.Contains(line, strings.TrimPrefix(srv.URL, "http://")) {
				t.Errorf("log %q should name the merchant and the API host", line)
			}
			for _, secret := range []string{m.APIv3Key, "s3cret", dir} {
				if strings.Contains(line, secret) {
					t.Errorf("log %q shows %q", line, secret)
				}
			}
		})
	}

	bad := &config.Config{WechatPayMchID: "1900000109", WechatPayKeyFile: "/nonexistent/apiclient_key.pem"}
	if c, err := wechatpay.FromConfig(bad, log); c != nil || err == nil || !strings.Contains(err.Error(), "WECHATPAY_KEY_FILE") {
		t.Fatalf("missing key file = %v, %v", c, err)
	}
}
