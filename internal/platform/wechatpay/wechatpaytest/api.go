package wechatpaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"qinqing/internal/platform/wechatpay"
)

type prepayBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer *struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

// prepay answers the JSAPI and app order endpoints. The same out-trade-no
// with the same amount gets the same prepay id again, as on the real API;
// with another amount it is refused, and once paid it is ORDERPAID.
func (s *Server) prepay(tradeType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b prepayBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "请求体格式错误"))
			return
		}
		appID := s.m.MiniProgramAppID
		if tradeType == "APP" {
			appID = s.m.AppAppID
		}
		openID := ""
		if b.Payer != nil {
			openID = b.Payer.OpenID
		}
		switch {
		case b.MchID != s.m.MchID || b.AppID != appID:
			s.reply(w, http.StatusBadRequest, apiError("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"))
			return
		case b.OutTradeNo == "" || b.Description == "" || b.NotifyURL == "" || b.Amount.Total <= 0:
			s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "参数错误"))
			return
		case tradeType == "JSAPI" && openID == "":
			s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "JSAPI支付必须传openid"))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		o, ok := s.orders[b.OutTradeNo]
		switch {
		case !ok:
			s.seq++
			o = &order{
				appID: b.AppID, openID: openID, tradeType: tradeType, description: b.Description, outTradeNo: b.OutTradeNo,
				prepayID: fmt.Sprintf("wx%s%010d", time.Now().Format("20060102150405"), s.seq), state: wechatpay.StateNotPay, total: b.Amount.Total,
			}
			s.orders[b.OutTradeNo] = o
		case o.state != wechatpay.StateNotPay:
			s.replyLocked(w, http.StatusBadRequest, apiError("ORDERPAID", "该订单已支付"))
			return
		case o.total != b.Amount.Total || o.tradeType != tradeType:
			s.replyLocked(w, http.StatusBadRequest, apiError("INVALID_REQUEST", "201 商户订单号重复"))
			return
		}
		s.replyLocked(w, http.StatusOK, map[string]string{"prepay_id": o.prepayID})
	}
}

// replyLocked is reply for a caller holding s.mu.
func (s *Server) replyLocked(w http.ResponseWriter, status int, v any) {
	s.mu.Unlock()
	defer s.mu.Lock()
	s.reply(w, status, v)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("mchid") != s.m.MchID {
		s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "mchid错误"))
		return
	}
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("no")]
	var tx map[string]any
	if ok {
		tx = s.transactionJSON(o)
	}
	s.mu.Unlock()
	if !ok {
		s.reply(w, http.StatusNotFound, apiError("ORDER_NOT_EXIST", "订单不存在"))
		return
	}
	s.reply(w, http.StatusOK, tx)
}

// transactionJSON is an order as the query answers it and a notification
// carries it (the API's Transaction).
func (s *Server) transactionJSON(o *order) map[string]any {
	tx := map[string]any{
		"appid": o.appID, "mchid": s.m.MchID, "out_trade_no": o.outTradeNo, "trade_type": o.tradeType,
		"trade_state": o.state, "trade_state_desc": stateDesc[o.state], "attach": "",
		"amount": map[string]any{"total": o.total, "currency": "CNY"},
	}
	if o.transactionID != "" {
		tx["transaction_id"], tx["bank_type"] = o.transactionID, "OTHERS"
		tx["success_time"] = o.successTime.Format(time.RFC3339)
		tx["amount"] = map[string]any{"total": o.total, "payer_total": o.total, "currency": "CNY", "payer_currency": "CNY"}
		tx["payer"] = map[string]string{"openid": o.openID}
	}
	return tx
}

var stateDesc = map[string]string{
	wechatpay.StateNotPay: "订单未支付", wechatpay.StateSuccess: "支付成功", wechatpay.StateRefund: "订单发生过退款",
}

type refundBody struct {
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no"`
	Reason      string `json:"reason"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// createRefund refunds part or all of a paid order. The same out-refund-no
// again answers the refund already made (never a second one).
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	var b refundBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.OutRefundNo == "" || b.Amount.Refund <= 0 {
		s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "参数错误"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rf, ok := s.refunds[b.OutRefundNo]; ok {
		s.replyLocked(w, http.StatusOK, s.refundJSON(rf))
		return
	}
	o, ok := s.orders[b.OutTradeNo]
	switch {
	case !ok:
		s.replyLocked(w, http.StatusNotFound, apiError("RESOURCE_NOT_EXISTS", "订单不存在"))
		return
	case o.transactionID == "":
		s.replyLocked(w, http.StatusBadRequest, apiError("INVALID_REQUEST", "订单未支付"))
		return
	case b.Amount.Total != o.total:
		s.replyLocked(w, http.StatusBadRequest, apiError("PARAM_ERROR", "订单金额与原订单不一致"))
		return
	case o.refunded+b.Amount.Refund > o.total:
		s.replyLocked(w, http.StatusBadRequest, apiError("INVALID_REQUEST", "申请退款金额超过订单可退金额"))
		return
	}
	if s.refundRefusal != "" {
		s.replyLocked(w, http.StatusForbidden, apiError(s.refundRefusal, "基本账户余额不足，请充值后重新发起"))
		return
	}
	s.seq++
	rf := &refund{notifyURL: b.NotifyURL,
		id: fmt.Sprintf("50000%015d", s.seq), outRefundNo: b.OutRefundNo, outTradeNo: o.outTradeNo, transactionID: o.transactionID,
		status: s.refundStatus, amount: b.Amount.Refund, total: o.total, created: time.Now().In(shanghai).Truncate(time.Second),
	}
	s.refunds[b.OutRefundNo] = rf
	o.refunded += b.Amount.Refund
	o.state = wechatpay.StateRefund
	s.replyLocked(w, http.StatusOK, s.refundJSON(rf))
}

func (s *Server) queryRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rf, ok := s.refunds[r.PathValue("no")]
	var v map[string]any
	if ok {
		v = s.refundJSON(rf)
	}
	s.mu.Unlock()
	if !ok {
		s.reply(w, http.StatusNotFound, apiError("RESOURCE_NOT_EXISTS", "退款单不存在"))
		return
	}
	s.reply(w, http.StatusOK, v)
}

func (s *Server) refundJSON(rf *refund) map[string]any {
	v := map[string]any{
		"refund_id": rf.id, "out_refund_no": rf.outRefundNo, "transaction_id": rf.transactionID, "out_trade_no": rf.outTradeNo,
		"channel": "ORIGINAL", "user_received_account": "支付用户零钱", "create_time": rf.created.Format(time.RFC3339),
		"status": rf.status, "funds_account": "AVAILABLE",
		"amount": map[string]any{
			"total": rf.total, "refund": rf.amount, "payer_total": rf.total, "payer_refund": rf.amount,
			"settlement_total": rf.total, "settlement_refund": rf.amount, "discount_refund": 0, "currency": "CNY",
		},
	}
	if rf.status == wechatpay.RefundSuccess {
		v["success_time"] = rf.created.Format(time.RFC3339)
	}
	return v
}
