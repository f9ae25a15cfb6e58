package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
)

// Refund states.
const (
	RefundSuccess    = "SUCCESS"
	RefundProcessing = "PROCESSING" // accepted; query again for the outcome
	RefundClosed     = "CLOSED"
	RefundAbnormal   = "ABNORMAL" // the payer's account could not take it; needs a person
)

// ErrRefundNotFound is a query for a refund WeChat does not know: the
// request never reached it, so asking again with the same out-refund-no is
// safe.
var ErrRefundNotFound = errors.New("wechatpay: refund does not exist")

// RefundRefused reports whether WeChat answered a refund request with a
// definitive refusal (a 4xx business error such as NOT_ENOUGH or
// INVALID_REQUEST): no refund was made. Rate limits (429), server errors
// and lost answers are not refusals; the refund may exist.
func RefundRefused(err error) bool {
	var apiErr *core.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests
}

// Refund is a refund's state as WeChat reports it.
type Refund struct {
	RefundID      string // WeChat's id
	OutRefundNo   string
	OutTradeNo    string
	TransactionID string
	Status        string // one of the Refund constants
	RefundFen     int64
	TotalFen      int64 // the order total
	PayerRefund   int64 // what goes back to the payer
	SuccessTime   time.Time
}

// Refund asks WeChat to return refundFen of the order outTradeNo (whose
// total is totalFen). outRefundNo is ours and makes the call idempotent:
// repeating it returns the same refund instead of paying twice. The answer
// is often PROCESSING; QueryRefund tells the outcome.
func (c *Client) Refund(ctx context.Context, outTradeNo, outRefundNo string, refundFen, totalFen int64, reason string) (*Refund, error) {
	switch {
	case outTradeNo == "" || outRefundNo == "":
		return nil, errors.New("wechatpay: refund needs the out-trade-no and an out-refund-no")
	case refundFen <= 0 || refundFen > totalFen:
		return nil, fmt.Errorf("wechatpay: refund of %d fen on an order of %d fen", refundFen, totalFen)
	}
	req := refunddomestic.CreateRequest{
		OutTradeNo: core.String(outTradeNo), OutRefundNo: core.String(outRefundNo),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(refundFen), Total: core.Int64(totalFen), Currency: core.String("CNY")},
	}
	if reason != "" {
		req.Reason = core.String(clipTo(reason, 80)) // the API's limit
	}
	if u := c.refundNotifyURL(); u != "" {
		req.NotifyUrl = core.String(u)
	}
	r, _, err := c.refunds.Create(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: refund %s of %s: %w", outRefundNo, outTradeNo, err)
	}
	return refund(r), nil
}

// QueryRefund asks WeChat how the refund outRefundNo went.
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	if outRefundNo == "" {
		return nil, errors.New("wechatpay: out-refund-no is required")
	}
	r, _, err := c.refunds.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(outRefundNo)})
	if err != nil {
		var apiErr *core.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: %s", ErrRefundNotFound, outRefundNo)
		}
		return nil, fmt.Errorf("wechatpay: query refund %s: %w", outRefundNo, err)
	}
	return refund(r), nil
}

// refundNotifyURL is where WeChat posts refund results: the configured
// one, else the payment notify URL's sibling ".../refund-notify" (so one
// setting serves both); "" leaves it to the merchant platform's setting.
func (c *Client) refundNotifyURL() string {
	if c.cfg.RefundNotifyURL != "" {
		return c.cfg.RefundNotifyURL
	}
	if base, ok := strings.CutSuffix(c.cfg.NotifyURL, "/notify"); ok {
		return base + "/refund-notify"
	}
	return ""
}

func refund(r *refunddomestic.Refund) *Refund {
	out := &Refund{RefundID: str(r.RefundId), OutRefundNo: str(r.OutRefundNo), OutTradeNo: str(r.OutTradeNo), TransactionID: str(r.TransactionId)}
	if r.Status != nil {
		out.Status = string(*r.Status)
	}
	if r.Amount != nil {
		out.RefundFen, out.TotalFen, out.PayerRefund = i64(r.Amount.Refund), i64(r.Amount.Total), i64(r.Amount.PayerRefund)
	}
	if r.SuccessTime != nil {
		out.SuccessTime = *r.SuccessTime
	}
	return out
}
