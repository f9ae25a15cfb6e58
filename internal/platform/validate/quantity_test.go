package validate

import (
	"errors"
	"math"
	"testing"

	"qinqing/internal/platform/apperr"
)

func TestQuantityRefusesWhatBooksNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		q     float64
		unit  int64
		key   string // "" = accepted
		milli int64
	}{
		{"one hour", 1, 5000, "", 1000},
		{"three decimals", 85.25, 300, "", 85250},
		{"free item, tiny but not zero", 0.001, 0, "", 1},
		{"zero", 0, 5000, "input.out_of_range", 0},
		{"negative", -1, 5000, "input.out_of_range", 0},
		{"NaN", math.NaN(), 5000, "input.out_of_range", 0},
		{"+Inf", math.Inf(1), 5000, "input.out_of_range", 0},
		{"-Inf", math.Inf(-1), 5000, "input.out_of_range", 0},
		{"absurdly large", 1e300, 5000, "input.out_of_range", 0},
		{"rounds to zero thousandths", 0.0004, 5000, "input.quantity_rounds_to_zero", 0},
		{"rounds to zero fen", 0.001, 1, "input.amount_rounds_to_zero", 0},
		{"half a fen rounds up", 0.5, 1, "", 500},
		{"price times quantity overflows", 10000, math.MaxInt64 / 1000, "input.out_of_range", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			milli, err := Quantity("input.quantity", tc.q, 10000, tc.unit)
			if tc.key == "" {
				if err != nil || milli != tc.milli {
					t.Fatalf("got %d, %v; want %d", milli, err, tc.milli)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Key != tc.key || ae.Field != "input.quantity" {
				t.Fatalf("got %v; want %s on input.quantity", err, tc.key)
			}
		})
	}
}
