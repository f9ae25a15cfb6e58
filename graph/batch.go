package graph

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// A batcher decides when the loaders of one response send their batches:
// when the level is resolved, not when a clock says so.
//
// gqlgen resolves the fields of a level concurrently: every list item and
// every resolver field of an object gets a goroutine. A batch is complete
// when no field that could still add a key to it is running or about to
// start. The batcher counts exactly those fields ("outstanding"): the root
// fields of a query from the start; then, when a field returns objects, the
// fields selected on them (n objects × the fields gqlgen will collect for
// them), before gqlgen starts them; a field leaves the count when it
// returns, and while it waits for a batch. When the count falls to zero,
// every field that could still ask has asked, and the collected batches go
// out at once. So a request is always either using CPU or waiting for the
// database, and a level of 50 households costs one round trip per loader.
//
// Why not a short wait instead (dataloadgen's WithWait, 100-250 µs)? It was
// measured (docs/BENCHMARKS.md, "Requests without idle time"): it still
// idles up to the wait at every level, and a level whose fields take longer
// than the wait to start (50 list items on a busy 2-core machine) is split
// into several batches, so round trips grow with the page size again. It
// remains for what the count cannot see: a subscription's events are
// marshalled where no field hook sees them start (subscriptionWait), and
// GRAPHQL_LOADER_WAIT turns it on for everything, a switch for production
// should the count ever misbehave.
type batcher struct {
	wait   time.Duration // > 0: each batch goes out this long after its first key
	timed  atomic.Bool   // wait > 0; read by every field without the lock
	info   *schemaInfo
	log    *slog.Logger
	op     string
	serial bool // a mutation: root fields run one after the other

	mu          sync.Mutex
	outstanding int      // fields expected to start, or running and not waiting
	ready       []func() // batches collected, not sent
	progress    uint64   // fields finished or woken: the watchdog's sign of life
	seen        uint64
	dog         *time.Timer
}

// subscriptionWait is how long a subscription event's batches collect keys.
const subscriptionWait = 200 * time.Microsecond

// watchdogQuiet: batches still unsent after this long without a field
// finishing or waking go out anyway. With a correct count that happens only
// when a sibling field spends this long in one database call; it is a guard
// against a miscount (which would otherwise hang the request), not a wait.
const watchdogQuiet = 50 * time.Millisecond

var watchdogReleases atomic.Uint64

// LoaderWatchdogReleases is how many times batches were sent by the
// watchdog rather than because their level was resolved.
func LoaderWatchdogReleases() uint64 { return watchdogReleases.Load() }

type batchOptions struct {
	wait time.Duration
	info *schemaInfo
	log  *slog.Logger
}

func newBatcher(ctx context.Context, o batchOptions) *batcher {
	b := &batcher{wait: o.wait, info: o.info, log: o.log}
	if b.wait <= 0 {
		b.wait = subscriptionWait
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			b.op = oc.OperationName
			if op := oc.Operation; op != nil {
				switch op.Operation {
				case ast.Query:
					b.wait = 0
					// gqlgen starts them all at once, on goroutines.
					b.outstanding = countFields(graphql.CollectFields(oc, op.SelectionSet, b.info.satisfies(b.info.query)))
				case ast.Mutation:
					b.wait, b.serial = 0, true
				}
			}
		}
	}
	b.timed.Store(b.wait > 0)
	return b
}

// fieldCtx is the context of one resolver field while it runs; a Load made
// with it counts as that field waiting.
type fieldCtx struct {
	context.Context
	b       *batcher
	waiting int  // batches it waits for (a resolver may wait on several goroutines)
	done    bool // returned: later Loads with this context count as nobody's
}

type fieldKey struct{}

func (f *fieldCtx) Value(k any) any {
	if k == (fieldKey{}) {
		return f
	}
	return f.Context.Value(k)
}

// withoutField is ctx for work no field waits on (a batch's fetch).
func withoutField(ctx context.Context) context.Context {
	return context.WithValue(ctx, fieldKey{}, (*fieldCtx)(nil))
}

// parking is the fields waiting for one batch; guarded by the batcher.
type parking struct {
	fields  []*fieldCtx
	arrived bool
}

// collect takes a new batch's send function.
func (b *batcher) collect(send func()) {
	if b.timed.Load() {
		time.AfterFunc(b.wait, send)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ready = append(b.ready, send)
	if len(b.ready) == 1 {
		b.seen = b.progress
		if b.dog == nil {
			b.dog = time.AfterFunc(watchdogQuiet, b.bark)
		} else {
			b.dog.Reset(watchdogQuiet)
		}
	}
}

// await blocks until done, counting the calling field as waiting. A caller
// that is no field (a fetch that loads more) cannot be counted: if nothing
// is outstanding, nothing else would send its batch, so it goes now.
func (b *batcher) await(ctx context.Context, done chan struct{}, p *parking) {
	select {
	case <-done:
		return
	default:
	}
	f, _ := ctx.Value(fieldKey{}).(*fieldCtx)
	b.mu.Lock()
	var sends []func()
	if !p.arrived {
		if f != nil && f.b == b && !f.done {
			p.fields = append(p.fields, f)
			if f.waiting++; f.waiting == 1 {
				b.outstanding--
			}
		}
		if b.outstanding == 0 && !b.timed.Load() {
			sends = b.takeLocked()
		}
	}
	b.mu.Unlock()
	send(sends)
	<-done
}

// arrived counts the fields waiting for a batch as running again; it runs
// before they wake, so none of them can see the count at zero before the
// others are back in it.
func (b *batcher) arrived(p *parking) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p.arrived = true
	for _, f := range p.fields {
		if f.waiting--; f.waiting == 0 && !f.done {
			b.outstanding++
		}
	}
	b.progress++
}

// finish: a field returned, and gqlgen will start children more fields.
func (b *batcher) finish(f *fieldCtx, children int) {
	b.mu.Lock()
	b.outstanding += children
	if f == nil || f.waiting == 0 {
		b.outstanding--
	}
	if f != nil {
		f.done = true
	}
	b.progress++
	var sends []func()
	if b.outstanding == 0 {
		sends = b.takeLocked()
	}
	b.mu.Unlock()
	send(sends)
}

// expect announces fields about to start (a mutation's next root field).
func (b *batcher) expect(n int) {
	b.mu.Lock()
	b.outstanding += n
	b.mu.Unlock()
}

// degrade gives up counting for the rest of the response (a field the
// count cannot follow): collected batches go now, later ones after a wait.
func (b *batcher) degrade() {
	b.mu.Lock()
	if b.wait <= 0 {
		b.wait = subscriptionWait
	}
	b.timed.Store(true)
	sends := b.takeLocked()
	b.mu.Unlock()
	send(sends)
}

func (b *batcher) bark() {
	b.mu.Lock()
	if len(b.ready) == 0 {
		b.mu.Unlock()
		return
	}
	if b.progress != b.seen {
		b.seen = b.progress
		b.dog.Reset(watchdogQuiet)
		b.mu.Unlock()
		return
	}
	sends := b.takeLocked()
	b.mu.Unlock()
	watchdogReleases.Add(1)
	b.log.Debug("loader batches sent by the watchdog: the level did not settle", "operation", b.op, "batches", len(sends))
	send(sends)
}

func (b *batcher) takeLocked() []func() {
	sends := b.ready
	b.ready = nil
	if b.dog != nil && len(sends) > 0 {
		b.dog.Stop()
	}
	return sends
}

func send(sends []func()) {
	for _, s := range sends {
		go s()
	}
}
