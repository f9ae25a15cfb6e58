// Package events is the event spine: state changes are appended to a capped
// collection and every server process tails it, fanning events out to its
// in-process subscribers (GraphQL subscriptions, the notification engine).
// Nothing but MongoDB is shared between processes, so any number of servers
// see the same stream.
package events

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

const (
	// Collection is the capped collection holding the spine.
	Collection = "events"
	// DefaultBuffer is used when Subscribe is given a buffer below 1.
	DefaultBuffer = 64

	// typeStart marks the sentinel written so the capped collection is never
	// empty: an empty capped collection cannot be tailed. Subscribers never
	// see it.
	typeStart  = "spine.start"
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
	maxAwait   = time.Second
	// pollEvery is how often the FerretDB spine is read while events are
	// arriving. FerretDB's own tailable cursors re-run their query every
	// 10ms; every poll reads the whole (trimmed) spine, so it is not more
	// often.
	pollEvery = 100 * time.Millisecond
	// pollIdle bounds the backoff of an idle poller: each empty poll doubles
	// the wait up to it, and an event resets it to pollEvery. A publish in
	// this process kicks the poller at once; another process's event is
	// therefore heard within pollIdle (plus one poll). An idle server then
	// reads the spine every two seconds, not ten times a second.
	pollIdle = 2 * time.Second
	// kickGap spaces the polls that a publish in this process asks for.
	kickGap = 10 * time.Millisecond
	// keep is how long the FerretDB spine keeps events. Its embedded server
	// never trims capped collections, and each poll reads the whole spine,
	// so the poller trims it; nothing reads further back than rewind.
	keep      = 2 * time.Minute
	trimEvery = 15 * time.Second
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: Collection, Capped: 64 << 20})
}

// Event is one state change someone may want to hear about.
type Event struct {
	ID          bson.ObjectID  `bson:"_id"`
	Type        string         `bson:"type"` // e.g. "household.updated"
	CommunityID string         `bson:"communityId,omitempty"`
	HouseholdID string         `bson:"householdId,omitempty"`
	SubjectID   string         `bson:"subjectId,omitempty"` // the thing that changed
	ActorID     string         `bson:"actorId,omitempty"`   // who changed it
	At          time.Time      `bson:"at"`
	Data        map[string]any `bson:"data,omitempty"` // small extra facts
}

// Bus publishes events and delivers those of every process to local subscribers.
type Bus struct {
	db  *mongo.DB
	col *driver.Collection
	log *slog.Logger

	mu      sync.Mutex
	subs    map[*sub]struct{}
	started bool
	done    bool // Run has returned; new subscribers get a closed channel

	ready     chan struct{}
	readyOnce sync.Once
	kick      chan struct{} // one slot: this process published; the FerretDB poller reads at once

	// onOpen, when set (tests), sees every cursor id the tailer opens.
	onOpen func(cursorID int64)
}

// NewBus returns a bus on db; call Run to start receiving.
func NewBus(db *mongo.DB, log *slog.Logger) *Bus {
	return &Bus{
		db:    db,
		col:   db.Collection(Collection),
		log:   log.With("component", "events"),
		subs:  map[*sub]struct{}{},
		ready: make(chan struct{}),
		kick:  make(chan struct{}, 1),
	}
}

// Publish appends e to the spine, setting ID and At when zero. It never waits
// for subscribers.
func (b *Bus) Publish(ctx context.Context, e Event) error {
	if e.Type == "" {
		return errors.New("events: publish without type")
	}
	if e.ID.IsZero() {
		e.ID = bson.NewObjectID()
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if _, err := b.col.InsertOne(ctx, e); err != nil {
		return fmt.Errorf("events: publish %s: %w", e.Type, err)
	}
	// On FerretDB the poller would find the event at its next tick, up to
	// pollEvery later; wake it now instead. Delivery still goes through the
	// poll, so events keep the spine's order.
	select {
	case b.kick <- struct{}{}:
	default:
	}
	return nil
}

// Ready is closed once the tailer has its first cursor open: every event
// published after that is delivered.
func (b *Bus) Ready() <-chan struct{} { return b.ready }

// Run tails the spine until ctx is done, then closes every subscriber and
// returns nil. A dying cursor is reopened after a backoff, resuming after the
// last event seen. Run may be called only once per Bus.
func (b *Bus) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("events: Run called twice")
	}
	b.started = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.done = true
		for s := range b.subs {
			b.closeLocked(s)
		}
	}()

	var t tail
	delay := minBackoff
	for {
		if t.high.IsZero() {
			if err := b.start(ctx, &t); err != nil && ctx.Err() == nil {
				b.log.Error("events: find tail start", "err", err)
			}
		}
		if !t.high.IsZero() {
			opened := time.Now()
			follow := b.follow
			if b.db.Ferret {
				follow = b.poll
			}
			if err := follow(ctx, &t); err != nil && ctx.Err() == nil {
				b.log.Error("events: tailing cursor died", "err", err)
			}
			// A cursor that lived a while failed for a fresh reason; only
			// quick repeated failures should slow us down.
			if time.Since(opened) > 5*time.Second {
				delay = minBackoff
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, maxBackoff)
	}
}

// start positions t at the newest event, writing the sentinel if the spine
// is empty, and marks the window before it as seen so that only events
// published from now on are delivered.
func (b *Bus) start(ctx context.Context, t *tail) error {
	newest := func() (bson.ObjectID, error) {
		var d struct {
			ID bson.ObjectID `bson:"_id"`
		}
		err := b.col.FindOne(ctx, bson.D{}, options.FindOne().
			SetSort(bson.D{{Key: "$natural", Value: -1}}).
			SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&d)
		return d.ID, err
	}
	id, err := newest()
	if errors.Is(err, driver.ErrNoDocuments) {
		if err := b.Publish(ctx, Event{Type: typeStart}); err != nil {
			return err
		}
		id, err = newest()
	}
	if err != nil {
		return err
	}
	nt := tail{high: id, seen: map[bson.ObjectID]struct{}{}}
	cur, err := b.col.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: nt.from()}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup("_id").ObjectIDOK(); ok {
			nt.add(id)
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	*t = nt
	return nil
}

// follow opens one tailable cursor from t's rewind window and delivers new
// events until the cursor dies or ctx is done. A tailable cursor returns the
// capped collection in natural order, and MongoDB serializes writes to a
// capped collection, so an event published after another's Publish returned
// comes later on every process, whatever their ObjectIDs say.
func (b *Bus) follow(ctx context.Context, t *tail) error {
	opts := options.Find().SetCursorType(options.TailableAwait).SetMaxAwaitTime(maxAwait)
	if b.db.Ferret {
		// FerretDB closes a tailable cursor whose first batch is not full.
		// The window always holds the last seen event, so one is there.
		opts.SetBatchSize(1)
	}
	cur, err := b.col.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: t.from()}}}}, opts)
	if err != nil {
		return err
	}
	defer func() {
		// ctx may be done; still tell the server to free the cursor.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = cur.Close(cctx)
	}()
	if b.db.Ferret {
		cur.SetBatchSize(100) // only the first batch has to be full
	}
	if cur.ID() != 0 {
		b.readyOnce.Do(func() { close(b.ready) })
		if b.onOpen != nil {
			b.onOpen(cur.ID())
		}
	}
	for ctx.Err() == nil {
		// TryNext waits at most maxAwait per call; Next would loop until
		// the client-wide operation timeout and fail the cursor with it.
		if cur.TryNext(ctx) {
			id, ok := cur.Current.Lookup("_id").ObjectIDOK()
			if !ok || !t.add(id) {
				continue
			}
			var e Event
			if err := cur.Decode(&e); err != nil {
				b.log.Error("events: undecodable event skipped", "id", id, "err", err)
				continue
			}
			if e.Type != typeStart {
				b.deliver(e)
			}
			continue
		}
		if err := cur.Err(); err != nil {
			return err
		}
		if cur.ID() == 0 {
			return errors.New("cursor closed by server")
		}
	}
	return nil
}

// poll follows the spine on FerretDB. Its tailable cursors cannot be trusted:
// FerretDB numbers a capped collection's records before the insert commits
// and a cursor resumes after the highest number it returned, so of two
// concurrent inserts the one that commits second may be skipped for good.
// Polling the rewind window and skipping ids already seen delivers such a
// late event too.
//
// Events come out in record order, not _id order. An ObjectID is ordered by
// its second, then by bytes random per process, so two servers' events of
// one second sort by chance (an engineer's accept before the butler's
// dispatch it answered). FerretDB v1.24 numbers a record with the insert's
// second and a counter of its own process (backends.InsertAll:
// types.NextTimestamp), so the record order is the order in which it took
// the inserts, whichever server sent them: an event published after
// another's Publish returned always comes later (unless the machine's clock
// steps back across a second). Concurrent publishes may
// commit out of record order; the later-numbered one is then delivered
// first and the other on the next poll, as with MongoDB's concurrent writers.
// (It holds for one FerretDB serving every server, as the embedded database
// does; two FerretDB processes on one SQLite file would each count alone.)
//
// The find has no sort: on a capped collection FerretDB then orders by
// record id in SQLite and nowhere else, whereas an explicit {$natural: 1}
// is also handed to its in-memory sort, which knows no $natural and keeps
// the order only because Go's sort happens to leave equal keys alone.
func (b *Bus) poll(ctx context.Context, t *tail) error {
	wait := pollEvery
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var trimmed time.Time
	for {
		if time.Since(trimmed) > trimEvery {
			if err := b.trim(ctx, time.Now().Add(-keep)); err != nil {
				return err
			}
			trimmed = time.Now()
		}
		polled := time.Now()
		cur, err := b.col.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: t.from()}}}})
		if err != nil {
			return err
		}
		b.readyOnce.Do(func() { close(b.ready) })
		fresh := false
		for cur.Next(ctx) {
			id, ok := cur.Current.Lookup("_id").ObjectIDOK()
			if !ok || !t.add(id) {
				continue
			}
			fresh = true
			var e Event
			if err := cur.Decode(&e); err != nil {
				b.log.Error("events: undecodable event skipped", "id", id, "err", err)
				continue
			}
			if e.Type != typeStart {
				b.deliver(e)
			}
		}
		err = cur.Err()
		_ = cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		wait = nextPoll(wait, fresh)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-b.kick:
			// The next quiet stretch backs off from the start again.
			wait = pollEvery / 2
			// Every poll reads the whole (trimmed) spine: a burst of
			// publishes is read together, at most once per kickGap.
			if d := kickGap - time.Since(polled); d > 0 {
				time.Sleep(d)
			}
		}
	}
}

// nextPoll is the wait after a poll that found new events (fresh) or not.
func nextPoll(wait time.Duration, fresh bool) time.Duration {
	if fresh {
		return pollEvery
	}
	return min(2*wait, pollIdle)
}

// trim deletes the events published before cutoff.
func (b *Bus) trim(ctx context.Context, cutoff time.Time) error {
	var floor bson.ObjectID
	binary.BigEndian.PutUint32(floor[:4], uint32(cutoff.Unix()))
	if _, err := b.col.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: floor}}}}); err != nil {
		return fmt.Errorf("events: trim spine: %w", err)
	}
	return nil
}
