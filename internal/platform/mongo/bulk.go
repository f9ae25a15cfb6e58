package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretMaxStatements bounds the single-document statements of one write
// command on FerretDB v1.24: an updateOne or replaceOne stops reading its
// match after the first document and keeps that read, and with it a pooled
// SQLite connection, until the whole command ends; the pool holds 100, and a
// command with more such statements waits for a connection forever. An
// updateMany reads its matches to the end, which hands the connection back,
// so statements of that kind are not counted (by _id it changes the same
// single document).
const ferretMaxStatements = 50

// BulkWrite runs models unordered on col, as one command on MongoDB and in
// commands FerretDB can finish on FerretDB. Every model is attempted even
// when one fails; the first error is returned.
func (db *DB) BulkWrite(ctx context.Context, col *mongo.Collection, models []mongo.WriteModel) error {
	_, _, err := db.BulkWriteResult(ctx, col, models)
	return err
}

// BulkWriteResult is BulkWrite, adding up how many documents the models
// matched and changed.
func (db *DB) BulkWriteResult(ctx context.Context, col *mongo.Collection, models []mongo.WriteModel) (matched, modified int64, err error) {
	for len(models) > 0 {
		n := len(models)
		if db.Ferret {
			n = ferretChunk(models)
		}
		res, e := col.BulkWrite(ctx, models[:n], options.BulkWrite().SetOrdered(false))
		if res != nil {
			matched += res.MatchedCount
			modified += res.ModifiedCount
		}
		if e != nil && err == nil {
			err = e
		}
		models = models[n:]
	}
	return matched, modified, err
}

// ferretChunk is how many of models one FerretDB command takes: at most
// ferretMaxStatements single-document updates.
func ferretChunk(models []mongo.WriteModel) int {
	single := 0
	for i, m := range models {
		switch m.(type) {
		case *mongo.UpdateOneModel, *mongo.ReplaceOneModel:
			if single++; single > ferretMaxStatements {
				return i
			}
		}
	}
	return len(models)
}
