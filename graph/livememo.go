package graph

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/events"
)

// A live event reaches every subscriber of this process, and each renders
// the fields it selected. What those fields load (the household's building,
// its members, a request's assignee) is the same for all of them, so the
// loaders of every response to one event share one memo: a nested
// selection costs one read per key per event, not one per subscriber.
// Access is still decided per subscriber by the resolvers, which read the
// shared documents and never write them; loaders whose answer depends on
// the caller (a survey response of one's own, audit records) are not
// shared.

// liveSlot tells a subscription's responses which event they render: the
// stream sets it before handing a value over and waits until the response
// is rendered before it takes the next event.
type liveSlot struct {
	mu       sync.Mutex
	cur      *events.Event
	rendered chan struct{}
}

type liveSlotKey struct{}

func withLiveSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, liveSlotKey{}, &liveSlot{rendered: make(chan struct{}, 1)})
}

func liveSlotOf(ctx context.Context) *liveSlot {
	s, _ := ctx.Value(liveSlotKey{}).(*liveSlot)
	return s
}

func (s *liveSlot) set(e *events.Event) {
	s.mu.Lock()
	s.cur = e
	s.mu.Unlock()
}

func (s *liveSlot) current() *events.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// done says the response of the current value is rendered.
func (s *liveSlot) done() {
	select {
	case s.rendered <- struct{}{}:
	default:
	}
}

// liveMemos keeps one memo per recent event.
type liveMemos struct {
	mu    sync.Mutex
	m     map[bson.ObjectID]*fetchMemo
	swept time.Time
}

func (l *liveMemos) of(e *events.Event) *fetchMemo {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[bson.ObjectID]*fetchMemo{}
	}
	if now.Sub(l.swept) > keepPayload {
		for k, m := range l.m {
			if now.Sub(m.at) > keepPayload {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	m := l.m[e.ID]
	if m == nil {
		m = &fetchMemo{at: now, vals: map[memoKey]memoVal{}, flight: map[memoKey]chan struct{}{}}
		l.m[e.ID] = m
	}
	return m
}

// fetchMemo is what the loaders of one event's responses fetched, by loader
// and key, with the fetches in flight.
type fetchMemo struct {
	at     time.Time
	mu     sync.Mutex
	vals   map[memoKey]memoVal
	flight map[memoKey]chan struct{}
}

type memoKey struct {
	loader string
	key    any
}

type memoVal struct {
	v     any
	found bool
}

// shared fetches through m: keys known are answered from it, keys another
// response is fetching are waited for, and only the rest are fetched (in
// one call). With m nil it is fetch itself.
func shared[K comparable, V any](m *fetchMemo, loader string, fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	if m == nil {
		return fetch
	}
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		out := make(map[K]V, len(keys))
		for {
			var missing []K
			var waits []chan struct{}
			m.mu.Lock()
			for _, k := range keys {
				mk := memoKey{loader, k}
				if v, ok := m.vals[mk]; ok {
					if v.found {
						out[k] = v.v.(V)
					}
					continue
				}
				if ch, ok := m.flight[mk]; ok {
					waits = append(waits, ch)
					continue
				}
				missing = append(missing, k)
			}
			mine := make(chan struct{})
			for _, k := range missing {
				m.flight[memoKey{loader, k}] = mine
			}
			m.mu.Unlock()
			if len(missing) > 0 {
				// Other responses wait for this fetch: it must not end with
				// this one's context.
				got, err := fetch(context.WithoutCancel(ctx), missing)
				m.mu.Lock()
				for _, k := range missing {
					mk := memoKey{loader, k}
					delete(m.flight, mk)
					if err == nil {
						v, ok := got[k]
						m.vals[mk] = memoVal{v: v, found: ok}
						if ok {
							out[k] = v
						}
					}
				}
				m.mu.Unlock()
				close(mine)
				if err != nil {
					return nil, err
				}
			}
			if len(waits) == 0 {
				return out, nil
			}
			for _, ch := range waits {
				select {
				case <-ch:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			// Once more: what was waited for is known now, or its fetch
			// failed and this response fetches it itself.
		}
	}
}
