package identity

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// limit is one fixed-window counter: at most Max hits per Window for a key.
type limit struct {
	Key    string
	Window time.Duration
	Max    int
}

// hit counts one event in the limit's current window and reports whether it
// stayed within the limit. Fixed windows (one document per key and window
// start) need only an upsert with $inc, which every server supports, plus a
// slot claim that keeps the limit exact where that $inc is not atomic; their
// weakness, a burst of twice the limit across a window boundary, does not
// matter at these sizes.
func (s *Service) hit(ctx context.Context, l limit) (bool, error) {
	start := s.now().Truncate(l.Window)
	id := fmt.Sprintf("%s@%d", l.Key, start.Unix())
	var doc struct {
		N int `bson:"n"`
	}
	end := start.Add(l.Window)
	err := upsertInc(ctx, s.db.Collection(colCounters), id, bson.M{
		"$inc": bson.M{"n": 1},
		"$set": bson.M{"expiresAt": end},
	}, &doc)
	if err != nil || doc.N > l.Max {
		return false, err
	}
	return s.claimSlot(ctx, "rl:"+id, doc.N, l.Max, end)
}

// allow checks limits in order and stops at the first one exceeded, so a
// request refused by a narrow limit does not also spend a wider budget (a
// double tap must not eat into the day's allowance).
func (s *Service) allow(ctx context.Context, limits ...limit) (bool, error) {
	for _, l := range limits {
		ok, err := s.hit(ctx, l)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// claim inserts a marker whose unique _id lets exactly one caller win. It is
// the backstop behind every "only once" and "at most n" rule here: a guarded
// findOneAndUpdate is atomic on MongoDB, but FerretDB v1 runs it as a read
// followed by a write, so two racing requests can both pass the guard and an
// $inc can be lost. A unique-key insert is atomic on both.
func (s *Service) claim(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	_, err := s.db.Collection(colClaims).InsertOne(ctx, bson.M{"_id": id, "expiresAt": expiresAt})
	if mongo.IsDuplicate(err) {
		return false, nil
	}
	return err == nil, err
}

// claimSlot claims the first free slot prefix#n for n from start to max. The
// caller passes the count its $inc returned as start, so on MongoDB the first
// insert succeeds; only a lost race walks further.
func (s *Service) claimSlot(ctx context.Context, prefix string, start, max int, expiresAt time.Time) (bool, error) {
	for n := max1(start); n <= max; n++ {
		ok, err := s.claim(ctx, fmt.Sprintf("%s#%d", prefix, n), expiresAt)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
