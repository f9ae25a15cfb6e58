package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/mongo"
)

// Outbox sends due deliveries through their channels. Any number of workers
// on any number of servers may run: a delivery is claimed with a lease, and
// the claim of each attempt is a unique key, so two workers never send the
// same attempt. A round of deliveries costs the same few commands whatever
// its size: one read, one insert of claims, one bulk write of leases, the
// channel's own lookups, and one bulk write of the results.
type Outbox struct {
	db                                *mongo.DB
	deliveries, notifications, claims *mgo.Collection
	senders                           map[string]Sender
	owner                             string
	rounds                            atomic.Uint64 // numbers each round's lease token
	lease                             time.Duration
	maxAttempts                       int
	batch                             int
	log                               *slog.Logger
	now                               func() time.Time
	bus                               *events.Bus
}

// OutboxConfig tunes the outbox.
type OutboxConfig struct {
	Senders     []Sender
	Lease       time.Duration // default 2m: a worker that dies frees its claims after this
	MaxAttempts int           // default 8
	Batch       int           // deliveries per round; default 2000
	Log         *slog.Logger
	Now         func() time.Time
	// Bus, when set, wakes the worker as soon as new deliveries are queued.
	Bus *events.Bus
}

// NewOutbox makes a worker.
func NewOutbox(db *mongo.DB, cfg OutboxConfig) *Outbox {
	o := &Outbox{
		db:         db,
		deliveries: db.Collection("deliveries"), notifications: db.Collection("notifications"), claims: db.Collection("delivery_claims"),
		senders: map[string]Sender{}, owner: fmt.Sprintf("w%08x", rand.Uint32()), lease: cfg.Lease, maxAttempts: cfg.MaxAttempts,
		batch: cfg.Batch, log: cfg.Log, now: cfg.Now, bus: cfg.Bus,
	}
	for _, s := range cfg.Senders {
		o.senders[s.Channel()] = s
	}
	if o.lease == 0 {
		o.lease = 2 * time.Minute
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 8
	}
	if o.batch == 0 {
		// A round costs the same few commands whatever its size, so large
		// rounds cost few per message; 2,000 deliveries read in one reply
		// are about a megabyte.
		o.batch = 2000
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run works the outbox until ctx ends. Between rounds it sleeps until the
// earliest delivery is due (a quiet-hours hold, a retry's backoff, an
// expired lease), at most maxIdle, and wakes at once when any server's
// engine queues new deliveries (the spine's notification.created). maxIdle
// bounds what no event announces: a resumed fan-out, a clock moved in tests.
func (o *Outbox) Run(ctx context.Context, maxIdle time.Duration) {
	if maxIdle <= 0 {
		maxIdle = time.Second
	}
	var wake <-chan events.Event
	stop := func() {}
	defer func() { stop() }()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if wake == nil && o.bus != nil {
			wake, stop = o.bus.Subscribe(func(e events.Event) bool { return e.Type == TypeCreated }, 16)
		}
		n, err := o.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			o.log.Warn("outbox", "err", err)
		}
		if n > 0 {
			continue // more may be waiting
		}
		sleep := maxIdle
		if err == nil {
			next, err := o.nextDue(ctx)
			if err != nil && ctx.Err() == nil {
				o.log.Warn("outbox: next due delivery", "err", err)
			}
			if !next.IsZero() {
				// Due now but not taken (another worker holds it): look
				// again soon, not in a spin.
				sleep = min(max(next.Sub(o.now()), minIdle), maxIdle)
			}
		}
		timer.Reset(sleep)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case _, ok := <-wake:
			if !ok { // dropped as a slow subscriber: subscribe again
				stop()
				wake = nil
				continue
			}
			drain(wake)
		}
	}
}

// TypeCreated is the spine event the engine publishes when it has written
// inbox entries and queued their deliveries.
const TypeCreated = "notification.created"

// minIdle spaces the looks at work that is due but held by another worker.
const minIdle = 100 * time.Millisecond

func drain(ch <-chan events.Event) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// nextDue is when the earliest delivery of a channel with a sender becomes
// takeable: a pending one's next attempt, or a sending one's lease end.
// Zero when there is none. Two reads, made only when the outbox goes idle.
func (o *Outbox) nextDue(ctx context.Context) (time.Time, error) {
	chans := make([]string, 0, len(o.senders))
	for ch := range o.senders {
		chans = append(chans, ch)
	}
	var next time.Time
	for _, f := range []struct{ status, field string }{{StatusPending, "nextAttemptAt"}, {StatusSending, "leaseUntil"}} {
		var d bson.Raw
		err := o.deliveries.FindOne(ctx, bson.D{{Key: "channel", Value: bson.D{{Key: "$in", Value: chans}}}, {Key: "status", Value: f.status}},
			options.FindOne().SetSort(bson.D{{Key: f.field, Value: 1}}).SetProjection(bson.D{{Key: f.field, Value: 1}})).Decode(&d)
		if errors.Is(err, mgo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if v, ok := d.Lookup(f.field).TimeOK(); ok && (next.IsZero() || v.Before(next)) {
			next = v
		}
	}
	return next, nil
}

// RunOnce claims and sends one round per channel; it returns how many
// deliveries it handled.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for ch, sender := range o.senders {
		n, err := o.runChannel(ctx, ch, sender)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (o *Outbox) runChannel(ctx context.Context, ch string, sender Sender) (int, error) {
	// A round may take as long as its lease, not the client's default
	// operation timeout: the embedded database reads a large outbox slowly,
	// and a round cut short every time would never send anything.
	ctx, cancel := context.WithTimeout(ctx, o.lease)
	defer cancel()
	now := o.now().UTC()
	limit := o.batch
	if l, ok := sender.(batchLimiter); ok {
		limit = min(limit, l.MaxBatch())
	}
	due, err := o.due(ctx, ch, now, limit)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	r, err := o.claim(ctx, due, now)
	if err != nil || len(r.ds) == 0 {
		return 0, err
	}
	out, err := o.render(ctx, r.ds)
	if err != nil {
		return 0, err
	}
	results := sender.Send(ctx, out)
	return len(r.ds), o.record(context.WithoutCancel(ctx), r, results)
}

// dueFilter matches deliveries a worker may take: due work, and work whose
// worker died (lease expired).
func dueFilter(now time.Time) bson.D {
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: StatusPending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		bson.D{{Key: "status", Value: StatusSending}, {Key: "leaseUntil", Value: bson.D{{Key: "$lt", Value: now}}}},
	}}}
}

// sendFields are what a round reads of a delivery.
var sendFields = bson.D{
	{Key: "notificationId", Value: 1}, {Key: "recipientKind", Value: 1}, {Key: "recipientId", Value: 1}, {Key: "kind", Value: 1},
	{Key: "priority", Value: 1}, {Key: "attempts", Value: 1}, {Key: "title", Value: 1}, {Key: "body", Value: 1}, {Key: "data", Value: 1},
	{Key: "channel", Value: 1}, {Key: "status", Value: 1}, {Key: "leaseOwner", Value: 1},
}

// due reads up to limit takeable deliveries, most important first, in one
// reply: the default first batch of 101 would add getMores, and a batch of
// exactly the limit leaves FerretDB's cursor open for one more.
func (o *Outbox) due(ctx context.Context, ch string, now time.Time, limit int) ([]Delivery, error) {
	filter := append(bson.D{{Key: "channel", Value: ch}}, dueFilter(now)...)
	cur, err := o.deliveries.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "priority", Value: -1}, {Key: "nextAttemptAt", Value: 1}}).
		SetLimit(int64(limit)).SetBatchSize(int32(limit+1)).SetProjection(sendFields))
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	due := make([]Delivery, 0, limit)
	for cur.Next(ctx) {
		d, err := decodeSending(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("due delivery: %w", err)
		}
		due = append(due, d)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	return due, nil
}

// round is what one worker holds between claiming and recording: its
// deliveries (attempts already counted), the lease token written on them and
// when it was taken.
type round struct {
	ds    []Delivery
	token string
	at    time.Time
}

// claimKeep is how long a claim document is kept: far past any lease, by
// when its attempt has been recorded (or was never leased, and deleting the
// claim lets another worker take the delivery).
const claimKeep = 24 * time.Hour

// SweepClaims deletes the claim documents made before cutoff; without it
// the collection grows by one document per delivery attempt. Run it from a
// periodic job.
func (o *Outbox) SweepClaims(ctx context.Context, now time.Time) error {
	if _, err := o.claims.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-claimKeep)}}}}); err != nil {
		return fmt.Errorf("sweep delivery claims: %w", err)
	}
	return nil
}

// claim takes a lease on deliveries in two commands whatever their number.
// First one unique claim document per delivery attempt, inserted in one
// unordered batch: the inserts that succeed are ours, on MongoDB and on
// FerretDB alike (whose updates are not atomic). Then one bulk write marks
// each as sending under this round's token and counts the attempt.
//
// Each update finds its delivery by _id alone, an index lookup on both
// databases (FerretDB uses an index only for a filter that is _id and
// nothing else; an $in of the round's ids costs it the whole table once
// per id). A delivery read as pending cannot have changed since: only the
// holder of the next attempt's claim (this round) may touch it. One read as
// sending under an expired lease may still be recorded by its late worker,
// so that update also checks the old lease owner.
func (o *Outbox) claim(ctx context.Context, due []Delivery, now time.Time) (round, error) {
	docs := make([]any, len(due))
	for i, d := range due {
		docs[i] = bson.Raw(bsoncore.NewDocumentBuilder().AppendString("_id", d.ID+"#"+strconv.Itoa(d.Attempts+1)).
			AppendString("owner", o.owner).AppendDateTime("at", now.UnixMilli()).Build())
	}
	var lost map[int]bool
	if _, err := o.claims.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		var bwe mgo.BulkWriteException
		if !asBulk(err, &bwe) {
			return round{}, fmt.Errorf("claim deliveries: %w", err)
		}
		lost = make(map[int]bool, len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return round{}, fmt.Errorf("claim deliveries: %w", err)
			}
			lost[we.Index] = true
		}
	}
	r := round{ds: make([]Delivery, 0, len(due)-len(lost)), token: o.owner + "." + strconv.FormatUint(o.rounds.Add(1), 36), at: now}
	if len(due) == len(lost) {
		return r, nil
	}
	lease, err := bson.Marshal(bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: StatusSending}, {Key: "leaseUntil", Value: now.Add(o.lease)}, {Key: "leaseOwner", Value: r.token}}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	})
	if err != nil {
		return round{}, fmt.Errorf("lease deliveries: %w", err)
	}
	models := make([]mgo.WriteModel, 0, cap(r.ds))
	for i, d := range due {
		if lost[i] {
			continue
		}
		var filter bson.Raw
		if d.Status == StatusPending {
			filter = idFilter(d.ID, "", "")
		} else {
			filter = idFilter(d.ID, "leaseOwner", d.LeaseOwner)
		}
		// updateMany: on FerretDB it hands its connection back at once
		// (see mongo.BulkWrite); by _id it changes one document all the same.
		models = append(models, mgo.NewUpdateManyModel().SetFilter(filter).SetUpdate(bson.Raw(lease)))
		d.Attempts++
		r.ds = append(r.ds, d)
	}
	matched, _, err := o.db.BulkWriteResult(ctx, o.deliveries, models)
	if err != nil {
		return round{}, fmt.Errorf("lease deliveries: %w", err)
	}
	if int(matched) < len(r.ds) {
		// Rare: a late worker recorded a delivery this round took over.
		// Learn which are ours with one more read rather than send one twice.
		return o.leased(ctx, r)
	}
	return r, nil
}

// idFilter is {_id: id} or {_id: id, key: value}, built directly: a round
// has thousands, and the driver would encode each bson.D by reflection.
func idFilter(id, key, value string) bson.Raw {
	b := bsoncore.NewDocumentBuilder().AppendString("_id", id)
	if key != "" {
		b.AppendString(key, value)
	}
	return bson.Raw(b.Build())
}

// leased keeps the deliveries of r that carry its lease token. It reads
// the channel's deliveries in flight, which the outbox's index serves.
func (o *Outbox) leased(ctx context.Context, r round) (round, error) {
	cur, err := o.deliveries.Find(ctx, bson.D{{Key: "channel", Value: r.ds[0].Channel}, {Key: "status", Value: StatusSending}, {Key: "leaseOwner", Value: r.token}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(int32(len(r.ds))))
	if err != nil {
		return round{}, fmt.Errorf("leased deliveries: %w", err)
	}
	var held []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &held); err != nil {
		return round{}, fmt.Errorf("leased deliveries: %w", err)
	}
	ours := make(map[string]bool, len(held))
	for _, h := range held {
		ours[h.ID] = true
	}
	kept := r.ds[:0]
	for _, d := range r.ds {
		if ours[d.ID] {
			kept = append(kept, d)
		}
	}
	r.ds = kept
	return r, nil
}

// render turns claimed deliveries into messages. Deliveries carry their
// rendered text; only one written without it is looked up in notifications.
func (o *Outbox) render(ctx context.Context, ds []Delivery) ([]Outgoing, error) {
	var missing []string
	for _, d := range ds {
		if d.Title == "" {
			missing = append(missing, d.NotificationID)
		}
	}
	byID := map[string]Notification{}
	if len(missing) > 0 {
		cur, err := o.notifications.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: missing}}}})
		if err != nil {
			return nil, fmt.Errorf("notifications of deliveries: %w", err)
		}
		var ns []Notification
		if err := cur.All(ctx, &ns); err != nil {
			return nil, fmt.Errorf("notifications of deliveries: %w", err)
		}
		for _, n := range ns {
			byID[n.ID] = n
		}
	}
	out := make([]Outgoing, len(ds))
	for i, d := range ds {
		if d.Title == "" {
			n := byID[d.NotificationID]
			d.Title, d.Body, d.Data = n.Title, n.Body, n.Data
		}
		// d.Data was decoded for this round alone: the channel may keep it.
		out[i] = Outgoing{DeliveryID: d.ID, NotificationID: d.NotificationID, RecipientKind: auth.Kind(d.RecipientKind), RecipientID: d.RecipientID,
			Kind: d.Kind, Priority: d.Priority, Title: d.Title, Body: d.Body, Data: d.Data, Attempt: d.Attempts}
	}
	return out, nil
}
