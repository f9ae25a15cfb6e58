package fee

import "testing"

// Shares sum exactly to the charge, the leftover fen going to the largest
// remainders, and a zero weight (no floor area) gets nothing.
func TestApportionSumsExactly(t *testing.T) {
	cases := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{1001, []int64{1, 1}, []int64{501, 500}},
		{10, []int64{8950, 10025, 0, 6033}, []int64{4, 4, 0, 2}},
		{0, []int64{1, 2}, []int64{0, 0}},
		{5, []int64{0, 0}, []int64{0, 0}},
	}
	for _, c := range cases {
		got := apportion(c.total, c.weights)
		var sum int64
		for i := range got {
			sum += got[i]
			if got[i] != c.want[i] {
				t.Errorf("apportion(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
				break
			}
		}
		if sum != c.total && c.weights[0]+c.weights[1] > 0 {
			t.Errorf("apportion(%d, %v) sums to %d", c.total, c.weights, sum)
		}
	}
}
