package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// errNotFound is a key the fetch did not return.
var errNotFound = errors.New("graph: not found")

// Loader collects the keys one response asks for and fetches each batch
// with one call. When a batch is sent is the batcher's decision (see
// batch.go), not a timer's.
type Loader[K comparable, V any] struct {
	fetch func(ctx context.Context, keys []K) (map[K]V, error)
	b     *batcher
	// cache keeps every key's batch for the rest of the response, so a key
	// is fetched once; without it every Load is a key of its own (audit
	// records, where each read counts).
	cache bool

	mu    sync.Mutex
	open  *keyBatch[K, V] // collecting keys, not sent yet
	known map[K]*keyBatch[K, V]
}

type keyBatch[K comparable, V any] struct {
	ctx  context.Context // the first caller's, for the fetch
	keys []K
	vals map[K]V
	err  error
	done chan struct{}
	p    parking // the batcher's view of it
}

func newLoader[K comparable, V any](b *batcher, fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, b: b, cache: true, known: map[K]*keyBatch[K, V]{}}
}

func newUncachedLoader[K comparable, V any](b *batcher, fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Loader[K, V] {
	l := newLoader(b, fetch)
	l.cache = false
	return l
}

// Load returns key's value, or errNotFound.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	return l.LoadThunk(ctx, key)()
}

// LoadThunk adds key to the batch and returns a function that waits for
// it: ask for all keys first, then wait, and they share one batch.
func (l *Loader[K, V]) LoadThunk(ctx context.Context, key K) func() (V, error) {
	l.mu.Lock()
	kb := l.known[key]
	fresh := false
	if kb == nil {
		if kb = l.open; kb == nil {
			kb = &keyBatch[K, V]{ctx: ctx, done: make(chan struct{})}
			kb.p.send = func() { l.send(kb) }
			l.open, fresh = kb, true
		}
		kb.keys = append(kb.keys, key)
		if l.cache {
			l.known[key] = kb
		}
	}
	l.mu.Unlock()
	if fresh {
		l.b.collect(ctx, &kb.p)
	} else {
		l.b.join(ctx, &kb.p)
	}
	return func() (V, error) {
		l.b.await(ctx, kb.done, &kb.p)
		if kb.err != nil {
			var zero V
			return zero, kb.err
		}
		v, ok := kb.vals[key]
		if !ok {
			return v, errNotFound
		}
		return v, nil
	}
}

// send fetches one batch; keys asked for from now on start the next.
func (l *Loader[K, V]) send(kb *keyBatch[K, V]) {
	l.mu.Lock()
	if l.open == kb {
		l.open = nil
	}
	l.mu.Unlock()
	kb.vals, kb.err = l.safeFetch(withoutField(kb.ctx), kb.keys)
	l.b.arrived(&kb.p)
	close(kb.done)
}

// safeFetch turns a panic into the batch's error: it runs on a goroutine
// of its own, where nothing else would recover it.
func (l *Loader[K, V]) safeFetch(ctx context.Context, keys []K) (vals map[K]V, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("loader fetch panicked: %v", r)
		}
	}()
	return l.fetch(ctx, keys)
}
