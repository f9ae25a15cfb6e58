package e2e

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/fee"
	"qinqing/internal/platform/mongo"
)

// The counter PC resends recordPayment after a timeout with the same
// idempotency key: it gets the first payment back (one payment, one
// receipt number, the bill paid once); the same key with another amount
// is refused with CONFLICT naming the key.
func TestRecordPaymentIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	desk, finance := financeStaff(t, e, w)
	jan := insertBill(t, e, w.HA, "2026-01", 10000)
	// Refused (more than owed): nothing recorded, the key stays free for
	// the corrected request.
	desk.fails("BAD_USER_INPUT", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 10001, "idempotencyKey": "pc-7:2026-12-07:0001"}})
	in := map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 10000, "idempotencyKey": "pc-7:2026-12-07:0001"}
	p1 := recordPayment(desk, in)
	// The resend comes after the bill is paid in full: still the same payment.
	p2 := recordPayment(finance, in)
	if p1.ID != p2.ID || p2.ReceiptNumber != 1 || p2.Status != "SETTLED" {
		t.Fatalf("resent: %+v then %+v", p1, p2)
	}
	if b := bill(t, e, jan); b.Paid != 10000 || len(b.Allocations) != 1 {
		t.Fatalf("bill: %+v", b)
	}
	if n, err := e.DB.Collection("payments").CountDocuments(t.Context(), bson.D{}); err != nil || n != 1 {
		t.Fatalf("payments: %d %v", n, err)
	}
	other := map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 9000, "idempotencyKey": "pc-7:2026-12-07:0001"}
	r := desk.fails("CONFLICT", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`, map[string]any{"i": other})
	if !strings.Contains(r.Errors[0].Message, "idempotencyKey") {
		t.Fatalf("conflict message should name the key: %q", r.Errors[0].Message)
	}
	r = desk.fails("BAD_USER_INPUT", `mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 1, "idempotencyKey": strings.Repeat("k", 65)}})
	if r.field() != "input.idempotencyKey" {
		t.Fatalf("long key: %+v", r.Errors)
	}
	// Without a key every request is a payment.
	insertBill(t, e, w.HA, "2026-02", 10000)
	a := recordPayment(desk, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100})
	b := recordPayment(desk, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100})
	if a.ID == b.ID || b.ReceiptNumber != 3 {
		t.Fatalf("keyless payments: %+v %+v", a, b)
	}
}

// Two copies of each request, with the same key, at once on two servers:
// one payment per key, receipt numbers 1..N without gaps.
func TestRecordPaymentIdempotencyKeyOnTwoServers(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	e1 := startServer(t, db)
	e2 := startServer(t, db)
	w := e1.world()
	_, f1 := financeStaff(t, e1, w)
	f2 := e2.staff("x.finance", w.Password)
	insertBill(t, e1, w.HA, "2026-01", 1000000)
	const n = 8
	ids := make([][2]string, n)
	nums := make([]int, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		for j, c := range []*client{f1, f2} {
			wg.Go(func() {
				r := c.do(`mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id receiptNumber } }`,
					map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100 + i, "idempotencyKey": fmt.Sprintf("k-%d", i)}})
				if len(r.Errors) > 0 {
					t.Errorf("payment %d/%d: %+v", i, j, r.Errors)
					return
				}
				var out struct{ RecordPayment paymentOut }
				_ = jsonUnmarshal(r.Data, &out)
				mu.Lock()
				defer mu.Unlock()
				ids[i][j] = out.RecordPayment.ID
				if j == 0 {
					nums = append(nums, out.RecordPayment.ReceiptNumber)
				}
			})
		}
	}
	wg.Wait()
	for i, pair := range ids {
		if pair[0] == "" || pair[0] != pair[1] {
			t.Fatalf("key %d gave two payments: %v", i, pair)
		}
	}
	sort.Ints(nums)
	for i, v := range nums {
		if v != i+1 {
			t.Fatalf("receipt numbers %v: want 1..%d", nums, n)
		}
	}
	if c, err := db.Collection("payments").CountDocuments(t.Context(), bson.D{}); err != nil || c != n {
		t.Fatalf("payments: %d %v", c, err)
	}
	var paid int64
	for i := range n {
		paid += int64(100 + i)
	}
	if b := bill(t, e1, fee.BillID(w.X.ID, w.HA.ID, "2026-01")); b.Paid != paid {
		t.Fatalf("bill paid %d, want %d", b.Paid, paid)
	}
}
