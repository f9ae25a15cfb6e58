package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretMaxStatements bounds the statements of one write command on FerretDB
// v1.24: each update statement keeps a pooled SQLite connection until the
// whole command ends, the pool holds 100, and a command with more statements
// waits for a connection forever.
const ferretMaxStatements = 50

// BulkWrite runs models unordered on col, as one command on MongoDB and in
// commands FerretDB can finish on FerretDB. Every model is attempted even
// when one fails; the first error is returned.
func (db *DB) BulkWrite(ctx context.Context, col *mongo.Collection, models []mongo.WriteModel) error {
	step := len(models)
	if db.Ferret {
		step = ferretMaxStatements
	}
	var first error
	for len(models) > 0 {
		n := min(step, len(models))
		if _, err := col.BulkWrite(ctx, models[:n], options.BulkWrite().SetOrdered(false)); err != nil && first == nil {
			first = err
		}
		models = models[n:]
	}
	return first
}
