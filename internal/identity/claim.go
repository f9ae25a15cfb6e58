package identity

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

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
