package wechatpaytest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"qinqing/internal/platform/wechatpay"
)

// NotifyRefund posts the refund's result notification (REFUND.SUCCESS,
// REFUND.ABNORMAL or REFUND.CLOSED, by its current status; see
// FinishRefund) to url, signed and encrypted like payment notifications,
// and returns each delivery's status. WeChat posts to the notify_url of
// the refund request (RefundNotifyURL); tests pass the server's address.
// Of the options, Twice, Dropped and BadSignature apply.
func (s *Server) NotifyRefund(ctx context.Context, url, outRefundNo string, opts ...NotifyOption) ([]int, error) {
	o := notifyOpts{times: 1}
	for _, f := range opts {
		f(&o)
	}
	s.mu.Lock()
	rf, ok := s.refunds[outRefundNo]
	var res map[string]any
	var status string
	if ok {
		status = rf.status
		res = map[string]any{
			"mchid": s.m.MchID, "out_trade_no": rf.outTradeNo, "transaction_id": rf.transactionID, "out_refund_no": rf.outRefundNo,
			"refund_id": rf.id, "refund_status": rf.status, "user_received_account": "支付用户零钱",
			"amount": map[string]any{"total": rf.total, "refund": rf.amount, "payer_total": rf.total, "payer_refund": rf.amount},
		}
		if rf.status == wechatpay.RefundSuccess {
			res["success_time"] = rf.created.Format(time.RFC3339)
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("wechatpaytest: no refund %s", outRefundNo)
	case status == wechatpay.RefundProcessing:
		return nil, fmt.Errorf("wechatpaytest: refund %s is still PROCESSING (FinishRefund it first)", outRefundNo)
	}
	enc, err := s.encrypt(res, "refund", "refund")
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(map[string]any{
		"id": "EV-" + nonceString()[:20], "create_time": time.Now().In(shanghai).Format(time.RFC3339),
		"event_type": "REFUND." + status, "resource_type": "encrypt-resource", "summary": "退款" + status, "resource": enc,
	})
	if err != nil {
		return nil, err
	}
	return s.deliver(ctx, url, signedBody{signed: b, sent: b}, o)
}

// RefundNotifyURL is the notify_url the refund request named ("" if none).
func (s *Server) RefundNotifyURL(outRefundNo string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rf, ok := s.refunds[outRefundNo]; ok {
		return rf.notifyURL
	}
	return ""
}
