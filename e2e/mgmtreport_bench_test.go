package e2e

import (
	"fmt"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

// BenchmarkManagementReport reports database round trips and allocations
// per generateManagementReport (a draft refreshed from the record), per
// managementReport read and per PDF, beside a bare authenticated query in
// the same run, at two sizes of the month's inspections: generating must
// not grow with the records (one streamed query per source, never one per
// record).
func BenchmarkManagementReport(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	e.staffWithRole(w, "x.inspector", access.Inspector)
	recorded := 0
	record := func(n int) {
		e.Clock.Set(time.Date(2026, 11, 28, 10, 0, 0, 0, shanghaiZone))
		in := e.staff("x.inspector", w.Password)
		for ; recorded < n; recorded++ {
			in.ok(recordInspectionQ, map[string]any{"in": lobbyInspection(w.X.ID, fmt.Sprintf("bench-%04d", recorded),
				time.Date(2026, 11, 28, 9, 0, recorded, 0, shanghaiZone), recorded%3)}, nil)
		}
		e.Clock.Set(time.Date(2026, 12, 2, 10, 0, 0, 0, shanghaiZone))
	}
	run := func(name string, do func()) {
		b.Run(name, func(b *testing.B) {
			do()
			rt.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				do()
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
	for _, n := range []int{5, 20} {
		record(n)
		c := e.staff(w.supervisorX, w.Password)
		var g struct{ GenerateManagementReport struct{ ID, PdfURL string } }
		generate := `mutation($c:ID!){ generateManagementReport(communityId:$c, period:"2026-11"){ id pdfUrl } }`
		c.ok(generate, map[string]any{"c": w.X.ID}, &g)
		run(fmt.Sprintf("baseline=me/inspections=%d", n), func() { c.ok(`{ me { kind } }`, nil, nil) })
		run(fmt.Sprintf("generate/inspections=%d", n), func() { c.ok(generate, map[string]any{"c": w.X.ID}, nil) })
		run(fmt.Sprintf("read/inspections=%d", n), func() {
			c.ok(`query($id:ID!){ managementReport(id:$id){ `+reportFields+` comments { text } } }`, map[string]any{"id": g.GenerateManagementReport.ID}, nil)
		})
		run(fmt.Sprintf("pdf/inspections=%d", n), func() {
			if status, _, _ := c.get(g.GenerateManagementReport.PdfURL); status != 200 && status != 503 {
				b.Fatalf("pdf: %d", status)
			}
		})
	}
}
