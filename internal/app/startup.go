package app

import (
	"log/slog"
	"net/url"
	"slices"

	"qinqing/internal/notify"
	"qinqing/internal/platform/config"
)

// Start-up logs say what is on, with what names it reaches the outside
// (project, app id, host), and what is off and why. They never carry a
// secret: no keys, passwords or tokens, and of a URL only its host, since
// a gateway URL may hold credentials in its user info or query.

// hostOf is the host of a configured URL; "default" when none is set.
func hostOf(raw string) string {
	if raw == "" {
		return "default"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Host
}

func logWechat(log *slog.Logger, cfg *config.Config, templates map[notify.Kind]string) {
	if cfg.WechatAppID == "" {
		log.Info("WeChat mini-program sign-in and subscribe messages are off: WECHAT_APP_ID is not set")
		return
	}
	kinds := make([]string, 0, len(templates))
	for k := range templates {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	log.Info("WeChat mini-program sign-in is on", "appId", cfg.WechatAppID, "api", hostOf(cfg.WechatBaseURL),
		"secret", cfg.WechatAppSecret != "")
	if len(kinds) == 0 {
		log.Info("WeChat subscribe messages are off: WECHAT_TEMPLATES is not set")
		return
	}
	log.Info("WeChat subscribe messages are on", "appId", cfg.WechatAppID, "kinds", kinds, "page", cfg.WechatPage)
}
