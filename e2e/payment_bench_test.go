package e2e

import (
	"fmt"
	"testing"
	"time"

	"qinqing/internal/platform/mongo"
)

// BenchmarkRecordPayment reports the database round trips of one counter
// payment made over HTTP, paying one bill and three, against a bare signed-in
// query in the same run: the figure grows by a constant per bill (one
// guarded step), not with the household's history.
func BenchmarkRecordPayment(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	_, finance := financeStaff(b, e, w)
	b.Run("baseline", func(b *testing.B) {
		rt.request.Store(0)
		b.ReportAllocs()
		for b.Loop() {
			finance.ok(`{ me { kind } }`, nil, nil)
		}
		b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
	})
	for _, bills := range []int{1, 3} {
		b.Run(fmt.Sprintf("bills=%d", bills), func(b *testing.B) {
			rt.request.Store(0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				b.StopTimer()
				ids := make([]string, bills)
				for j := range ids {
					ids[j] = insertBill(b, e, w.HA, fmt.Sprintf("B%d-%06d-%d", bills, i, j), 100)
				}
				i++
				b.StartTimer()
				recordPayment(finance, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100 * bills, "billIds": ids})
			}
			b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
	// A counter PC's resend with the key of a payment already recorded.
	b.Run("resend", func(b *testing.B) {
		id := insertBill(b, e, w.HA, "R-000000", 100)
		in := map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100, "billIds": []string{id}, "idempotencyKey": "resend-1"}
		first := recordPayment(finance, in)
		rt.request.Store(0)
		b.ReportAllocs()
		for b.Loop() {
			if p := recordPayment(finance, in); p.ID != first.ID {
				b.Fatalf("resend recorded another payment: %+v", p)
			}
		}
		b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
	})
}

// BenchmarkPaymentReconciliation reports the database round trips of the
// finance clerk's daily reconciliation over HTTP as the community's
// history grows (payments of earlier days, each refunded in part), with
// the same five payments on the reconciled day: the figure must not grow
// with the history (the balance is summed in the database; the lists read
// the day's documents and the open ones through indexes).
func BenchmarkPaymentReconciliation(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	_, finance := financeStaff(b, e, w)
	dayBill := insertBill(b, e, w.HA, "2026-01", 1_000_000)
	today := e.Clock.Now()
	for range 5 {
		recordPayment(finance, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 100, "billIds": []string{dayBill}})
	}
	day := today.In(w.X.Location()).Format(time.DateOnly)
	const q = `query($c:ID!,$d:Date!){ paymentReconciliation(communityId:$c, date:$d){ count balanced refunds { refund { state } } unmatched { reason } } }`
	b.Run("baseline", func(b *testing.B) {
		rt.request.Store(0)
		b.ReportAllocs()
		for b.Loop() {
			finance.ok(`{ me { kind } }`, nil, nil)
		}
		b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
	})
	history := 0
	for _, size := range []int{20, 200} {
		for ; history < size; history++ {
			// Paid and refunded on an earlier day.
			e.Clock.Set(today.AddDate(0, 0, -1-history%60))
			bill := insertBill(b, e, w.HA, fmt.Sprintf("H-%04d", history), 300)
			p := recordPayment(finance, map[string]any{"householdId": w.HA.ID, "method": "CARD", "amountFen": 300, "billIds": []string{bill}})
			finance.ok(`mutation($p:ID!){ refundPayment(paymentId:$p, amountFen:100, reason:"多收"){ id } }`, map[string]any{"p": p.ID}, nil)
		}
		e.Clock.Set(today)
		b.Run(fmt.Sprintf("history=%d", size), func(b *testing.B) {
			rt.request.Store(0)
			b.ReportAllocs()
			for b.Loop() {
				var out struct {
					PaymentReconciliation struct {
						Count    int
						Balanced bool
					}
				}
				finance.ok(q, map[string]any{"c": w.X.ID, "d": day}, &out)
				if r := out.PaymentReconciliation; r.Count != 5 || !r.Balanced {
					b.Fatalf("reconciliation: %+v", r)
				}
			}
			b.ReportMetric(float64(rt.request.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
}
