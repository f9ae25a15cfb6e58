package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// Outbox sends due deliveries through their channels. Any number of workers
// on any number of servers may run: a delivery is claimed with a lease, and
// the claim of each attempt is a unique key, so two workers never send the
// same attempt.
type Outbox struct {
	db                                *mongo.DB
	deliveries, notifications, claims *mgo.Collection
	senders                           map[string]Sender
	owner                             string
	lease                             time.Duration
	maxAttempts                       int
	batch                             int
	log                               *slog.Logger
	now                               func() time.Time
}

// OutboxConfig tunes the outbox.
type OutboxConfig struct {
	Senders     []Sender
	Lease       time.Duration // default 2m: a worker that dies frees its claims after this
	MaxAttempts int           // default 8
	Batch       int           // default 500 (2000 on FerretDB)
	Log         *slog.Logger
	Now         func() time.Time
}

// NewOutbox makes a worker.
func NewOutbox(db *mongo.DB, cfg OutboxConfig) *Outbox {
	o := &Outbox{
		db:         db,
		deliveries: db.Collection("deliveries"), notifications: db.Collection("notifications"), claims: db.Collection("delivery_claims"),
		senders: map[string]Sender{}, owner: fmt.Sprintf("w%08x", rand.Uint32()), lease: cfg.Lease, maxAttempts: cfg.MaxAttempts,
		batch: cfg.Batch, log: cfg.Log, now: cfg.Now,
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
		o.batch = 500
		if db.Ferret {
			// FerretDB reads the whole outbox for every batch (it filters
			// without indexes), so fewer, larger batches cost less.
			o.batch = 2000
		}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run works the outbox until ctx ends, polling every interval when idle.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		n, err := o.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			o.log.Warn("outbox", "err", err)
		}
		if n > 0 {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// RunOnce claims and sends one batch per channel; it returns how many
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
	// Due work, and work whose worker died (lease expired), most important first.
	cur, err := o.deliveries.Find(ctx, bson.D{
		{Key: "channel", Value: ch},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "status", Value: StatusPending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
			bson.D{{Key: "status", Value: StatusSending}, {Key: "leaseUntil", Value: bson.D{{Key: "$lt", Value: now}}}},
		}},
	}, options.Find().SetSort(bson.D{{Key: "priority", Value: -1}, {Key: "nextAttemptAt", Value: 1}}).SetLimit(int64(o.batch)))
	if err != nil {
		return 0, fmt.Errorf("due deliveries: %w", err)
	}
	var due []Delivery
	if err := cur.All(ctx, &due); err != nil {
		return 0, fmt.Errorf("due deliveries: %w", err)
	}
	if len(due) == 0 {
		return 0, nil
	}
	claimed, err := o.claim(ctx, due, now)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	out, err := o.render(ctx, claimed)
	if err != nil {
		return 0, err
	}
	results := sender.Send(ctx, out)
	return len(claimed), o.record(context.WithoutCancel(ctx), claimed, results, now)
}

// claim takes a lease on deliveries: one unique claim document per delivery
// attempt, inserted in one unordered batch; the inserts that succeed are ours.
func (o *Outbox) claim(ctx context.Context, due []Delivery, now time.Time) ([]Delivery, error) {
	docs := make([]any, len(due))
	for i, d := range due {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("%s#%d", d.ID, d.Attempts+1)}, {Key: "owner", Value: o.owner}, {Key: "at", Value: now}}
	}
	lost := map[int]bool{}
	if _, err := o.claims.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		var bwe mgo.BulkWriteException
		if !asBulk(err, &bwe) {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return nil, fmt.Errorf("claim deliveries: %w", err)
			}
			lost[we.Index] = true
		}
	}
	var mine []Delivery
	var ids []string
	for i, d := range due {
		if !lost[i] {
			d.Attempts++
			mine = append(mine, d)
			ids = append(ids, d.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	until := now.Add(o.lease)
	// One update per delivery, by _id, in one command: MongoDB takes it in
	// one round trip, and the embedded FerretDB finds each row by its index
	// where an $in filter would scan the table (see mongo/ferretidx.go).
	models := make([]mgo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mgo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetUpdate(bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: StatusSending}, {Key: "leaseUntil", Value: until}, {Key: "leaseOwner", Value: o.owner}}},
			{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
		})
	}
	if err := o.db.BulkWrite(ctx, o.deliveries, models); err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	return mine, nil
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
	out := make([]Outgoing, 0, len(ds))
	for _, d := range ds {
		if d.Title == "" {
			n := byID[d.NotificationID]
			d.Title, d.Body, d.Data = n.Title, n.Body, n.Data
		}
		data := make(map[string]string, len(d.Data))
		for k, v := range d.Data {
			data[k] = v
		}
		out = append(out, Outgoing{DeliveryID: d.ID, NotificationID: d.NotificationID, RecipientKind: auth.Kind(d.RecipientKind), RecipientID: d.RecipientID,
			Kind: d.Kind, Priority: d.Priority, Title: d.Title, Body: d.Body, Data: data, Attempt: d.Attempts})
	}
	return out, nil
}

// record writes the results, one update per delivery in one command. Retries
// back off exponentially (with jitter per batch) unless the server said when
// to come back. claimedAt is when the lease was taken.
func (o *Outbox) record(ctx context.Context, ds []Delivery, results []Result, claimedAt time.Time) error {
	byID := make(map[string]Result, len(results))
	for _, r := range results {
		byID[r.DeliveryID] = r
	}
	now := o.now().UTC()
	type outcome struct {
		status string
		next   time.Time
		err    string
	}
	// Within the first half of the lease no other worker can have claimed
	// these deliveries, so the update can find them by _id alone (an index
	// lookup everywhere); later it must also check the lease is still ours.
	guard := o.now().Sub(claimedAt) >= o.lease/2
	jitter := Backoff(1) - 30*time.Second
	models := make([]mgo.WriteModel, 0, len(ds))
	for _, d := range ds {
		r, ok := byID[d.ID]
		if !ok {
			r = Result{DeliveryID: d.ID, Status: StatusRetry, Error: "no result from channel"}
		}
		oc := outcome{status: r.Status, err: r.Error}
		switch r.Status {
		case StatusSent, StatusUndeliverable, StatusFailed, StatusSuppressed:
		case StatusRetry:
			if d.Attempts >= o.maxAttempts {
				oc.status = StatusFailed
				break
			}
			wait := r.RetryAfter
			if wait <= 0 {
				wait = backoffBase(d.Attempts) + jitter
			}
			oc.status, oc.next = StatusPending, now.Add(wait)
		default:
			oc.status = StatusFailed
		}
		set := bson.D{{Key: "status", Value: oc.status}, {Key: "lastError", Value: oc.err}, {Key: "leaseUntil", Value: nil}, {Key: "leaseOwner", Value: ""}}
		if oc.status == StatusSent {
			set = append(set, bson.E{Key: "sentAt", Value: now})
		}
		if !oc.next.IsZero() {
			set = append(set, bson.E{Key: "nextAttemptAt", Value: oc.next})
		}
		filter := bson.D{{Key: "_id", Value: d.ID}}
		if guard {
			filter = append(filter, bson.E{Key: "leaseOwner", Value: o.owner})
		}
		models = append(models, mgo.NewUpdateOneModel().SetFilter(filter).SetUpdate(bson.D{{Key: "$set", Value: set}}))
	}
	if err := o.db.BulkWrite(ctx, o.deliveries, models); err != nil {
		return fmt.Errorf("record delivery results: %w", err)
	}
	return nil
}

func backoffBase(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Backoff is the wait before attempt n+1: 30s doubling, at most 1h, with
// up to 20% jitter so a burst of failures does not return as a burst.
func Backoff(attempts int) time.Duration {
	d := backoffBase(attempts)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
