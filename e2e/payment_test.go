package e2e

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/payment"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/staff"
)

// insertBill stores a bill for h and period as bill generation would.
// It stands in for generateBills (part F1 of issue 13), which these tests
// will use once it is merged.
func insertBill(t testing.TB, e *env, h *household.Household, period string, amount int64) string {
	t.Helper()
	now := e.Clock.Now()
	b := fee.Bill{ID: fee.BillID(h.CommunityID, h.ID, period), CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID,
		Label: h.Label, Period: period, Amount: amount, Status: fee.Issued, DueDate: period + "-15",
		Lines:       []fee.Line{{ItemID: "mgmt", ItemVersion: 1, Code: "MGMT", Kind: fee.Management, Name: "物业管理费", Quantity: "89.50 m²", UnitPrice: 250, Amount: amount}},
		Allocations: []fee.Allocation{}, Timeline: []lifecycle.Entry{}, IssuedAt: now, UpdatedAt: now, SortKey: period}
	if _, err := e.DB.Collection("bills").InsertOne(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func bill(t *testing.T, e *env, id string) *fee.Bill {
	t.Helper()
	b, err := mongo.FindByID[fee.Bill](context.Background(), e.DB.Collection("bills"), id, fee.ErrBillNotFound)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// financeStaff adds a front-desk clerk and a finance clerk of community x.
func financeStaff(t testing.TB, e *env, w *world) (desk, finance *client) {
	t.Helper()
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	for acct, role := range map[string]access.Role{"x.desk": access.CustomerService, "x.finance": access.Finance} {
		if _, err := e.App.Services.Staff.Upsert(context.Background(), &staff.Staff{Account: acct, Name: acct, PasswordHash: hash,
			Roles: []access.Role{role}, CommunityIDs: []string{w.X.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	return e.staff("x.desk", w.Password), e.staff("x.finance", w.Password)
}

const paymentFields = `id status method amountFen receiptNo receiptNumber recordedBy unallocatedFen refundedFen
  allocations { billId period amountFen } refunds { amountFen reason bills { billId amountFen } }`

type paymentOut struct {
	ID, Status, Method, ReceiptNo, RecordedBy string
	ReceiptNumber                             int
	AmountFen, UnallocatedFen, RefundedFen    int64
	Allocations                               []struct {
		BillID, Period string
		AmountFen      int64
	}
}

func recordPayment(c *client, vars map[string]any) paymentOut {
	var out struct{ RecordPayment paymentOut }
	c.ok(`mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ `+paymentFields+` } }`, map[string]any{"i": vars}, &out)
	return out.RecordPayment
}

func TestCounterPaymentsReceiptsRefundsAndReconciliation(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	desk, finance := financeStaff(t, e, w)
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	feb := insertBill(t, e, w.HA, "2026-02", 10000)
	mar := insertBill(t, e, w.HA, "2026-03", 10000)
	insertBill(t, e, w.HB, "2025-12", 5000)

	// More than the open bills owe is refused, naming the field and the total.
	r := desk.fails("BAD_USER_INPUT", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 30001}})
	if r.field() != "input.amountFen" {
		t.Fatalf("over-payment: %+v", r.Errors)
	}
	if msg := r.Errors[0].Message; !strings.Contains(msg, "300.00") {
		t.Fatalf("over-payment message should name the outstanding total: %q", msg)
	}

	// Oldest bill first.
	p1 := recordPayment(desk, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 15000})
	if p1.Status != "SETTLED" || p1.ReceiptNo != "000001" || p1.ReceiptNumber != 1 || p1.RecordedBy != "x.desk" || len(p1.Allocations) != 2 ||
		p1.Allocations[0].Period != "2026-01" || p1.Allocations[0].AmountFen != 10000 || p1.Allocations[1].Period != "2026-02" || p1.Allocations[1].AmountFen != 5000 {
		t.Fatalf("oldest first: %+v", p1)
	}
	if b := bill(t, e, jan); b.Status != fee.Paid || b.Paid != 10000 {
		t.Fatalf("january: %+v", b)
	}
	if b := bill(t, e, feb); b.Status != fee.PartlyPaid || b.Paid != 5000 {
		t.Fatalf("february: %+v", b)
	}
	// Chosen bills, in the order chosen; a paid bill cannot be chosen.
	p2 := recordPayment(finance, map[string]any{"householdId": w.HA.ID, "method": "BANK_TRANSFER", "amountFen": 3000, "billIds": []string{mar}, "reference": "TX-889"})
	if p2.ReceiptNumber != 2 || len(p2.Allocations) != 1 || p2.Allocations[0].BillID != mar {
		t.Fatalf("chosen: %+v", p2)
	}
	r = desk.fails("BAD_USER_INPUT", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CARD", "amountFen": 100, "billIds": []string{jan}}})
	if r.field() != "input.billIds" {
		t.Fatalf("paid bill chosen: %+v", r.Errors)
	}

	// Allocating the same payment twice counts it once.
	if _, err := e.App.Services.Payments.Fees().Allocate(context.Background(), feb, p1.ID, 5000, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b := bill(t, e, feb); b.Paid != 5000 || len(b.Allocations) != 1 {
		t.Fatalf("allocated twice: %+v", b)
	}

	// Receipts: the owner opens theirs; another household's owner and
	// staff of another community do not find it; nor record for it.
	const receiptQ = `query($p:ID){ receipt(paymentId:$p){ receiptNo communityName householdLabel recordedBy payment { method amountFen allocations { period amountFen } paidAt } } }`
	var rc struct {
		Receipt struct {
			ReceiptNo, CommunityName, HouseholdLabel, RecordedBy string
			Payment                                              struct {
				Method    string
				AmountFen int64
			}
		}
	}
	ownerA := e.owner("13900000001")
	ownerA.ok(receiptQ, map[string]any{"p": p1.ID}, &rc)
	if rc.Receipt.ReceiptNo != "000001" || rc.Receipt.CommunityName != w.X.Name || rc.Receipt.HouseholdLabel != w.HA.Label || rc.Receipt.Payment.AmountFen != 15000 {
		t.Fatalf("receipt: %+v", rc)
	}
	var byNo struct{ Receipt struct{ ReceiptNo string } }
	finance.ok(`query($c:ID,$n:Int){ receipt(communityId:$c, number:$n){ receiptNo } }`, map[string]any{"c": w.X.ID, "n": 2}, &byNo)
	if byNo.Receipt.ReceiptNo != "000002" {
		t.Fatalf("by number: %+v", byNo)
	}
	e.owner("13900000002").fails("NOT_FOUND", receiptQ, map[string]any{"p": p1.ID})
	supY := e.staff(w.supervisorY, w.Password)
	supY.fails("NOT_FOUND", receiptQ, map[string]any{"p": p1.ID})
	supY.fails("NOT_FOUND", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100}})
	e.staff(w.engineerX, w.Password).fails("FORBIDDEN", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100}})

	// The owners hear of it, once per payment.
	n, err := e.DB.Collection("notifications").CountDocuments(context.Background(), bson.D{{Key: "kind", Value: "FEE_PAYMENT_RECEIVED"}, {Key: "recipientId", Value: w.OwnerA.ID}})
	if err != nil || n != 2 {
		t.Fatalf("payment notices: %d %v", n, err)
	}

	// Refund: newest bills first; the front desk may not.
	const refundQ = `mutation($p:ID!,$a:Fen!,$r:String!){ refundPayment(paymentId:$p, amountFen:$a, reason:$r){ ` + paymentFields + ` } }`
	desk.fails("FORBIDDEN", refundQ, map[string]any{"p": p1.ID, "a": 100, "r": "收错"})
	r = finance.fails("BAD_USER_INPUT", refundQ, map[string]any{"p": p1.ID, "a": 15001, "r": "收错"})
	if r.field() != "amountFen" {
		t.Fatalf("refund too large: %+v", r.Errors)
	}
	var rf struct{ RefundPayment paymentOut }
	finance.ok(refundQ, map[string]any{"p": p1.ID, "a": 6000, "r": "多收了 60 元"}, &rf)
	if rf.RefundPayment.Status != "PARTLY_REFUNDED" || rf.RefundPayment.RefundedFen != 6000 {
		t.Fatalf("refund: %+v", rf)
	}
	if b := bill(t, e, feb); b.Paid != 0 || b.Status != fee.Issued || len(b.Allocations) != 0 {
		t.Fatalf("february after refund: %+v", b)
	}
	if b := bill(t, e, jan); b.Paid != 9000 || b.Status != fee.PartlyPaid || b.Allocations[0].Amount != 9000 {
		t.Fatalf("january after refund: %+v", b)
	}

	// The day's reconciliation.
	var rec struct {
		PaymentReconciliation struct {
			Count                                                                      int
			TotalFen, RefundTotalFen, BillsPaidFen, BillAllocationsFen, PaymentsNetFen int64
			Balanced                                                                   bool
			ByMethod                                                                   []struct {
				Method   string
				Count    int
				TotalFen int64
			}
			Unmatched []struct{ Reason string }
		}
	}
	const recQ = `query($c:ID!,$d:Date!){ paymentReconciliation(communityId:$c, date:$d){ count totalFen refundTotalFen billsPaidFen billAllocationsFen paymentsNetFen balanced byMethod { method count totalFen } unmatched { reason } } }`
	day := e.Clock.Now().In(w.X.Location()).Format(time.DateOnly)
	finance.ok(recQ, map[string]any{"c": w.X.ID, "d": day}, &rec)
	pr := rec.PaymentReconciliation
	if pr.Count != 2 || pr.TotalFen != 18000 || pr.RefundTotalFen != 6000 || pr.BillsPaidFen != 12000 || pr.PaymentsNetFen != 12000 || !pr.Balanced || len(pr.Unmatched) != 0 {
		t.Fatalf("reconciliation: %+v", pr)
	}
	if pr.ByMethod[0].Method != "CASH" || pr.ByMethod[0].TotalFen != 15000 || pr.ByMethod[2].Method != "BANK_TRANSFER" || pr.ByMethod[2].Count != 1 {
		t.Fatalf("by method: %+v", pr.ByMethod)
	}
	desk.fails("FORBIDDEN", recQ, map[string]any{"c": w.X.ID, "d": day})
	supY.fails("NOT_FOUND", recQ, map[string]any{"c": w.X.ID, "d": day})
}

// A payment left SETTLING by a server that died after allocating one of its
// two bills is finished by the sweeper: both bills allocated once, numbered,
// settled; sweeping again changes nothing.
func TestSweeperFinishesSettlingPayments(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	feb := insertBill(t, e, w.HA, "2026-02", 10000)
	created := e.Clock.Now().Add(-2 * time.Minute)
	p := payment.Payment{ID: mongo.NewID(), CommunityID: w.X.ID, BuildingID: w.HA.BuildingID, HouseholdID: w.HA.ID, Label: w.HA.Label,
		Method: payment.Cash, Amount: 12000, Status: payment.Settling, RecordedBy: "x.desk", RecordedByName: "x.desk", PaidAt: created,
		Day: created.In(w.X.Location()).Format(time.DateOnly), Allocations: []payment.Planned{{BillID: jan, Period: "2026-01", Amount: 10000}, {BillID: feb, Period: "2026-02", Amount: 2000}},
		Refunds: []payment.Refund{}, RefundDays: []string{}, Timeline: []lifecycle.Entry{}, CreatedAt: created, UpdatedAt: created}
	if _, err := e.DB.Collection("payments").InsertOne(ctx, p); err != nil {
		t.Fatal(err)
	}
	svc := e.App.Services.Payments
	if _, err := svc.Fees().Allocate(ctx, jan, p.ID, 10000, created); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := svc.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := mongo.FindByID[payment.Payment](ctx, e.DB.Collection("payments"), p.ID, payment.ErrNotFound)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != payment.Settled || got.ReceiptNo != 1 || got.Unallocated != 0 {
		t.Fatalf("swept: %+v", got)
	}
	if b := bill(t, e, jan); b.Paid != 10000 || len(b.Allocations) != 1 {
		t.Fatalf("january: %+v", b)
	}
	if b := bill(t, e, feb); b.Paid != 2000 || len(b.Allocations) != 1 {
		t.Fatalf("february: %+v", b)
	}

	// A planned bill cancelled before the payment settled: the money is
	// kept on the payment as unallocated and the reconciliation lists it,
	// as it lists a WeChat order pending for too long.
	mar := insertBill(t, e, w.HA, "2026-03", 10000)
	if _, err := e.DB.Collection("bills").UpdateOne(ctx, bson.D{{Key: "_id", Value: mar}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: fee.Cancelled}}}}); err != nil {
		t.Fatal(err)
	}
	q := p
	q.ID, q.Amount, q.Allocations = mongo.NewID(), 3000, []payment.Planned{{BillID: mar, Period: "2026-03", Amount: 3000}}
	pending := p
	pending.ID, pending.Status, pending.Method, pending.Allocations = mongo.NewID(), payment.Pending, payment.Wechat, []payment.Planned{}
	pending.CreatedAt = e.Clock.Now().Add(-20 * time.Minute)
	if _, err := e.DB.Collection("payments").InsertMany(ctx, []any{q, pending}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	hash, _ := identity.HashPassword(w.Password)
	if _, err := e.App.Services.Staff.Upsert(ctx, &staff.Staff{Account: "x.finance", Name: "x.finance", PasswordHash: hash, Roles: []access.Role{access.Finance}, CommunityIDs: []string{w.X.ID}}); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PaymentReconciliation struct {
			Count     int
			Balanced  bool
			Unmatched []struct {
				Reason        string
				DifferenceFen int64
			}
		}
	}
	e.staff("x.finance", w.Password).ok(`query($c:ID!,$d:Date!){ paymentReconciliation(communityId:$c, date:$d){ count balanced unmatched { reason differenceFen } } }`,
		map[string]any{"c": w.X.ID, "d": p.Day}, &rec)
	pr := rec.PaymentReconciliation
	reasons := map[string]int64{}
	for _, u := range pr.Unmatched {
		reasons[u.Reason] = u.DifferenceFen
	}
	if pr.Count != 2 || !pr.Balanced || len(pr.Unmatched) != 2 || reasons["UNALLOCATED"] != 3000 || reasons["STUCK"] != 12000 {
		t.Fatalf("reconciliation with unmatched payments: %+v", pr)
	}
}

// Payments taken at once on two servers over one database get receipt
// numbers 1..N: no gap, no duplicate.
func TestReceiptNumbersWithoutGapsOnTwoServers(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	e1 := startServer(t, db)
	e2 := startServer(t, db)
	w := e1.world()
	_, f1 := financeStaff(t, e1, w)
	f2 := e2.staff("x.finance", w.Password)
	hs := []*household.Household{w.HA, w.HB, w.HC}
	for _, h := range hs {
		insertBill(t, e1, h, "2026-01", 1000000)
	}
	const n = 24
	nums := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		c := f1
		if i%2 == 1 {
			c = f2
		}
		wg.Go(func() {
			var out struct{ RecordPayment paymentOut }
			r := c.do(`mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ receiptNumber status } }`,
				map[string]any{"i": map[string]any{"householdId": hs[i%len(hs)].ID, "method": "CASH", "amountFen": 100 + i}})
			if len(r.Errors) > 0 {
				t.Errorf("payment %d: %+v", i, r.Errors)
				return
			}
			_ = jsonUnmarshal(r.Data, &out)
			nums[i] = out.RecordPayment.ReceiptNumber
		})
	}
	wg.Wait()
	sort.Ints(nums)
	for i, v := range nums {
		if v != i+1 {
			t.Fatalf("receipt numbers %v: want 1..%d", nums, n)
		}
	}
	var paid int64
	for _, h := range hs {
		paid += bill(t, e1, fee.BillID(w.X.ID, h.ID, "2026-01")).Paid
	}
	if want := int64(n*100 + n*(n-1)/2); paid != want {
		t.Fatalf("bills paid %d, want %d", paid, want)
	}
}
