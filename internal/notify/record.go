package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
)

// outcome is what a result makes of a delivery.
type outcome struct {
	status string
	err    string
	next   time.Time
}

// record writes a round's results in one bulk write of one update per
// delivery, by _id (an index lookup on both databases, see claim). Within
// the first half of the lease no other worker can have taken a delivery
// over; later each update also checks the round's lease token, so a worker
// whose lease ran out cannot overwrite the one that took over. Retries back
// off exponentially (with jitter per round) unless the server said when to
// come back.
func (o *Outbox) record(ctx context.Context, r round, results []Result) error {
	byID := make(map[string]*Result, len(results))
	for i := range results {
		byID[results[i].DeliveryID] = &results[i]
	}
	now := o.now().UTC()
	guard := now.Sub(r.at) >= o.lease/2
	jitter := Backoff(1) - 30*time.Second
	// Most deliveries of a round end alike: they share one update document.
	updates := map[outcome]bson.Raw{}
	models := make([]mgo.WriteModel, len(r.ds))
	for i, d := range r.ds {
		res := byID[d.ID]
		if res == nil {
			res = &Result{DeliveryID: d.ID, Status: StatusRetry, Error: "no result from channel"}
		}
		oc := o.outcome(d, *res, now, jitter)
		update, ok := updates[oc]
		if !ok {
			set := bson.D{{Key: "status", Value: oc.status}, {Key: "lastError", Value: oc.err}, {Key: "leaseUntil", Value: nil}, {Key: "leaseOwner", Value: ""}}
			if oc.status == StatusSent {
				set = append(set, bson.E{Key: "sentAt", Value: now})
			}
			if !oc.next.IsZero() {
				set = append(set, bson.E{Key: "nextAttemptAt", Value: oc.next})
			}
			raw, err := bson.Marshal(bson.D{{Key: "$set", Value: set}})
			if err != nil {
				return fmt.Errorf("record delivery results: %w", err)
			}
			update = raw
			updates[oc] = update
		}
		filter := idFilter(d.ID, "", "")
		if guard {
			filter = idFilter(d.ID, "leaseOwner", r.token)
		}
		models[i] = mgo.NewUpdateManyModel().SetFilter(filter).SetUpdate(update)
	}
	if err := o.db.BulkWrite(ctx, o.deliveries, models); err != nil {
		return fmt.Errorf("record delivery results: %w", err)
	}
	return nil
}

func (o *Outbox) outcome(d Delivery, res Result, now time.Time, jitter time.Duration) outcome {
	oc := outcome{status: res.Status, err: res.Error}
	switch res.Status {
	case StatusSent, StatusUndeliverable, StatusFailed, StatusSuppressed:
	case StatusRetry:
		if d.Attempts >= o.maxAttempts {
			oc.status = StatusFailed
			break
		}
		wait := res.RetryAfter
		if wait <= 0 {
			wait = backoffBase(d.Attempts) + jitter
		}
		oc.status, oc.next = StatusPending, now.Add(wait)
	default:
		oc.status = StatusFailed
	}
	return oc
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
