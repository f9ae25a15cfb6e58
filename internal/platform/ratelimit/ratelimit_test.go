package ratelimit

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func newLimiter(t *testing.T) (*Limiter, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return New(mongo.NewTestDB(t, mongo.Options{}), clk.now), clk
}

// The attack on fixed windows: two requests 0.75 s apart straddling a minute
// boundary both pass a one-per-minute limit. A rolling window refuses the
// second and says when the first leaves the window.
func TestRollingWindowAcrossMinuteBoundary(t *testing.T) {
	l, clk := newLimiter(t)
	ctx := context.Background()
	rule := Rule{Key: "phone:1", Window: time.Minute, Max: 1}
	base := time.Date(2026, 3, 1, 12, 0, 59, 600e6, time.UTC)
	for _, tc := range []struct {
		at       time.Time
		wantWait time.Duration
	}{
		{base, 0},
		{base.Add(750 * time.Millisecond), 60 * time.Second}, // 59.25 s left, rounded up
		{base.Add(59 * time.Second), time.Second},
		{base.Add(60 * time.Second), 0},
		{base.Add(61 * time.Second), 59 * time.Second},
	} {
		clk.set(tc.at)
		wait, err := l.Allow(ctx, rule)
		if err != nil {
			t.Fatal(err)
		}
		if wait != tc.wantWait {
			t.Errorf("at %s: wait %v, want %v", tc.at.Format("15:04:05.000"), wait, tc.wantWait)
		}
	}
}

// N clients racing for a budget of Max through two servers on one database:
// exactly Max win, on FerretDB too, where a guarded update is not atomic.
func TestConcurrentHitsAreExact(t *testing.T) {
	l, clk := newLimiter(t)
	ctx := context.Background()
	// The second server has its own connection to the same database.
	db2, err := mongo.Connect(ctx, mongo.TestURI(t), l.col.Database().Name(), mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close(context.Background()) })
	servers := []*Limiter{l, New(db2, clk.now)}
	const clients, max = 16, 5
	rule := Rule{Key: "ip:10.0.0.1", Window: time.Hour, Max: max}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := servers[i%2].Allow(ctx, rule)
			if err != nil {
				t.Error(err)
			}
			if wait == 0 {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != max {
		t.Fatalf("%d of %d racing hits allowed, want exactly %d", won.Load(), clients, max)
	}
	if n, _, err := l.Count(ctx, rule.Key, time.Hour); err != nil || n != max {
		t.Fatalf("count = %d, %v; want %d", n, err, max)
	}
}

// A request refused by a narrow rule spends nothing of a wider one, and
// given-back hits free their slots.
func TestAllOrNothingAndRelease(t *testing.T) {
	l, clk := newLimiter(t)
	ctx := context.Background()
	day := Rule{Key: "phone:d", Window: 24 * time.Hour, Max: 3}
	minute := Rule{Key: "phone:m", Window: time.Minute, Max: 1}
	for i := range 5 {
		wait, err := l.Allow(ctx, day, minute)
		if err != nil {
			t.Fatal(err)
		}
		if (i == 0) != (wait == 0) {
			t.Fatalf("try %d within the minute: wait %v", i, wait)
		}
	}
	if n, _, _ := l.Count(ctx, day.Key, 24*time.Hour); n != 1 {
		t.Fatalf("refused requests spent the day's budget: %d hits", n)
	}

	clk.set(clk.now().Add(time.Minute))
	h, wait, err := l.Take(ctx, day, minute)
	if err != nil || wait != 0 {
		t.Fatalf("take: %v %v", wait, err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Released: both budgets as if the request never happened.
	for i := range 2 {
		clk.set(clk.now().Add(time.Minute))
		if wait, err := l.Allow(ctx, day, minute); err != nil || wait != 0 {
			t.Fatalf("allow %d after release: %v %v", i, wait, err)
		}
	}
	clk.set(clk.now().Add(time.Minute))
	if wait, _ := l.Allow(ctx, day, minute); wait == 0 {
		t.Fatal("fourth hit of the day allowed")
	}
}

// Count sees only the window; Clear forgets; Sweep keeps live hits.
func TestCountClearSweep(t *testing.T) {
	l, clk := newLimiter(t)
	ctx := context.Background()
	log := Rule{Key: "fail:a", Window: time.Hour}
	start := clk.now()
	for range 3 {
		if wait, err := l.Allow(ctx, log); err != nil || wait != 0 {
			t.Fatalf("recording: %v %v", wait, err)
		}
		clk.set(clk.now().Add(20 * time.Minute))
	}
	// now = start+60m: the first hit (at start) has left the window.
	n, latest, err := l.Count(ctx, log.Key, time.Hour)
	if err != nil || n != 2 || !latest.Equal(start.Add(40*time.Minute)) {
		t.Fatalf("count = %d latest %v err %v", n, latest, err)
	}
	clk.set(clk.now().Add(time.Minute))
	if err := l.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := l.Count(ctx, log.Key, 2*time.Hour); n != 2 {
		t.Fatalf("sweep removed live hits: %d left", n)
	}
	if err := l.Clear(ctx, log.Key); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := l.Count(ctx, log.Key, time.Hour); n != 0 {
		t.Fatalf("%d hits after clear", n)
	}
}
