package wechatpay

import (
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"qinqing/internal/platform/config"
)

// FromConfig builds the client from the server's settings (config.Load
// has checked they are complete) and logs whether WeChat Pay is on: nil
// and no error when WECHATPAY_MCH_ID is unset. The log names the merchant
// and the API host, never a key or the notify URL's query.
func FromConfig(cfg *config.Config, log *slog.Logger) (*Client, error) {
	if cfg.WechatPayMchID == "" {
		log.Info("WeChat Pay is off: WECHATPAY_MCH_ID is not set (fees are paid at the counter only)")
		return nil, nil
	}
	c := Config{
		MchID: cfg.WechatPayMchID, SerialNo: cfg.WechatPaySerial, APIv3Key: cfg.WechatPayAPIv3Key,
		MiniProgramAppID: cfg.WechatPayMiniProgramAppID, AppAppID: cfg.WechatPayAppAppID,
		NotifyURL: cfg.WechatPayNotifyURL, BaseURL: cfg.WechatPayBaseURL, PublicKeyID: cfg.WechatPayPublicKeyID,
	}
	var err error
	if c.PrivateKey, err = utils.LoadPrivateKeyWithPath(cfg.WechatPayKeyFile); err != nil {
		return nil, fmt.Errorf("wechatpay: WECHATPAY_KEY_FILE: %w", err)
	}
	verify := "platform public key"
	if cfg.WechatPayPlatformCertFile != "" {
		verify = "platform certificate"
		if c.PlatformCert, err = utils.LoadCertificateWithPath(cfg.WechatPayPlatformCertFile); err != nil {
			return nil, fmt.Errorf("wechatpay: WECHATPAY_PLATFORM_CERT_FILE: %w", err)
		}
		// WeChat signs with a new certificate once the old one expires; a
		// stale file would fail every answer, so say so at start-up.
		if time.Now().After(c.PlatformCert.NotAfter) {
			return nil, fmt.Errorf("wechatpay: WECHATPAY_PLATFORM_CERT_FILE expired on %s; download the current platform certificate", c.PlatformCert.NotAfter.Format(time.DateOnly))
		}
	} else if c.PublicKey, err = utils.LoadPublicKeyWithPath(cfg.WechatPayPublicKeyFile); err != nil {
		return nil, fmt.Errorf("wechatpay: WECHATPAY_PUBLIC_KEY_FILE: %w", err)
	}
	client, err := New(c)
	if err != nil {
		return nil, err
	}
	log.Info("WeChat Pay is on", "mchId", c.MchID, "api", apiHost(c.BaseURL), "verify", verify,
		"miniProgram", client.MiniProgramEnabled(), "app", client.AppEnabled())
	return client, nil
}

func apiHost(base string) string {
	if base == "" {
		base = consts.WechatPayAPIServer
	}
	u, err := url.Parse(base)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Host
}
