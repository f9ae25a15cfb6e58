package e2e

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// BenchmarkMeDuringBroadcast: 500 subscriptions of one user (one per
// websocket) hear a household event over and over, while another user asks
// `me`. The unrelated query's p50/p99 must stay low (p99 < 100ms on the
// embedded database): fan-out never blocks request handling. Also reported:
// database round trips of one broadcast (the per-subscriber payload load
// only: the caller is the connection's kept decision, never re-resolved per
// event) and of one `me`.
//
//	go test ./e2e -run '^$' -bench MeDuringBroadcast -benchtime 300x
func BenchmarkMeDuringBroadcast(b *testing.B) {
	const subscribers = 500
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db, func(c *config.Config) {
		c.WSConnectionsPerUser, c.WSSubsPerUser = subscribers+10, subscribers+10
	})
	w := e.world()
	token := e.staff(w.butlerX, w.Password).token
	other := e.staff(w.supervisorY, w.Password)

	var heard atomic.Int64
	live := make([]atomic.Bool, subscribers)
	for i := range subscribers {
		subscribeCounting(b, e, token, w.HA.ID, func() {
			heard.Add(1)
			live[i].Store(true)
		})
	}
	// Subscriptions register asynchronously: publish until all have heard.
	waitFor := func(what string, cond func() bool, poke func()) {
		b.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(60 * time.Second)
		for !cond() {
			if poke != nil {
				poke()
			}
			select {
			case <-tick.C:
			case <-deadline:
				b.Fatalf("%s: timed out", what)
			}
		}
	}
	waitFor("all subscribers live", func() bool {
		for i := range live {
			if !live[i].Load() {
				return false
			}
		}
		return true
	}, func() { publishHousehold(b, e, w.HA.ID) })
	quiet := func() {
		last := int64(-1)
		waitFor("quiet", func() bool {
			n := heard.Load()
			if n == last {
				return true
			}
			last = n // unchanged over one tick: quiet
			return false
		}, nil)
	}
	quiet()

	// One broadcast's database round trips.
	n0 := heard.Load()
	rt.n.Store(0)
	publishHousehold(b, e, w.HA.ID)
	waitFor("one broadcast", func() bool { return heard.Load() >= n0+subscribers }, nil)
	perBroadcast := rt.n.Load() // the spine's own insert is not counted
	quiet()

	me := func(b *testing.B) []time.Duration {
		lat := make([]time.Duration, 0, b.N)
		rt.n.Store(0)
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			other.ok(`{ me { kind roles } }`, nil, nil)
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		return lat
	}
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		q := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
		}
		b.ReportMetric(q(0.50), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(float64(perBroadcast), "db-roundtrips/broadcast")
	}

	b.Run("idle", func(b *testing.B) {
		lat := me(b)
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/me")
		report(b, lat)
	})
	b.Run("broadcast", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			events := 0
			for {
				select {
				case <-stop:
					done <- events
					return
				default:
				}
				n := heard.Load()
				publishHousehold(b, e, w.HA.ID)
				events++
				// The next broadcast once this one reached everyone: always
				// one fan-out of 500 in flight.
				for heard.Load() < n+subscribers {
					select {
					case <-stop:
						done <- events
						return
					case <-time.After(time.Millisecond):
					}
				}
			}
		}()
		start := time.Now()
		lat := me(b)
		close(stop)
		events := <-done
		b.ReportMetric(float64(events)*subscribers/time.Since(start).Seconds(), "deliveries/s")
		report(b, lat)
	})
}

// subscribeCounting opens one subscriber that only counts what it hears: the
// clients share this process's two cores with the server, so they do as
// little as a real client's socket would cost the server.
func subscribeCounting(b *testing.B, e *env, token, householdID string, onNext func()) {
	b.Helper()
	r := dialRaw(b, e).ack(token)
	r.countOnly.Store(true)
	r.subscribe("1", wsHouseholdSub, map[string]any{"id": householdID})
	go func() {
		for m := range r.in {
			if m.Type == "next" {
				onNext()
			} else {
				b.Errorf("subscriber: %+v", m)
			}
		}
	}()
}
