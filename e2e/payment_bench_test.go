package e2e

import (
	"fmt"
	"testing"

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
}
