package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/app"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/payment"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/platform/wechatpay/wechatpaytest"
)

// newWechatEnv starts a server whose WeChat Pay client reaches a local
// fake of WeChat Pay, signing and verifying as production does.
func newWechatEnv(t *testing.T) (*env, *wechatpaytest.Server) {
	t.Helper()
	fake := wechatpaytest.New(t, wechatpaytest.NewMerchant(t))
	// WeChat posts to the notify URL of the order; the tests post to the
	// server's address themselves, so the URL is only recorded.
	c, err := wechatpay.New(fake.Config("https://pay.example.com/pay/wechat/notify"))
	if err != nil {
		t.Fatal(err)
	}
	db := mongo.NewTestDB(t, mongo.Options{})
	e := startServerWithDeps(t, db, testConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(d *app.Deps) { d.WechatPay = c })
	return e, fake
}

// bindWechat binds an openid to a person as the mini program login does.
func bindWechat(t *testing.T, e *env, p *household.Person, openID string) {
	t.Helper()
	if _, err := e.DB.Collection("wechat_bindings").InsertOne(context.Background(),
		bson.D{{Key: "_id", Value: openID}, {Key: "personId", Value: p.ID}, {Key: "boundAt", Value: e.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
}

const createWechatQ = `mutation($i:CreateWechatPaymentInput!){ createWechatPayment(input:$i){
  payment { ` + paymentFields + ` expiresAt } miniProgram { appId package paySign } app { partnerId prepayId sign } } }`

type wechatOrderOut struct {
	Payment     paymentOut
	MiniProgram *struct{ AppID, Package, PaySign string }
	App         *struct{ PartnerID, PrepayID, Sign string }
}

func createWechat(c *client, vars map[string]any) wechatOrderOut {
	var out struct{ CreateWechatPayment wechatOrderOut }
	c.ok(createWechatQ, map[string]any{"i": vars}, &out)
	return out.CreateWechatPayment
}

func storedPayment(t *testing.T, e *env, id string) *payment.Payment {
	t.Helper()
	p, err := mongo.FindByID[payment.Payment](context.Background(), e.DB.Collection("payments"), id, payment.ErrNotFound)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func notifyStatuses(t *testing.T, fake *wechatpaytest.Server, e *env, id string, opts ...wechatpaytest.NotifyOption) []int {
	t.Helper()
	st, err := fake.Notify(context.Background(), e.URL+"/pay/wechat/notify", id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWechatPayNotifiedTwiceSettlesOnce(t *testing.T) {
	e, fake := newWechatEnv(t)
	w := e.world()
	ctx := context.Background()
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	feb := insertBill(t, e, w.HA, "2026-02", 8000)
	hb := insertBill(t, e, w.HB, "2026-01", 5000)
	bindWechat(t, e, w.OwnerA, "o-owner-a")
	ownerA, ownerB := e.owner("13900000001"), e.owner("13900000002")

	// Another household's bills: not found, whichever way they are named.
	ownerA.fails("NOT_FOUND", createWechatQ, map[string]any{"i": map[string]any{"householdId": w.HB.ID, "channel": "APP"}})
	ownerA.fails("NOT_FOUND", createWechatQ, map[string]any{"i": map[string]any{"householdId": w.HA.ID, "billIds": []string{hb}, "channel": "APP"}})
	// The mini program needs the payer's WeChat account.
	if r := ownerB.fails("BAD_USER_INPUT", createWechatQ, map[string]any{"i": map[string]any{"householdId": w.HB.ID, "channel": "MINI_PROGRAM"}}); len(r.Errors) == 0 {
		t.Fatal("no error")
	}

	o := createWechat(ownerA, map[string]any{"householdId": w.HA.ID, "channel": "MINI_PROGRAM"})
	p := o.Payment
	if p.Status != "PENDING" || p.Method != "WECHAT" || p.AmountFen != 18000 || len(p.Allocations) != 2 || p.ReceiptNo != "" ||
		o.MiniProgram == nil || o.MiniProgram.PaySign == "" || len(o.MiniProgram.Package) < 10 || o.App != nil {
		t.Fatalf("order: %+v", o)
	}
	if _, err := fake.Pay(p.ID); err != nil {
		t.Fatal(err)
	}
	for _, st := range notifyStatuses(t, fake, e, p.ID, wechatpaytest.Twice()) {
		if st/100 != 2 {
			t.Fatalf("notification answered %d", st)
		}
	}
	got := storedPayment(t, e, p.ID)
	if got.Status != payment.Settled || got.ReceiptNo != 1 || got.TransactionID == "" {
		t.Fatalf("settled: %+v", got)
	}
	if b := bill(t, e, jan); b.Status != fee.Paid || b.Paid != 10000 || len(b.Allocations) != 1 {
		t.Fatalf("january: %+v", b)
	}
	if b := bill(t, e, feb); b.Status != fee.Paid || b.Paid != 8000 || len(b.Allocations) != 1 {
		t.Fatalf("february: %+v", b)
	}
	ns, err := e.App.Services.Payments.Notifications(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0].Duplicate || !ns[1].Duplicate || ns[0].TransactionID != got.TransactionID || ns[1].Amount != 18000 || ns[0].Unmatched != "" {
		t.Fatalf("notifications: %+v", ns)
	}
	// The owner reads the receipt.
	var rc struct{ Receipt struct{ ReceiptNo string } }
	ownerA.ok(`query($p:ID){ receipt(paymentId:$p){ receiptNo } }`, map[string]any{"p": p.ID}, &rc)
	if rc.Receipt.ReceiptNo != "000001" {
		t.Fatalf("receipt: %+v", rc)
	}
	// Nothing is left to pay: a new order is refused.
	ownerA.fails("BAD_USER_INPUT", createWechatQ, map[string]any{"i": map[string]any{"householdId": w.HA.ID, "channel": "APP"}})
}

func TestWechatPayQueryTamperedAndExpired(t *testing.T) {
	e, fake := newWechatEnv(t)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services.Payments
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	hb := insertBill(t, e, w.HB, "2026-01", 5000)
	ownerA, ownerB := e.owner("13900000001"), e.owner("13900000002")

	// Paid, but the notification never arrives: the query job settles it.
	pa := createWechat(ownerA, map[string]any{"householdId": w.HA.ID, "billIds": []string{jan}, "channel": "APP"}).Payment
	// Tampered and badly signed notifications are refused and settle nothing.
	pb := createWechat(ownerB, map[string]any{"householdId": w.HB.ID, "channel": "APP"}).Payment
	for _, id := range []string{pa.ID, pb.ID} {
		if _, err := fake.Pay(id); err != nil {
			t.Fatal(err)
		}
	}
	notifyStatuses(t, fake, e, pa.ID, wechatpaytest.Dropped())
	for _, opt := range []wechatpaytest.NotifyOption{wechatpaytest.Tampered(), wechatpaytest.BadSignature()} {
		for _, st := range notifyStatuses(t, fake, e, pb.ID, opt) {
			if st/100 == 2 {
				t.Fatalf("forged notification answered %d", st)
			}
		}
	}
	if got := storedPayment(t, e, pb.ID); got.Status != payment.Pending || got.TransactionID != "" {
		t.Fatalf("forged notification settled: %+v", got)
	}
	if b := bill(t, e, hb); b.Paid != 0 {
		t.Fatalf("forged notification paid the bill: %+v", b)
	}
	if ns, _ := svc.Notifications(ctx, pb.ID); len(ns) != 0 {
		t.Fatalf("forged notifications recorded: %+v", ns)
	}

	// A fresh order is left to its notification; a few minutes on, the
	// job asks WeChat and settles both paid orders.
	if err := svc.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := storedPayment(t, e, pa.ID); got.Status != payment.Pending {
		t.Fatalf("queried too early: %+v", got)
	}
	for range 2 {
		if err := svc.Tick(ctx, e.Clock.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	a := storedPayment(t, e, pa.ID)
	if a.Status != payment.Settled || a.ReceiptNo == 0 {
		t.Fatalf("query job: %+v", a)
	}
	if b := bill(t, e, jan); b.Paid != 10000 || len(b.Allocations) != 1 {
		t.Fatalf("january: %+v", b)
	}
	// The notification arriving after the query settled it changes nothing.
	notifyStatuses(t, fake, e, pa.ID, wechatpaytest.Twice())
	if got := storedPayment(t, e, pa.ID); got.ReceiptNo != a.ReceiptNo || got.Version != a.Version {
		t.Fatalf("late notification: %+v", got)
	}
	if b := bill(t, e, jan); b.Paid != 10000 || len(b.Allocations) != 1 {
		t.Fatalf("january after late notification: %+v", b)
	}
	ns, err := svc.Notifications(ctx, pa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 3 || ns[0].Source != payment.FromQuery || ns[0].Duplicate || !ns[1].Duplicate || !ns[2].Duplicate {
		t.Fatalf("notifications after query: %+v", ns)
	}
	if b := storedPayment(t, e, pb.ID); b.Status != payment.Settled {
		t.Fatalf("query job, household B: %+v", b)
	}

	// An order never paid is closed after it expires, and not before.
	feb := insertBill(t, e, w.HA, "2026-02", 7000)
	pc := createWechat(ownerA, map[string]any{"householdId": w.HA.ID, "billIds": []string{feb}, "channel": "APP"}).Payment
	if err := svc.Tick(ctx, e.Clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := storedPayment(t, e, pc.ID); got.Status != payment.Pending {
		t.Fatalf("closed before expiry: %+v", got)
	}
	if err := svc.Tick(ctx, e.Clock.Now().Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := storedPayment(t, e, pc.ID); got.Status != payment.Closed {
		t.Fatalf("expired order: %+v", got)
	}
	if b := bill(t, e, feb); b.Paid != 0 || b.Status != fee.Issued {
		t.Fatalf("february: %+v", b)
	}
	// The reconciliation balances and counts no money for the closed order.
	_, finance := financeStaff(t, e, w)
	var rec struct {
		PaymentReconciliation struct {
			Balanced       bool
			PaymentsNetFen int64
		}
	}
	finance.ok(`query($c:ID!,$d:Date!){ paymentReconciliation(communityId:$c, date:$d){ balanced paymentsNetFen } }`,
		map[string]any{"c": w.X.ID, "d": storedPayment(t, e, pc.ID).Day}, &rec)
	if r := rec.PaymentReconciliation; !r.Balanced || r.PaymentsNetFen != 15000 {
		t.Fatalf("reconciliation: %+v", r)
	}
}

// Without WECHATPAY_MCH_ID the server runs with WeChat Pay off and says so.
func TestWechatPayOff(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	insertBill(t, e, w.HA, "2026-01", 10000)
	r := e.owner("13900000001").fails("UNAVAILABLE", createWechatQ, map[string]any{"i": map[string]any{"householdId": w.HA.ID, "channel": "APP"}})
	if r.Errors[0].Message != "微信支付暂未开通，请到物业服务中心缴费" {
		t.Fatalf("message: %q", r.Errors[0].Message)
	}
	resp, err := http.Post(e.URL+"/pay/wechat/notify", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		t.Fatalf("notify route without WeChat Pay: %d", resp.StatusCode)
	}
}

// A tenant pays the household's bills only when its owners let tenants
// see them.
func TestWechatPayTenant(t *testing.T) {
	e, _ := newWechatEnv(t)
	w := e.world()
	insertBill(t, e, w.HA, "2026-01", 10000)
	if _, err := e.App.Services.Households.AddMember(context.Background(), w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "租客", Phone: "13900000099"}, Role: access.Tenant}); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"i": map[string]any{"householdId": w.HA.ID, "channel": "APP"}}
	tenant := e.owner("13900000099")
	tenant.fails("NOT_FOUND", createWechatQ, in)
	e.owner("13900000001").ok(`mutation($h:ID!,$a:Boolean!){ setTenantBillAccess(householdId:$h, allowed:$a) }`,
		map[string]any{"h": w.HA.ID, "a": true}, nil)
	var out struct{ CreateWechatPayment wechatOrderOut }
	tenant.ok(createWechatQ, in, &out)
	if p := out.CreateWechatPayment.Payment; p.Status != "PENDING" || p.AmountFen != 10000 || out.CreateWechatPayment.App == nil {
		t.Fatalf("tenant order: %+v", out.CreateWechatPayment)
	}
}
