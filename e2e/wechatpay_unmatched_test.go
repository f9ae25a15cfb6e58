package e2e

import (
	"context"
	"testing"
	"time"

	"qinqing/internal/fee"
	"qinqing/internal/payment"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

// WeChat Pay results that settle nothing: another amount than the order's
// (recorded, the bill stays open, listed in the reconciliation, not
// queried again), an order we never opened (recorded, acknowledged so
// WeChat stops resending).
func TestWechatPayNotificationsThatMatchNothing(t *testing.T) {
	e, fake := newWechatEnv(t)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services.Payments
	_, finance := financeStaff(t, e, w)
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	p := createWechat(e.owner("13900000001"), map[string]any{"householdId": w.HA.ID, "channel": "APP"}).Payment
	if _, err := fake.PayAmount(p.ID, 1); err != nil {
		t.Fatal(err)
	}
	for _, st := range notifyStatuses(t, fake, e, p.ID, wechatpaytest.Twice()) {
		if st/100 != 2 {
			t.Fatalf("notification with another amount answered %d", st)
		}
	}
	got := storedPayment(t, e, p.ID)
	if got.Status != payment.Pending || got.Mismatch == nil || got.Mismatch.Amount != 1 || got.ReceiptNo != 0 {
		t.Fatalf("payment after another amount: %+v", got)
	}
	if b := bill(t, e, jan); b.Paid != 0 || b.Status != fee.Issued {
		t.Fatalf("bill settled by another amount: %+v", b)
	}
	ns, err := svc.Notifications(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0].Unmatched != "amount" || ns[1].Unmatched != "amount" {
		t.Fatalf("notifications: %+v", ns)
	}
	before := len(fake.Requests())
	if err := svc.Tick(ctx, e.Clock.Now().Add(40*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rs := fake.Requests()[before:]; len(rs) != 0 {
		t.Fatalf("a mismatched order was queried again: %v", rs)
	}
	if got := storedPayment(t, e, p.ID); got.Status != payment.Pending {
		t.Fatalf("a mismatched order was closed: %+v", got)
	}
	rec := reconcile(finance, w.X.ID, e.Clock.Now().In(w.X.Location()).Format(time.DateOnly))
	if len(rec.Unmatched) != 1 || rec.Unmatched[0].Reason != "AMOUNT_MISMATCH" || rec.Unmatched[0].DifferenceFen != 9999 ||
		len(rec.UnmatchedNotifications) != 2 || rec.UnmatchedNotifications[0].Reason != "AMOUNT" || rec.UnmatchedNotifications[0].AmountFen != 1 ||
		rec.UnmatchedNotifications[0].Kind != "PAYMENT" || rec.UnmatchedNotifications[0].Source != "NOTIFY" || !rec.Balanced {
		t.Fatalf("reconciliation: %+v", rec)
	}

	// An order of our merchant account that no payment of ours opened.
	const unknown = "NOTOURS000000001"
	if _, err := e.App.Deps.WechatPay.PrepayApp(ctx, unknown, "其他", 500, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Pay(unknown); err != nil {
		t.Fatal(err)
	}
	for _, st := range notifyStatuses(t, fake, e, unknown) {
		if st/100 != 2 {
			t.Fatalf("notification of an unknown order answered %d", st)
		}
	}
	ns, err = svc.Notifications(ctx, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Unmatched != "unknown_order" || ns[0].Amount != 500 || ns[0].CommunityID != "" {
		t.Fatalf("unknown order: %+v", ns)
	}
}
