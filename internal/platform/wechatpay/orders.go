package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/app"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
)

// Trade states WeChat reports for an order.
const (
	StateSuccess    = "SUCCESS"    // paid
	StateRefund     = "REFUND"     // paid, then (partly) refunded
	StateNotPay     = "NOTPAY"     // not paid yet
	StateClosed     = "CLOSED"     // closed unpaid
	StateRevoked    = "REVOKED"    // cancelled (payment-code orders)
	StateUserPaying = "USERPAYING" // waiting for the payer (e.g. password)
	StatePayError   = "PAYERROR"   // payment failed
)

// ErrOrderNotFound is a query for an order WeChat does not know: no
// prepay was ever made for that out-trade-no.
var ErrOrderNotFound = errors.New("wechatpay: order does not exist")

// Transaction is what this project needs of a WeChat Pay order, from a
// query or a payment notification.
type Transaction struct {
	OutTradeNo    string
	TransactionID string // WeChat's id; empty until paid
	State         string // one of the State constants
	StateDesc     string
	TradeType     string // JSAPI, APP
	AppID         string
	MchID         string
	AmountFen     int64 // the order total
	PayerTotalFen int64 // what the payer paid (less any WeChat-funded coupon)
	Currency      string
	OpenID        string
	// SuccessTime is when payment completed; zero unless paid.
	SuccessTime time.Time
}

// Paid reports whether the payer's money arrived (a refunded order was
// paid first).
func (t *Transaction) Paid() bool { return t.State == StateSuccess || t.State == StateRefund }

// JSAPIParams are the arguments of the mini program's wx.requestPayment,
// signed with the merchant key.
type JSAPIParams struct {
	PrepayID  string `json:"prepayId"`
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"` // prepay_id=...
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// AppParams are the arguments of the app SDK's PayReq, signed with the
// merchant key.
type AppParams struct {
	AppID     string `json:"appId"`
	PartnerID string `json:"partnerId"` // the merchant id
	PrepayID  string `json:"prepayId"`
	Package   string `json:"package"` // Sign=WXPay
	NonceStr  string `json:"nonceStr"`
	TimeStamp string `json:"timeStamp"`
	Sign      string `json:"sign"`
}

// PrepayJSAPI creates (or, for the same out-trade-no and amount, finds
// again) the mini program order of openID and returns its pay parameters.
// expire zero = WeChat's default (2 hours).
func (c *Client) PrepayJSAPI(ctx context.Context, outTradeNo, description string, amountFen int64, openID string, expire time.Time) (*JSAPIParams, error) {
	if c.cfg.MiniProgramAppID == "" {
		return nil, errors.New("wechatpay: mini program payments are not configured")
	}
	if err := checkOrder(outTradeNo, amountFen); err != nil {
		return nil, err
	}
	if openID == "" {
		return nil, errors.New("wechatpay: the payer's openid is required")
	}
	req := jsapi.PrepayRequest{
		Appid: core.String(c.cfg.MiniProgramAppID), Mchid: core.String(c.cfg.MchID),
		Description: core.String(clipTo(description, 127)), OutTradeNo: core.String(outTradeNo),
		NotifyUrl: core.String(c.cfg.NotifyURL), TimeExpire: expiry(expire),
		Amount: &jsapi.Amount{Total: core.Int64(amountFen), Currency: core.String("CNY")},
		Payer:  &jsapi.Payer{Openid: core.String(openID)},
	}
	resp, _, err := c.jsapi.PrepayWithRequestPayment(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: JSAPI prepay %s: %w", outTradeNo, err)
	}
	return &JSAPIParams{
		PrepayID: str(resp.PrepayId), AppID: str(resp.Appid), TimeStamp: str(resp.TimeStamp),
		NonceStr: str(resp.NonceStr), Package: str(resp.Package), SignType: str(resp.SignType), PaySign: str(resp.PaySign),
	}, nil
}

// PrepayApp creates (or finds again) the app order and returns the
// parameters the app hands to the WeChat SDK.
func (c *Client) PrepayApp(ctx context.Context, outTradeNo, description string, amountFen int64, expire time.Time) (*AppParams, error) {
	if c.cfg.AppAppID == "" {
		return nil, errors.New("wechatpay: app payments are not configured")
	}
	if err := checkOrder(outTradeNo, amountFen); err != nil {
		return nil, err
	}
	req := app.PrepayRequest{
		Appid: core.String(c.cfg.AppAppID), Mchid: core.String(c.cfg.MchID),
		Description: core.String(clipTo(description, 127)), OutTradeNo: core.String(outTradeNo),
		NotifyUrl: core.String(c.cfg.NotifyURL), TimeExpire: expiry(expire),
		Amount: &app.Amount{Total: core.Int64(amountFen), Currency: core.String("CNY")},
	}
	resp, _, err := c.app.PrepayWithRequestPayment(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: app prepay %s: %w", outTradeNo, err)
	}
	return &AppParams{
		AppID: c.cfg.AppAppID, PartnerID: str(resp.PartnerId), PrepayID: str(resp.PrepayId),
		Package: str(resp.Package), NonceStr: str(resp.NonceStr), TimeStamp: str(resp.TimeStamp), Sign: str(resp.Sign),
	}, nil
}

// QueryByOutTradeNo asks WeChat for the order's state: the way to settle a
// payment whose notification never came. ErrOrderNotFound when WeChat has
// no such order.
func (c *Client) QueryByOutTradeNo(ctx context.Context, outTradeNo string) (*Transaction, error) {
	if outTradeNo == "" {
		return nil, errors.New("wechatpay: out-trade-no is required")
	}
	// The query endpoint is the same for JSAPI and app orders.
	tx, _, err := c.jsapi.QueryOrderByOutTradeNo(ctx, jsapi.QueryOrderByOutTradeNoRequest{
		OutTradeNo: core.String(outTradeNo), Mchid: core.String(c.cfg.MchID),
	})
	if err != nil {
		var apiErr *core.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: %s", ErrOrderNotFound, outTradeNo)
		}
		return nil, fmt.Errorf("wechatpay: query %s: %w", outTradeNo, err)
	}
	return transaction(tx)
}

// APIErrorCode is WeChat's error code (ORDERPAID, PARAM_ERROR, SIGN_ERROR,
// NOT_ENOUGH...) when err is an error answer from the API, else "".
func APIErrorCode(err error) string {
	var apiErr *core.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

func transaction(t *payments.Transaction) (*Transaction, error) {
	out := &Transaction{
		OutTradeNo: str(t.OutTradeNo), TransactionID: str(t.TransactionId), State: str(t.TradeState),
		StateDesc: str(t.TradeStateDesc), TradeType: str(t.TradeType), AppID: str(t.Appid), MchID: str(t.Mchid),
	}
	if t.Amount != nil {
		out.AmountFen, out.PayerTotalFen, out.Currency = i64(t.Amount.Total), i64(t.Amount.PayerTotal), str(t.Amount.Currency)
	}
	if t.Payer != nil {
		out.OpenID = str(t.Payer.Openid)
	}
	if s := str(t.SuccessTime); s != "" {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("wechatpay: order %s: success_time %q: %w", out.OutTradeNo, s, err)
		}
		out.SuccessTime = at
	}
	if out.OutTradeNo == "" || out.State == "" {
		return nil, errors.New("wechatpay: order without out_trade_no or trade_state")
	}
	return out, nil
}

func checkOrder(outTradeNo string, amountFen int64) error {
	// The API allows 6 to 32 letters, digits, _-|*.
	if n := len(outTradeNo); n < 6 || n > 32 {
		return fmt.Errorf("wechatpay: out-trade-no %q must be 6 to 32 characters", outTradeNo)
	}
	if amountFen <= 0 {
		return fmt.Errorf("wechatpay: amount %d fen must be positive", amountFen)
	}
	return nil
}

// clipTo cuts s to an API limit of max bytes without splitting a
// character (description: 127).
func clipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// expiry drops sub-seconds: the API takes RFC 3339 to the second.
func expiry(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.Truncate(time.Second)
	return &t
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
