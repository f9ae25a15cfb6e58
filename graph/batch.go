package graph

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// A batcher decides when the loaders of one response send their batches:
// when the level of the query that asked is resolved, not when a clock
// says so.
//
// A batch is complete when no field that could still add a key to it is
// running or able to start. The batcher counts those fields, following how
// gqlgen runs them: an object's fields without resolvers one after the
// other, in order, each with its whole subtree, then its resolver fields
// together on goroutines, and the items of a list on goroutines. So when a
// field returns objects, the fields that can start at once on each object
// are counted before gqlgen starts any of them (up to and including the
// first field with a subtree of its own: what follows it waits for that
// subtree); when that subtree is complete, the next run of fields is
// counted. A field leaves the count when it returns, and while it waits for
// a batch. The count is kept per root field (a branch), and a batch goes
// out when every branch that put a key in it is at zero: each field of
// that level has asked or finished. So a request is always either using
// CPU or waiting for the database, and a level of 50 households costs one
// round trip per loader. The home screen's households do not wait for its
// repairs query (a root field of its own) to come back from the database:
// only branches that could add keys to a batch hold it.
//
// Why not a short wait (dataloadgen's WithWait, 100-250 µs)? Measured in
// the same run (docs/BENCHMARKS.md, "Requests without idle time"): it idles
// up to the wait at every level, and a level whose fields take longer than
// the wait to start (a page of 20 on a busy 2-core machine) is split into
// several batches: more round trips than levels. A wait remains for what
// the count cannot see: a subscription's events are marshalled where no
// field hook sees them start (subscriptionWait), and fields of an interface
// or union type (there are none yet) make the count give up; and
// GRAPHQL_LOADER_WAIT turns it on for everything, a switch should the count
// ever misbehave.
type batcher struct {
	wait  time.Duration // > 0: each batch goes out this long after its first key
	timed atomic.Bool   // wait > 0; read by every field without the lock
	info  *schemaInfo
	log   *slog.Logger
	op    string

	mu       sync.Mutex
	plans    map[planKey]*plan
	ready    []*parking // batches collected, not sent
	progress uint64     // fields finished or woken: the watchdog's sign of life
	seen     uint64
	dog      *time.Timer
}

// branch counts the fields of one root field's subtree that can start, or
// are running and not waiting for a batch.
type branch struct{ outstanding int }

// subscriptionWait is how long a subscription event's batches collect keys.
const subscriptionWait = 200 * time.Microsecond

// watchdogQuiet: batches still unsent after this long without a field
// finishing or waking go out anyway. With a correct count that happens only
// when a field of the branch spends this long in one database call, or when
// gqlgen skips a field whose arguments do not parse (the request fails
// anyway); it guards against a miscount, which would otherwise hang the
// request. LoaderWatchdogReleases counts its releases; the e2e suite sees
// none.
const watchdogQuiet = 50 * time.Millisecond

var watchdogReleases atomic.Uint64

// LoaderWatchdogReleases is how many times batches were sent by the
// watchdog rather than because their level was resolved.
func LoaderWatchdogReleases() uint64 { return watchdogReleases.Load() }

type batchOptions struct {
	wait  time.Duration
	info  *schemaInfo
	log   *slog.Logger
	memos *liveMemos // shared fetches of live events' responses (livememo.go)
}

func newBatcher(ctx context.Context, o batchOptions) *batcher {
	b := &batcher{wait: o.wait, info: o.info, log: o.log, plans: map[planKey]*plan{}}
	if b.wait <= 0 {
		b.wait = subscriptionWait
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			b.op = oc.OperationName
			if op := oc.Operation; op != nil && op.Operation != ast.Subscription {
				b.wait = 0
			}
		}
	}
	b.timed.Store(b.wait > 0)
	return b
}

// fieldCtx is the context of a field while it runs (a root field, a field
// that runs our code, or one with a subtree); a Load made with it counts as
// that field waiting. Its children find their branch and parent through it.
type fieldCtx struct {
	context.Context
	b       *batcher
	br      *branch
	parent  *fieldCtx
	waiting int  // batches it waits for (a resolver may wait on several goroutines)
	done    bool // returned: later Loads with this context count as nobody's
	plan    *plan
	open    int // child fields whose subtrees are not complete
	after   int // fields of its object that start when its subtree is complete
}

type fieldKey struct{}

func (f *fieldCtx) Value(k any) any {
	if k == (fieldKey{}) {
		return f
	}
	return f.Context.Value(k)
}

// fieldOf is the field of b that ctx belongs to; with the lock held,
// running tells whether it still runs.
func fieldOf(ctx context.Context, b *batcher) *fieldCtx {
	f, _ := ctx.Value(fieldKey{}).(*fieldCtx)
	if f == nil || f.b != b {
		return nil
	}
	return f
}

func (f *fieldCtx) running() bool { return f != nil && !f.done }

// withoutField is ctx for work no field waits on (a batch's fetch).
func withoutField(ctx context.Context) context.Context {
	return context.WithValue(ctx, fieldKey{}, (*fieldCtx)(nil))
}

// parking is one batch as the batcher sees it; guarded by the batcher.
type parking struct {
	send     func()
	branches []*branch   // whose fields put keys in it
	fields   []*fieldCtx // waiting for it
	sent     bool
	arrived  bool
}

// collect takes a new batch, which ctx's field opened.
func (b *batcher) collect(ctx context.Context, p *parking) {
	if b.timed.Load() {
		time.AfterFunc(b.wait, p.send)
		return
	}
	f := fieldOf(ctx, b)
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.running() {
		p.branches = append(p.branches, f.br)
	}
	b.ready = append(b.ready, p)
	if len(b.ready) == 1 {
		b.seen = b.progress
		if b.dog == nil {
			b.dog = time.AfterFunc(watchdogQuiet, b.bark)
		} else {
			b.dog.Reset(watchdogQuiet)
		}
	}
}

// join notes that ctx's field put a key in p: p waits for its branch.
func (b *batcher) join(ctx context.Context, p *parking) {
	if b.timed.Load() {
		return
	}
	f := fieldOf(ctx, b)
	if f == nil {
		return
	}
	b.mu.Lock()
	if f.running() && !p.sent && !slices.Contains(p.branches, f.br) {
		p.branches = append(p.branches, f.br)
	}
	b.mu.Unlock()
}

// await blocks until done, counting the calling field as waiting. A caller
// that is no running field (a fetch that loads more) cannot be counted: its
// batch goes as soon as the branches in it are resolved, now if none.
func (b *batcher) await(ctx context.Context, done chan struct{}, p *parking) {
	select {
	case <-done:
		return
	default:
	}
	f := fieldOf(ctx, b)
	b.mu.Lock()
	var sends []func()
	if !p.arrived && !b.timed.Load() {
		if f.running() {
			p.fields = append(p.fields, f)
			if f.waiting++; f.waiting == 1 {
				f.br.outstanding--
			}
		}
		sends = b.takeResolvedLocked()
	}
	b.mu.Unlock()
	send(sends)
	<-done
}

// arrived counts the fields waiting for a batch as running again; it runs
// before they wake, so none of them can see its branch at zero before the
// others are back in the count.
func (b *batcher) arrived(p *parking) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p.arrived = true
	for _, f := range p.fields {
		if f.waiting--; f.waiting == 0 && !f.done {
			f.br.outstanding++
		}
	}
	b.progress++
}

// finish: a field returned, with objects for p's fields (none for a leaf
// or an error). f is nil for a leaf that runs none of our code; parent is
// nil for a root field.
func (b *batcher) finish(parent, f *fieldCtx, p *plan, objects int) {
	b.mu.Lock()
	br := f.branchOr(parent)
	if f == nil || f.waiting == 0 {
		br.outstanding--
	}
	if p != nil {
		br.outstanding += objects * p.first
	}
	if f == nil {
		b.childDoneLocked(parent)
	} else {
		f.done, f.plan = true, p
		if p != nil {
			f.open = objects * p.n
		}
		if f.open == 0 {
			b.completeLocked(f)
		}
	}
	b.progress++
	var sends []func()
	if br.outstanding == 0 && len(b.ready) > 0 {
		sends = b.takeResolvedLocked()
	}
	b.mu.Unlock()
	send(sends)
}

func (f *fieldCtx) branchOr(parent *fieldCtx) *branch {
	if f != nil {
		return f.br
	}
	return parent.br
}

// completeLocked: f returned and every field under it is complete. The
// fields of its object that waited for it can start, and its parent may be
// complete in turn.
func (b *batcher) completeLocked(f *fieldCtx) {
	f.br.outstanding += f.after
	b.childDoneLocked(f.parent)
}

func (b *batcher) childDoneLocked(parent *fieldCtx) {
	if parent == nil {
		return
	}
	if parent.open--; parent.open == 0 && parent.done {
		b.completeLocked(parent)
	}
}

// takeResolvedLocked takes the batches whose branches are all resolved.
func (b *batcher) takeResolvedLocked() []func() {
	var sends []func()
	keep := b.ready[:0]
	for _, p := range b.ready {
		if resolved(p.branches) {
			p.sent = true
			sends = append(sends, p.send)
		} else {
			keep = append(keep, p)
		}
	}
	clear(b.ready[len(keep):])
	b.ready = keep
	if len(b.ready) == 0 && len(sends) > 0 {
		b.dog.Stop()
	}
	return sends
}

func resolved(brs []*branch) bool {
	for _, br := range brs {
		if br.outstanding > 0 {
			return false
		}
	}
	return true
}

// degrade gives up counting for the rest of the response (a field the
// count cannot follow): collected batches go now, later ones after a wait.
func (b *batcher) degrade() {
	b.mu.Lock()
	if b.wait <= 0 {
		b.wait = subscriptionWait
	}
	b.timed.Store(true)
	sends := b.takeAllLocked()
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
	sends := b.takeAllLocked()
	b.mu.Unlock()
	watchdogReleases.Add(1)
	b.log.Debug("loader batches sent by the watchdog: their level did not settle", "operation", b.op, "batches", len(sends))
	send(sends)
}

func (b *batcher) takeAllLocked() []func() {
	sends := make([]func(), len(b.ready))
	for i, p := range b.ready {
		p.sent = true
		sends[i] = p.send
	}
	b.ready = nil
	if b.dog != nil {
		b.dog.Stop()
	}
	return sends
}

func send(sends []func()) {
	for _, s := range sends {
		go s()
	}
}
