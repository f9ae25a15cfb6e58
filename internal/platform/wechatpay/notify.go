package wechatpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
)

// ErrBadNotification is a notification that is not WeChat's: its
// signature does not verify, it is too old, or it does not decrypt. Answer
// it with 401 and do nothing else.
var ErrBadNotification = errors.New("wechatpay: notification is not authentic")

// notifyMaxBytes bounds a notification body; a real one is about 1 KiB.
const notifyMaxBytes = 64 << 10

// ParseNotification verifies a payment notification (the Wechatpay-*
// signature headers, with the platform certificate or public key, and a
// timestamp within five minutes) and decrypts its resource with the APIv3
// key. The transaction it returns is authentic; its state may be anything
// (a notification says SUCCESS today, but nothing here assumes it).
// ErrBadNotification when it is not authentic. The body is consumed.
func (c *Client) ParseNotification(ctx context.Context, r *http.Request) (*Transaction, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, notifyMaxBytes)
	var tx payments.Transaction
	n, err := c.notify.ParseNotifyRequest(ctx, r, &tx)
	if err != nil {
		// A bad signature, a stale timestamp, or (signed by WeChat yet not
		// decryptable) a wrong APIv3 key here.
		return nil, fmt.Errorf("%w: %s", ErrBadNotification, scrub(err))
	}
	if !strings.HasPrefix(n.EventType, "TRANSACTION.") || n.Resource == nil || n.Resource.OriginalType != "transaction" {
		return nil, fmt.Errorf("wechatpay: notification %s is a %s, not a payment result", n.ID, n.EventType)
	}
	out, err := transaction(&tx)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: notification %s: %w", n.ID, err)
	}
	if out.MchID != c.cfg.MchID {
		return nil, fmt.Errorf("%w: notification %s is for merchant %s", ErrBadNotification, n.ID, out.MchID)
	}
	return out, nil
}

// scrub keeps the SDK's reason and drops the dump of the request it
// appends to a signature failure, which is no thing for a log.
func scrub(err error) string {
	s := err.Error()
	if i := strings.Index(s, ", request:"); i >= 0 {
		s = s[:i]
	}
	return s
}

// AckNotification answers WeChat that the notification was handled;
// anything else makes WeChat send it again later (over about 24 hours).
func AckNotification(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// FailNotification answers WeChat with a failure in its format, so it
// retries: 401 for ErrBadNotification, else 500.
func FailNotification(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, ErrBadNotification) {
		status = http.StatusUnauthorized
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "FAIL", "message": "失败"})
}

// refundResource is the decrypted resource of a refund notification
// (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED); the SDK has no type
// for it.
type refundResource struct {
	MchID         string     `json:"mchid"`
	OutTradeNo    string     `json:"out_trade_no"`
	TransactionID string     `json:"transaction_id"`
	OutRefundNo   string     `json:"out_refund_no"`
	RefundID      string     `json:"refund_id"`
	RefundStatus  string     `json:"refund_status"`
	SuccessTime   *time.Time `json:"success_time"`
	Amount        struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

// ParseRefundNotification verifies and decrypts a refund notification as
// ParseNotification does a payment's, and returns the refund it reports.
// ErrBadNotification when it is not authentic. The body is consumed.
func (c *Client) ParseRefundNotification(ctx context.Context, r *http.Request) (*Refund, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, notifyMaxBytes)
	var res refundResource
	n, err := c.notify.ParseNotifyRequest(ctx, r, &res)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadNotification, scrub(err))
	}
	if !strings.HasPrefix(n.EventType, "REFUND.") || n.Resource == nil || n.Resource.OriginalType != "refund" {
		return nil, fmt.Errorf("wechatpay: notification %s is a %s, not a refund result", n.ID, n.EventType)
	}
	if res.MchID != c.cfg.MchID {
		return nil, fmt.Errorf("%w: notification %s is for merchant %s", ErrBadNotification, n.ID, res.MchID)
	}
	if res.OutRefundNo == "" || res.RefundStatus == "" {
		return nil, fmt.Errorf("wechatpay: refund notification %s without out_refund_no or refund_status", n.ID)
	}
	out := &Refund{RefundID: res.RefundID, OutRefundNo: res.OutRefundNo, OutTradeNo: res.OutTradeNo, TransactionID: res.TransactionID,
		Status: res.RefundStatus, RefundFen: res.Amount.Refund, TotalFen: res.Amount.Total, PayerRefund: res.Amount.PayerRefund}
	if res.SuccessTime != nil {
		out.SuccessTime = *res.SuccessTime
	}
	return out, nil
}
