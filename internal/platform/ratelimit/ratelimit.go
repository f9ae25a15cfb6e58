// Package ratelimit counts hits over rolling windows, exactly, across every
// server process sharing one database, on MongoDB and FerretDB alike.
//
// Each key is a log of numbered hits: documents key#1, key#2, ... holding the
// time of the hit. Numbers are claimed by inserting the document: a unique
// _id insert is atomic on both servers, where FerretDB v1 runs a guarded
// findOneAndUpdate as a read followed by a write (two racers both pass).
// A rule "at most Max hits per Window" then needs one read: hit number n may
// be taken only if hit number n-Max is older than the window, because the
// hits in between are at most Max-1. A hit that is given back (Release) leaves
// a hole, which correctly counts as a free slot. Fixed windows, by contrast,
// let two hits 0.75 s apart pass a 1-per-minute rule across a minute boundary.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// Collection holds the hit logs.
const Collection = "rate_hits"

func init() {
	mongo.Declare(mongo.Indexes{Collection: Collection, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "k", Value: 1}, {Key: "n", Value: -1}}},
		{Keys: bson.D{{Key: "k", Value: 1}, {Key: "at", Value: 1}}},
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
	}})
}

// Rule allows at most Max hits on Key in any Window. Max <= 0 records hits
// without limiting them (failure logs that other decisions count). A key
// belongs to one rule: use distinct keys for distinct windows.
type Rule struct {
	Key    string
	Window time.Duration
	Max    int
}

// Limiter counts hits in the database.
type Limiter struct {
	col *mgo.Collection
	now func() time.Time
}

// New returns a limiter on db; now may be nil.
func New(db *mongo.DB, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{col: db.Collection(Collection), now: now}
}

type hitDoc struct {
	ID        string    `bson:"_id"`
	Key       string    `bson:"k"`
	N         int64     `bson:"n"`
	At        time.Time `bson:"at"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// Hits are the hits one Take counted, so a caller can give them back when
// the request turns out not to count (a successful login does not spend a
// failure budget).
type Hits struct {
	l   *Limiter
	ids []string
}

// Release gives the hits back. It is safe on nil.
func (h *Hits) Release(ctx context.Context) error {
	if h == nil || len(h.ids) == 0 {
		return nil
	}
	_, err := h.l.col.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": h.ids}})
	h.ids = nil
	return err
}

// Allow counts one hit on every rule, or on none: a request refused by one
// rule spends no other rule's budget (a double tap must not eat into the
// day's allowance). On refusal it returns how long until the refusing rule
// has room again, always at least a second.
func (l *Limiter) Allow(ctx context.Context, rules ...Rule) (retryAfter time.Duration, err error) {
	_, retryAfter, err = l.Take(ctx, rules...)
	return retryAfter, err
}

// Take is Allow that also returns the hits taken (nil when refused).
func (l *Limiter) Take(ctx context.Context, rules ...Rule) (*Hits, time.Duration, error) {
	now := l.now().Truncate(time.Millisecond) // what BSON keeps
	h := &Hits{l: l}
	for _, r := range rules {
		id, wait, err := l.take(ctx, r, now)
		if err == nil && wait == 0 {
			h.ids = append(h.ids, id)
			continue
		}
		// Undo the rules already counted; a failed undo only makes the
		// limit stricter for a while, so the first error is the one to return.
		if rerr := h.Release(ctx); err == nil && rerr != nil {
			err = rerr
		}
		return nil, wait, err
	}
	return h, 0, nil
}

// take claims the next hit number on r.Key if the rule allows it.
func (l *Limiter) take(ctx context.Context, r Rule, now time.Time) (string, time.Duration, error) {
	last, err := l.lastN(ctx, r.Key)
	if err != nil {
		return "", 0, err
	}
	for n := last + 1; ; n++ {
		if r.Max > 0 && n > int64(r.Max) {
			at, found, err := l.hitTime(ctx, r.Key, n-int64(r.Max))
			if err != nil {
				return "", 0, err
			}
			if found && at.After(now.Add(-r.Window)) {
				return "", roundUp(at.Add(r.Window).Sub(now)), nil
			}
		}
		id := hitID(r.Key, n)
		_, err := l.col.InsertOne(ctx, hitDoc{ID: id, Key: r.Key, N: n, At: now, ExpiresAt: now.Add(r.Window)})
		if err == nil {
			return id, 0, nil
		}
		if !mongo.IsDuplicate(err) {
			return "", 0, fmt.Errorf("ratelimit: %s: %w", r.Key, err)
		}
		// Someone else took number n; the next one must pass the rule anew.
	}
}

func hitID(key string, n int64) string { return fmt.Sprintf("%s#%d", key, n) }

func (l *Limiter) lastN(ctx context.Context, key string) (int64, error) {
	var d hitDoc
	err := l.col.FindOne(ctx, bson.M{"k": key},
		options.FindOne().SetSort(bson.D{{Key: "n", Value: -1}}).SetProjection(bson.M{"n": 1})).Decode(&d)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	return d.N, nil
}

func (l *Limiter) hitTime(ctx context.Context, key string, n int64) (time.Time, bool, error) {
	var d hitDoc
	err := l.col.FindOne(ctx, bson.M{"_id": hitID(key, n)}).Decode(&d)
	if errors.Is(err, mgo.ErrNoDocuments) {
		// Never taken, given back, or swept after expiry: free either way.
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	return d.At, true, nil
}

// Count is how many hits key has had in the window ending now, and when the
// latest of them was. Throttling decisions (growing delays, alerts) use it.
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) (n int, latest time.Time, err error) {
	now := l.now().Truncate(time.Millisecond)
	cur, err := l.col.Find(ctx, bson.M{"k": key, "at": bson.M{"$gt": now.Add(-window)}},
		options.Find().SetProjection(bson.M{"at": 1}))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	var docs []hitDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, time.Time{}, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	for _, d := range docs {
		if d.At.After(latest) {
			latest = d.At
		}
	}
	return len(docs), latest, nil
}

// Clear forgets every hit on key (a successful login forgives its failures).
func (l *Limiter) Clear(ctx context.Context, key string) error {
	_, err := l.col.DeleteMany(ctx, bson.M{"k": key})
	return err
}

// Sweep deletes hits that no window can count any more. Expiry is checked on
// read, so this only keeps the collection small; run it from a job.
func (l *Limiter) Sweep(ctx context.Context) error {
	_, err := l.col.DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lt": l.now()}})
	return err
}

// roundUp makes a wait whole seconds, at least one, as Retry-After needs.
func roundUp(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// Seconds is a wait as the integer seconds Retry-After carries (at least 1).
func Seconds(d time.Duration) int { return int(roundUp(d) / time.Second) }
