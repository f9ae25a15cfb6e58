package app

import (
	"log/slog"
	"net/http"

	"qinqing/internal/payment"
	"qinqing/internal/platform/wechatpay"
)

// wechatNotify takes WeChat Pay's payment results. A result that fails
// verification is refused and changes nothing; one we could not store is
// refused too, so WeChat sends it again. Anything verified, duplicates and
// results that match no payment included, is acknowledged once recorded.
func wechatNotify(c *wechatpay.Client, payments *payment.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tx, err := c.ParseNotification(r.Context(), r)
		if err != nil {
			log.WarnContext(r.Context(), "wechat pay notification refused", "err", err)
			wechatpay.FailNotification(w, err)
			return
		}
		n, err := payments.WechatResult(r.Context(), tx, payment.FromNotify)
		if err != nil {
			log.ErrorContext(r.Context(), "wechat pay notification not taken", "outTradeNo", tx.OutTradeNo, "err", err)
			wechatpay.FailNotification(w, err)
			return
		}
		if n.Unmatched != "" {
			log.WarnContext(r.Context(), "wechat pay notification matches no payment", "outTradeNo", tx.OutTradeNo, "why", n.Unmatched)
		}
		wechatpay.AckNotification(w)
	})
}

// wechatRefundNotify takes WeChat Pay's refund results, as wechatNotify
// takes payment results: refused unless verified, acknowledged once
// recorded (duplicates and refunds of no payment of ours included).
func wechatRefundNotify(c *wechatpay.Client, payments *payment.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rf, err := c.ParseRefundNotification(r.Context(), r)
		if err != nil {
			log.WarnContext(r.Context(), "wechat pay refund notification refused", "err", err)
			wechatpay.FailNotification(w, err)
			return
		}
		n, err := payments.WechatRefundResult(r.Context(), rf, payment.FromNotify)
		if err != nil {
			log.ErrorContext(r.Context(), "wechat pay refund notification not taken", "outRefundNo", rf.OutRefundNo, "err", err)
			wechatpay.FailNotification(w, err)
			return
		}
		if n.Unmatched != "" {
			log.WarnContext(r.Context(), "wechat pay refund notification matches no refund", "outRefundNo", rf.OutRefundNo, "why", n.Unmatched)
		}
		wechatpay.AckNotification(w)
	})
}
