package identity

import "qinqing/internal/platform/apperr"

// Errors of the identity domain. Login failures are deliberately coarse:
// the same error for a wrong account and a wrong password, and for an
// unknown phone and a wrong code, so answers do not reveal who exists.
// A wrong password and a wrong code fail alike (UNAUTHENTICATED, reason
// WRONG_CREDENTIALS); a code that can no longer succeed says why, so the app
// offers a new one. Unknown phones keep a code too (one nobody was sent), so
// these reasons do not tell them apart either.
var (
	ErrBadCredentials     = apperr.New(apperr.Unauthenticated, "identity.bad_credentials").WithReason("WRONG_CREDENTIALS")
	ErrLoginThrottled     = apperr.New(apperr.RateLimited, "identity.login_throttled")
	ErrBadCode            = apperr.New(apperr.Unauthenticated, "identity.bad_code").WithField("code").WithReason("WRONG_CREDENTIALS")
	ErrCodeExpired        = apperr.New(apperr.Unauthenticated, "identity.code_expired").WithField("code").WithReason("CODE_EXPIRED")
	ErrCodeExhausted      = apperr.New(apperr.Unauthenticated, "identity.code_exhausted").WithField("code").WithReason("CODE_ATTEMPTS_EXHAUSTED")
	ErrTooManyCodes       = apperr.New(apperr.RateLimited, "identity.too_many_codes")
	ErrSMSUnavailable     = apperr.New(apperr.Unavailable, "identity.sms_unavailable")
	ErrRefreshInvalid     = apperr.New(apperr.Unauthenticated, "identity.refresh_invalid")
	ErrRefreshReused      = apperr.New(apperr.Unauthenticated, "identity.refresh_reused")
	ErrPhoneNotRegistered = apperr.New(apperr.Forbidden, "identity.phone_not_registered")
	ErrBadTicket          = apperr.Invalid("ticket", "identity.bad_ticket")
	ErrBadWechatCode      = apperr.Invalid("code", "identity.bad_wechat_code")
	ErrWechatUnavailable  = apperr.New(apperr.Unavailable, "identity.wechat_unavailable")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"identity.bad_credentials":      {ZH: "账号或密码错误", EN: "Wrong account or password"},
		"identity.login_throttled":      {ZH: "登录尝试过于频繁，请稍后再试", EN: "Too many sign-in attempts, please try again later"},
		"identity.bad_code":             {ZH: "验证码错误，请重新输入", EN: "The code is wrong; please check it and try again"},
		"identity.code_expired":         {ZH: "验证码已失效，请重新获取", EN: "The code has expired or was used; please request a new one"},
		"identity.code_exhausted":       {ZH: "验证码错误次数过多，请重新获取", EN: "Too many wrong tries for this code; please request a new one"},
		"identity.too_many_codes":       {ZH: "获取验证码过于频繁，请稍后再试", EN: "Too many code requests, please try again later"},
		"identity.sms_unavailable":      {ZH: "短信发送失败，请稍后再试", EN: "The text message could not be sent, please try again later"},
		"identity.refresh_invalid":      {ZH: "登录已过期，请重新登录", EN: "Your sign-in has expired, please sign in again"},
		"identity.refresh_reused":       {ZH: "登录状态异常，已为安全起见退出，请重新登录", EN: "Your sign-in was used elsewhere and has been ended for safety; please sign in again"},
		"identity.phone_not_registered": {ZH: "该手机号未登记为本小区住户，请联系物业管家", EN: "This phone number is not registered to a resident; please contact your butler"},
		"identity.bad_ticket":           {ZH: "绑定凭证无效或已过期，请重新进入小程序", EN: "The binding ticket is invalid or has expired; please reopen the mini program"},
		"identity.bad_wechat_code":      {ZH: "微信登录凭证无效，请重试", EN: "The WeChat login code is invalid; please try again"},
		"identity.wechat_unavailable":   {ZH: "微信服务暂时不可用，请稍后再试", EN: "WeChat is temporarily unavailable, please try again later"},
		"identity.password_length":      {ZH: "密码长度须为 %d–%d 个字符", EN: "must be %d to %d characters long"},
		"identity.password_weak":        {ZH: "密码须同时包含字母和数字", EN: "must contain at least one letter and one digit"},
	})
}
