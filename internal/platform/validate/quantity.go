package validate

import (
	"math"

	"qinqing/internal/platform/apperr"
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"input.quantity_rounds_to_zero": {ZH: "数量最多三位小数，舍入后不能为 0", EN: "has at most three decimals and must not round to 0"},
		"input.amount_rounds_to_zero":   {ZH: "按此数量计费不足 1 分，请填写更大的数量", EN: "books less than 1 fen at this price; enter a larger quantity"},
	})
}

// Quantity checks a booked quantity (hours, items, square metres, metres of
// pipe) counted in thousandths, as money is computed from it: it must be a
// finite number above 0 and at most max, must not round to 0 thousandths,
// and, when it is charged (unitFen > 0), must book at least 1 fen — a
// quantity that quietly charges nothing is a mistake or a probe, never an
// order. It returns the quantity in thousandths.
func Quantity(field string, q, max float64, unitFen int64) (int64, error) {
	if math.IsNaN(q) || math.IsInf(q, 0) || q <= 0 || q > max {
		return 0, apperr.Invalid(field, "input.out_of_range", 0, max)
	}
	milli := int64(math.Round(q * 1000))
	if milli == 0 {
		return 0, apperr.Invalid(field, "input.quantity_rounds_to_zero")
	}
	if unitFen > 0 {
		// Price × thousandths must stay inside int64 fen (half-up rounding adds 500).
		if milli > (math.MaxInt64-500)/unitFen {
			return 0, apperr.Invalid(field, "input.out_of_range", 0, max)
		}
		if (unitFen*milli+500)/1000 == 0 {
			return 0, apperr.Invalid(field, "input.amount_rounds_to_zero")
		}
	}
	return milli, nil
}
