package wechatpay_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

const notifyURL = "https://wuye.example.com/pay/wechat/notify"

// setup is a merchant, the fake WeChat Pay that knows it, and the real SDK
// client pointed at the fake.
func setup(t testing.TB, opts ...wechatpaytest.Option) (*wechatpaytest.Merchant, *wechatpaytest.Server, *wechatpay.Client) {
	t.Helper()
	m := wechatpaytest.NewMerchant(t)
	srv := wechatpaytest.New(t, m, opts...)
	c, err := wechatpay.New(srv.Config(notifyURL))
	if err != nil {
		t.Fatal(err)
	}
	return m, srv, c
}

// verify checks an RSA-SHA256 signature the way the WeChat client does
// before it opens the cashier.
func verify(t *testing.T, pub *rsa.PublicKey, message, signature string) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		t.Fatalf("signature is not base64: %v", err)
	}
	sum := sha256.Sum256([]byte(message))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify with the merchant key: %v", err)
	}
}

func TestPrepayJSAPIReturnsSignedPayParams(t *testing.T) {
	m, _, c := setup(t)
	ctx := context.Background()
	p, err := c.PrepayJSAPI(ctx, "FEE202601000001", "物业费 2026-01", 35_120, "o-openid-1", time.Now().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if p.AppID != m.MiniProgramAppID || p.PrepayID == "" || p.Package != "prepay_id="+p.PrepayID || p.SignType != "RSA" || p.NonceStr == "" {
		t.Fatalf("params = %+v", p)
	}
	verify(t, &m.Key.PublicKey, p.AppID+"\n"+p.TimeStamp+"\n"+p.NonceStr+"\n"+p.Package+"\n", p.PaySign)

	again, err := c.PrepayJSAPI(ctx, "FEE202601000001", "物业费 2026-01", 35_120, "o-openid-1", time.Time{})
	if err != nil || again.PrepayID != p.PrepayID {
		t.Fatalf("the same order again = %+v, %v; want prepay id %s", again, err, p.PrepayID)
	}
	_, err = c.PrepayJSAPI(ctx, "FEE202601000001", "物业费 2026-01", 1, "o-openid-1", time.Time{})
	if code := wechatpay.APIErrorCode(err); code != "INVALID_REQUEST" {
		t.Fatalf("the same out-trade-no with another amount: code %q (%v)", code, err)
	}
}

func TestPrepayAppReturnsSignedPayParams(t *testing.T) {
	m, _, c := setup(t)
	p, err := c.PrepayApp(context.Background(), "FEE202601000002", "物业费", 10_000, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if p.AppID != m.AppAppID || p.PartnerID != m.MchID || p.Package != "Sign=WXPay" || p.PrepayID == "" {
		t.Fatalf("params = %+v", p)
	}
	verify(t, &m.Key.PublicKey, p.AppID+"\n"+p.TimeStamp+"\n"+p.NonceStr+"\n"+p.PrepayID+"\n", p.Sign)
}

func TestQueryIsNotPaidUntilPaid(t *testing.T) {
	_, srv, c := setup(t)
	ctx := context.Background()
	if _, err := c.QueryByOutTradeNo(ctx, "FEE-NEVER-MADE"); !errors.Is(err, wechatpay.ErrOrderNotFound) {
		t.Fatalf("unknown order: %v, want ErrOrderNotFound", err)
	}
	if _, err := c.PrepayJSAPI(ctx, "FEE202601000003", "物业费", 35_120, "o-openid-1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	tx, err := c.QueryByOutTradeNo(ctx, "FEE202601000003")
	if err != nil {
		t.Fatal(err)
	}
	if tx.State != wechatpay.StateNotPay || tx.Paid() || tx.TransactionID != "" || tx.AmountFen != 35_120 || !tx.SuccessTime.IsZero() {
		t.Fatalf("before paying: %+v", tx)
	}
	paid, err := srv.Pay("FEE202601000003")
	if err != nil {
		t.Fatal(err)
	}
	tx, err = c.QueryByOutTradeNo(ctx, "FEE202601000003")
	if err != nil {
		t.Fatal(err)
	}
	if !tx.Paid() || tx.State != wechatpay.StateSuccess || tx.TransactionID != paid.TransactionID || tx.AmountFen != 35_120 ||
		tx.PayerTotalFen != 35_120 || !tx.SuccessTime.Equal(paid.SuccessTime) || tx.OpenID != "o-openid-1" || tx.TradeType != "JSAPI" {
		t.Fatalf("after paying: %+v, want %+v", tx, paid)
	}
	if _, err := c.PrepayJSAPI(ctx, "FEE202601000003", "物业费", 35_120, "o-openid-1", time.Time{}); wechatpay.APIErrorCode(err) != "ORDERPAID" {
		t.Fatalf("prepay of a paid order: %v, want ORDERPAID", err)
	}
}

func TestRefund(t *testing.T) {
	_, srv, c := setup(t)
	ctx := context.Background()
	if _, err := c.PrepayApp(ctx, "FEE202601000004", "物业费", 20_000, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(ctx, "FEE202601000004", "RF-1", 5_000, 20_000, "重复缴费"); wechatpay.APIErrorCode(err) != "INVALID_REQUEST" {
		t.Fatalf("refund of an unpaid order: %v", err)
	}
	paid, err := srv.Pay("FEE202601000004")
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Refund(ctx, "FEE202601000004", "RF-1", 5_000, 20_000, "重复缴费")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != wechatpay.RefundSuccess || r.RefundFen != 5_000 || r.TotalFen != 20_000 || r.TransactionID != paid.TransactionID || r.RefundID == "" || r.SuccessTime.IsZero() {
		t.Fatalf("refund = %+v", r)
	}
	again, err := c.Refund(ctx, "FEE202601000004", "RF-1", 5_000, 20_000, "重复缴费")
	if err != nil || again.RefundID != r.RefundID {
		t.Fatalf("the same refund again = %+v, %v; want refund %s once", again, err, r.RefundID)
	}
	if _, err := c.Refund(ctx, "FEE202601000004", "RF-2", 15_001, 20_000, ""); wechatpay.APIErrorCode(err) != "INVALID_REQUEST" {
		t.Fatalf("refunding more than is left: %v", err)
	}
	srv.RefundStatus(wechatpay.RefundProcessing)
	r2, err := c.Refund(ctx, "FEE202601000004", "RF-3", 15_000, 20_000, "")
	if err != nil || r2.Status != wechatpay.RefundProcessing {
		t.Fatalf("second refund = %+v, %v; want PROCESSING", r2, err)
	}
	if err := srv.FinishRefund("RF-3", wechatpay.RefundSuccess); err != nil {
		t.Fatal(err)
	}
	if q, err := c.QueryRefund(ctx, "RF-3"); err != nil || q.Status != wechatpay.RefundSuccess || q.RefundFen != 15_000 {
		t.Fatalf("query refund = %+v, %v", q, err)
	}
	tx, err := c.QueryByOutTradeNo(ctx, "FEE202601000004")
	if err != nil || tx.State != wechatpay.StateRefund || !tx.Paid() {
		t.Fatalf("order after refunds = %+v, %v; want REFUND", tx, err)
	}
}

// A man in the middle cannot answer for WeChat: the SDK's validator
// refuses an answer not signed with the platform key, even one that says
// the order is paid.
func TestAnswersNotSignedByWechatAreRefused(t *testing.T) {
	_, srv, c := setup(t)
	ctx := context.Background()
	if _, err := c.PrepayJSAPI(ctx, "FEE202601000005", "物业费", 100, "o-openid-1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay("FEE202601000005"); err != nil {
		t.Fatal(err)
	}
	srv.SignBadly(true)
	if tx, err := c.QueryByOutTradeNo(ctx, "FEE202601000005"); err == nil {
		t.Fatalf("a forged answer was believed: %+v", tx)
	}
	if _, err := c.PrepayJSAPI(ctx, "FEE202601000006", "物业费", 100, "o-openid-1", time.Time{}); err == nil {
		t.Fatal("a forged prepay answer was believed")
	}
	if got := srv.Requests(); len(got) != 3 || got[2] != "POST /v3/pay/transactions/jsapi" {
		t.Fatalf("requests = %v; the fake should have answered each (and been refused)", got)
	}
	srv.SignBadly(false)
	if tx, err := c.QueryByOutTradeNo(ctx, "FEE202601000005"); err != nil || !tx.Paid() {
		t.Fatalf("genuine answer: %+v, %v", tx, err)
	}
}

// The fake checks the merchant's signature like the real API: a client
// holding another key gets 401 SIGN_ERROR.
func TestRequestsSignedWithAnotherKeyAreRefused(t *testing.T) {
	_, srv, _ := setup(t)
	cfg := srv.Config(notifyURL)
	cfg.PrivateKey = wechatpaytest.NewMerchant(t).Key
	c, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PrepayJSAPI(context.Background(), "FEE202601000007", "物业费", 100, "o-openid-1", time.Time{})
	if code := wechatpay.APIErrorCode(err); code != "SIGN_ERROR" {
		t.Fatalf("code %q (%v), want SIGN_ERROR", code, err)
	}
}

func TestMerchantsOnThePlatformPublicKey(t *testing.T) {
	_, srv, c := setup(t, wechatpaytest.WithPublicKey())
	ctx := context.Background()
	if _, err := c.PrepayJSAPI(ctx, "FEE202601000008", "物业费", 100, "o-openid-1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay("FEE202601000008"); err != nil {
		t.Fatal(err)
	}
	if tx, err := c.QueryByOutTradeNo(ctx, "FEE202601000008"); err != nil || !tx.Paid() {
		t.Fatalf("query = %+v, %v", tx, err)
	}
	req, err := srv.NotificationRequest(ctx, notifyURL, "FEE202601000008")
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Wechatpay-Serial") != srv.PublicKeyID() {
		t.Fatalf("serial %q, want the public key id", req.Header.Get("Wechatpay-Serial"))
	}
	if tx, err := c.ParseNotification(ctx, req); err != nil || tx.AmountFen != 100 {
		t.Fatalf("notification = %+v, %v", tx, err)
	}
}
