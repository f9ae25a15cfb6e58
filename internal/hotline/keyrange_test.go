package hotline

import (
	"testing"
	"time"

	"qinqing/internal/platform/page"
)

// A window of the log as a sortKey range: from inclusive, to exclusive, to
// the millisecond, whatever the id after the key's number.
func TestKeyRangeIsTheWindow(t *testing.T) {
	from := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	r := keyRange(&from, &to)
	in := func(at time.Time, id string) bool {
		k := page.NewestFirst(at, id)
		for _, e := range r {
			v := e.Value.(string)
			if e.Key == "$gte" && k < v || e.Key == "$lt" && k >= v {
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{from, true}, {from.Add(-time.Millisecond), false}, {to.Add(-time.Millisecond), true}, {to, false}, {from.Add(30 * time.Minute), true},
	} {
		for _, id := range []string{"000000000000000000000000", "ffffffffffffffffffffffff"} {
			if got := in(c.at, id); got != c.want {
				t.Errorf("%v (id %s…) in window = %v, want %v", c.at, id[:4], got, c.want)
			}
		}
	}
	if len(keyRange(nil, nil)) != 0 {
		t.Error("no window is no range")
	}
}

func TestSpreadPercentiles(t *testing.T) {
	sp, vs := spread(map[int]int{1: 2, 2: 5, 3: 2, 6: 1}) // ten calls
	if sp.Count != 10 || *sp.Average != 2.4 || *sp.Median != 2 || *sp.P90 != 3 || *sp.Max != 6 || len(vs) != 4 || vs[0].Value != 1 {
		t.Fatalf("spread = %+v %+v", sp, vs)
	}
	if sp, _ := spread(map[int]int{}); sp.Count != 0 || sp.Average != nil || sp.Median != nil {
		t.Fatalf("empty spread = %+v", sp)
	}
}
