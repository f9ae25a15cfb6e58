package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/payment"
	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

const wechatRefundQ = `mutation($p:ID!,$a:Fen!,$r:String!){ refundPayment(paymentId:$p, amountFen:$a, reason:$r){ id status refundedFen unallocatedFen
  refunds { id amountFen state outRefundNo wechatRefundId finishedAt failure bills { billId amountFen } } } }`

type refundedOut struct {
	ID, Status                  string
	RefundedFen, UnallocatedFen int64
	Refunds                     []struct {
		ID, State, OutRefundNo, WechatRefundID, Failure string
		AmountFen                                       int64
		FinishedAt                                      *time.Time
	}
}

func refundWechat(c *client, id string, amount int64) refundedOut {
	var out struct{ RefundPayment refundedOut }
	c.ok(wechatRefundQ, map[string]any{"p": id, "a": amount, "r": "重复缴费"}, &out)
	return out.RefundPayment
}

// paidByWechat opens a WeChat Pay order for h's chosen bills as its
// owner, pays it at the fake and delivers the notification: SETTLED.
func paidByWechat(t *testing.T, e *env, fake *wechatpaytest.Server, owner *client, h *household.Household, bills ...string) *payment.Payment {
	t.Helper()
	p := createWechat(owner, map[string]any{"householdId": h.ID, "billIds": bills, "channel": "APP"}).Payment
	if _, err := fake.Pay(p.ID); err != nil {
		t.Fatal(err)
	}
	notifyStatuses(t, fake, e, p.ID)
	got := storedPayment(t, e, p.ID)
	if got.Status != payment.Settled {
		t.Fatalf("payment %s not settled: %+v", p.ID, got)
	}
	return got
}

func notifyRefund(t *testing.T, fake *wechatpaytest.Server, e *env, outRefundNo string, opts ...wechatpaytest.NotifyOption) []int {
	t.Helper()
	st, err := fake.NotifyRefund(context.Background(), e.URL+"/pay/wechat/refund-notify", outRefundNo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func countActions(p *payment.Payment, action string) int {
	n := 0
	for _, e := range p.Timeline {
		if e.Action == action {
			n++
		}
	}
	return n
}

type reconOut struct {
	Balanced                     bool
	RefundTotalFen, PaymentsNet  int64
	BillsPaidFen, PaymentsNetFen int64
	Refunds, RefundsToCheck      []struct {
		Payment struct{ ID string }
		Refund  struct {
			ID, State string
			AmountFen int64
		}
	}
	Unmatched []struct {
		Reason        string
		DifferenceFen int64
		Payment       struct{ ID string }
	}
	UnmatchedNotifications []struct {
		Kind, Source, OutTradeNo, Reason string
		AmountFen                        int64
	}
}

const reconQ = `query($c:ID!,$d:Date!){ paymentReconciliation(communityId:$c, date:$d){ balanced refundTotalFen billsPaidFen paymentsNetFen
  refunds { payment { id } refund { id state amountFen } } refundsToCheck { payment { id } refund { id state amountFen } }
  unmatched { reason differenceFen payment { id } } unmatchedNotifications { kind source outTradeNo reason amountFen } } }`

func reconcile(c *client, communityID, day string) reconOut {
	var out struct{ PaymentReconciliation reconOut }
	c.ok(reconQ, map[string]any{"c": communityID, "d": day}, &out)
	return out.PaymentReconciliation
}

// A WeChat Pay payment made in error is refunded through WeChat Pay, in
// part and then in full: the bills reopen newest first, the refund is
// recorded before WeChat is asked, WeChat's outcome (answer or
// notification, delivered twice) is recorded once, and the receipt and the
// reconciliation show it. Only finance and supervisors refund.
func TestWechatRefundPartialThenFull(t *testing.T) {
	e, fake := newWechatEnv(t)
	w := e.world()
	desk, finance := financeStaff(t, e, w)
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	feb := insertBill(t, e, w.HA, "2026-02", 8000)
	ownerA := e.owner("13900000001")
	p := paidByWechat(t, e, fake, ownerA, w.HA, jan, feb)

	// Who may refund: not the front desk, not the payer, not another
	// community's supervisor (who does not see it at all).
	args := map[string]any{"p": p.ID, "a": 100, "r": "重复缴费"}
	desk.fails("FORBIDDEN", wechatRefundQ, args)
	ownerA.fails("FORBIDDEN", wechatRefundQ, args)
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", wechatRefundQ, args)

	// Part: WeChat answers SUCCESS at once; February (newest) reopens.
	r1 := refundWechat(finance, p.ID, 8000)
	if r1.Status != "PARTLY_REFUNDED" || r1.RefundedFen != 8000 || len(r1.Refunds) != 1 || r1.Refunds[0].State != "SUCCESS" ||
		r1.Refunds[0].OutRefundNo != r1.Refunds[0].ID || r1.Refunds[0].WechatRefundID == "" || r1.Refunds[0].FinishedAt == nil {
		t.Fatalf("partial refund: %+v", r1)
	}
	if u := fake.RefundNotifyURL(r1.Refunds[0].ID); u != "https://pay.example.com/pay/wechat/refund-notify" {
		t.Fatalf("refund notify_url: %q", u)
	}
	if b := bill(t, e, feb); b.Status != fee.Issued || b.Paid != 0 {
		t.Fatalf("february after refund: %+v", b)
	}
	if b := bill(t, e, jan); b.Status != fee.Paid || b.Paid != 10000 {
		t.Fatalf("january after partial refund: %+v", b)
	}

	// The rest: WeChat says PROCESSING; recorded, January reopens at once;
	// another refund waits for the outcome.
	fake.RefundStatus(wechatpay.RefundProcessing)
	r2 := refundWechat(finance, p.ID, 10000)
	second := r2.Refunds[1]
	if r2.Status != "REFUNDED" || r2.RefundedFen != 18000 || second.State != "PROCESSING" || second.FinishedAt != nil {
		t.Fatalf("full refund: %+v", r2)
	}
	if b := bill(t, e, jan); b.Status != fee.Issued || b.Paid != 0 {
		t.Fatalf("january after full refund: %+v", b)
	}
	finance.fails("CONFLICT", wechatRefundQ, args)

	// A forged refund notification changes nothing and is not recorded.
	if err := fake.FinishRefund(second.ID, wechatpay.RefundSuccess); err != nil {
		t.Fatal(err)
	}
	for _, st := range notifyRefund(t, fake, e, second.ID, wechatpaytest.BadSignature()) {
		if st/100 == 2 {
			t.Fatalf("forged refund notification answered %d", st)
		}
	}
	if got := storedPayment(t, e, p.ID); got.Refunds[1].State != payment.RefundProcessing {
		t.Fatalf("forged refund notification applied: %+v", got.Refunds[1])
	}
	// The real one, delivered twice: applied once, both recorded.
	for _, st := range notifyRefund(t, fake, e, second.ID, wechatpaytest.Twice()) {
		if st/100 != 2 {
			t.Fatalf("refund notification answered %d", st)
		}
	}
	got := storedPayment(t, e, p.ID)
	if got.Refunds[1].State != payment.RefundSuccess || got.Refunds[1].WechatID == "" || countActions(got, "wechat_refund") != 2 {
		t.Fatalf("after refund notification: %+v", got)
	}
	ns, err := e.App.Services.Payments.RefundNotifications(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0].Duplicate || !ns[1].Duplicate || ns[0].OutRefundNo != second.ID || ns[0].Unmatched != "" {
		t.Fatalf("refund notifications: %+v", ns)
	}
	// The query job has nothing left to ask.
	before := len(fake.Requests())
	if err := e.App.Services.Payments.Tick(context.Background(), e.Clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rs := fake.Requests()[before:]; slices.ContainsFunc(rs, func(r string) bool { return strings.Contains(r, "/refund/") }) {
		t.Fatalf("settled refunds queried again: %v", rs)
	}

	// The owner's receipt shows both refunds.
	var rc struct {
		Receipt struct {
			Payment struct {
				Status      string
				RefundedFen int64
				Refunds     []struct{ State string }
			}
		}
	}
	ownerA.ok(`query($p:ID){ receipt(paymentId:$p){ payment { status refundedFen refunds { state } } } }`, map[string]any{"p": p.ID}, &rc)
	if rp := rc.Receipt.Payment; rp.Status != "REFUNDED" || rp.RefundedFen != 18000 || len(rp.Refunds) != 2 || rp.Refunds[1].State != "SUCCESS" {
		t.Fatalf("receipt: %+v", rc)
	}
	rec := reconcile(finance, w.X.ID, e.Clock.Now().In(w.X.Location()).Format(time.DateOnly))
	if !rec.Balanced || rec.RefundTotalFen != 18000 || len(rec.Refunds) != 2 || rec.Refunds[1].Refund.State != "SUCCESS" ||
		rec.PaymentsNetFen != 0 || rec.BillsPaidFen != 0 || len(rec.RefundsToCheck) != 0 || len(rec.Unmatched) != 0 {
		t.Fatalf("reconciliation: %+v", rec)
	}
}
