package kpi

import (
	"testing"
	"time"

	"qinqing/internal/repair"
)

// A public-area fault filed by staff closes on the supervisor's sign-off:
// nobody to call back, so it is no finished job missing its callback. One a
// resident reported owes that resident the callback, as a household's does.
func TestPublicAreaRepairsInTheCallbackRate(t *testing.T) {
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	signed := from.Add(time.Hour)
	area := &repair.PublicArea{Kind: "LIFT", Place: "1栋电梯"}
	tests := []struct {
		name     string
		r        *repair.Request
		num, den int
	}{
		{"filed by staff", &repair.Request{Public: area, Round: 1, Status: repair.Closed}, 0, 0},
		{"reported by a resident, not yet called back", &repair.Request{Public: area, ReporterID: "p1", Round: 1, Status: repair.Confirmed}, 0, 1},
		{"a household's, called back", &repair.Request{HouseholdID: "h1", Round: 1, Status: repair.Closed,
			Callbacks: []repair.Callback{{Round: 1, Satisfied: true, At: signed}}}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.SubmittedAt = from
			tc.r.Acceptances = []repair.Acceptance{{Round: 1, At: signed}}
			w := &window{from: from, to: from.AddDate(0, 0, 7), at: from.AddDate(0, 0, 7), k: &KPIs{}}
			w.addRepair(factsOf(tc.r, w.at))
			got := w.k.CallbackRate.Repairs
			if got.Numerator != tc.num || got.Denominator != tc.den {
				t.Fatalf("callback rate = %d/%d, want %d/%d", got.Numerator, got.Denominator, tc.num, tc.den)
			}
			if p := w.k.RepairPassRate; p.Numerator != 1 || p.Denominator != 1 {
				t.Fatalf("pass rate = %d/%d, want 1/1", p.Numerator, p.Denominator)
			}
		})
	}
}
