package wechatpay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

// receiver is a notify endpoint over real HTTP that parses what arrives
// and answers as a handler should.
type receiver struct {
	client *wechatpay.Client
	mu     sync.Mutex
	txs    []*wechatpay.Transaction
	errs   []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tx, err := rc.client.ParseNotification(r.Context(), r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.errs = append(rc.errs, err)
		wechatpay.FailNotification(w, err)
		return
	}
	rc.txs = append(rc.txs, tx)
	wechatpay.AckNotification(w)
}

// paidOrder is a JSAPI order of amount fen the payer has paid.
func paidOrder(t testing.TB, srv *wechatpaytest.Server, c *wechatpay.Client, no string, amount int64) *wechatpay.Transaction {
	t.Helper()
	if _, err := c.PrepayJSAPI(context.Background(), no, "物业费", amount, "o-openid-1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	paid, err := srv.Pay(no)
	if err != nil {
		t.Fatal(err)
	}
	return paid
}

func TestNotificationsOverHTTP(t *testing.T) {
	_, srv, c := setup(t)
	paid := paidOrder(t, srv, c, "FEE202602000001", 35_120)
	rc := &receiver{client: c}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	ctx := context.Background()

	statuses, err := srv.Notify(ctx, hook.URL, "FEE202602000001", wechatpaytest.Twice())
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 2 || statuses[0] != http.StatusNoContent || statuses[1] != http.StatusNoContent {
		t.Fatalf("statuses = %v, want two 204s", statuses)
	}
	if len(rc.txs) != 2 || len(rc.errs) != 0 {
		t.Fatalf("parsed %d, errors %v", len(rc.txs), rc.errs)
	}
	for _, tx := range rc.txs {
		got, want := *tx, *paid
		if !got.SuccessTime.Equal(want.SuccessTime) {
			t.Errorf("success time %v, want %v", got.SuccessTime, want.SuccessTime)
		}
		got.SuccessTime, want.SuccessTime = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("notification = %+v, want %+v", tx, paid)
		}
	}

	for name, opt := range map[string]wechatpaytest.NotifyOption{"forged": wechatpaytest.BadSignature(), "tampered": wechatpaytest.Tampered()} {
		statuses, err := srv.Notify(ctx, hook.URL, "FEE202602000001", opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(statuses) != 1 || statuses[0] != http.StatusUnauthorized {
			t.Errorf("%s: statuses %v, want 401", name, statuses)
		}
	}
	if len(rc.txs) != 2 || len(rc.errs) != 2 {
		t.Fatalf("after the forgeries: parsed %d, errors %v", len(rc.txs), rc.errs)
	}
	for _, err := range rc.errs {
		if !errors.Is(err, wechatpay.ErrBadNotification) {
			t.Errorf("error %v is not ErrBadNotification", err)
		}
		t.Logf("refused: %v", err)
	}

	if statuses, err := srv.Notify(ctx, hook.URL, "FEE202602000001", wechatpaytest.Dropped()); err != nil || len(statuses) != 0 {
		t.Fatalf("dropped: %v, %v; want nothing sent", statuses, err)
	}
	if _, err := srv.Notify(ctx, hook.URL, "FEE-NOT-PAID"); err == nil {
		t.Fatal("a notification for an order never paid was sent")
	}
}

func TestParseNotificationRefusesWhatIsNotWechats(t *testing.T) {
	_, srv, c := setup(t)
	paidOrder(t, srv, c, "FEE202602000002", 100)
	ctx := context.Background()

	tampered, err := srv.NotificationRequest(ctx, notifyURL, "FEE202602000002", wechatpaytest.Tampered())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.ParseNotification(ctx, tampered)
	if !errors.Is(err, wechatpay.ErrBadNotification) {
		t.Fatalf("tampered body: %+v, %v", tx, err)
	}
	// The error goes to a log: it names the reason, not the request.
	if msg := err.Error(); strings.Contains(msg, "ciphertext") || strings.Contains(msg, "Wechatpay-Signature") || len(msg) > 400 {
		t.Errorf("error carries the request: %s", msg)
	}

	// Signed by WeChat but encrypted for another APIv3 key.
	cfg := srv.Config(notifyURL)
	cfg.APIv3Key = strings.Repeat("k", 32)
	other, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	genuine, err := srv.NotificationRequest(ctx, notifyURL, "FEE202602000002")
	if err != nil {
		t.Fatal(err)
	}
	if tx, err := other.ParseNotification(ctx, genuine); !errors.Is(err, wechatpay.ErrBadNotification) {
		t.Fatalf("wrong APIv3 key: %+v, %v", tx, err)
	}

	// Another merchant's genuine notification is not ours.
	_, srv2, c2 := setup(t)
	paidOrder(t, srv2, c2, "FEE202602000003", 100)
	theirs, err := srv2.NotificationRequest(ctx, notifyURL, "FEE202602000003")
	if err != nil {
		t.Fatal(err)
	}
	if tx, err := c.ParseNotification(ctx, theirs); !errors.Is(err, wechatpay.ErrBadNotification) {
		t.Fatalf("another platform key: %+v, %v", tx, err)
	}
}
