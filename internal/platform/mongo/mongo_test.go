package mongo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }

func init() { Declare(Indexes{Collection: "mongo_test_declared"}) }

// plan returns SQLite's plan for FerretDB's lookup by _id on a collection.
func plan(t *testing.T, db *DB, collection string) string {
	t.Helper()
	sq, err := sql.Open("sqlite", "file:"+filepath.Join(db.ids.dir, db.Name()+".sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	var table string
	if err := sq.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatalf("table of %s: %v", collection, err)
	}
	rows, err := sq.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "; ")
}

// On the embedded FerretDB a lookup by _id must not scan the table: every
// update of the outbox is one.
func TestEmbeddedLookupByIDUsesAnIndex(t *testing.T) {
	db := NewTestDB(t, Options{})
	if db.ids == nil {
		t.Skip("not the embedded FerretDB")
	}
	if p := plan(t, db, "mongo_test_declared"); !strings.Contains(p, "USING INDEX") {
		t.Fatalf("declared collection: %s", p)
	}
	// A collection nobody declared, created by its first insert, is indexed
	// by the background pass.
	ctx := context.Background()
	if _, err := db.Collection("mongo_test_late").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p := plan(t, db, "mongo_test_late"); !strings.Contains(p, "USING INDEX"); p = plan(t, db, "mongo_test_late") {
		if time.Now().After(deadline) {
			t.Fatalf("late collection still scanned: %s", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A bulk write larger than FerretDB's connection pool finishes (FerretDB
// would wait for a connection until the client timed out) and applies every
// statement.
func TestBulkWriteOfManyUpdates(t *testing.T) {
	db := NewTestDB(t, Options{})
	ctx := context.Background()
	col := db.Collection("mongo_test_declared")
	docs := make([]any, 500)
	models := make([]mongo.WriteModel, 500)
	for i := range docs {
		id := fmt.Sprintf("d%03d", i)
		docs[i] = bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 0}}
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	}
	if _, err := col.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := db.BulkWrite(ctx, col, models); err != nil {
		t.Fatal(err)
	}
	n, err := col.CountDocuments(ctx, bson.D{{Key: "n", Value: 1}})
	if err != nil || n != 500 {
		t.Fatalf("updated %d, err %v", n, err)
	}
}

// Per-document updateMany statements by _id go to FerretDB as one command
// however many there are (each hands its connection back), and all apply.
func TestBulkWriteOfManyUpdateManyByID(t *testing.T) {
	var updates atomic.Int64
	db := NewTestDB(t, Options{Monitor: &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "update" {
			updates.Add(1)
		}
	}}})
	ctx := context.Background()
	col := db.Collection("mongo_test_declared")
	const n = 1500 // well past the pool of 100
	docs := make([]any, n)
	models := make([]mongo.WriteModel, n)
	for i := range docs {
		id := fmt.Sprintf("d%04d", i)
		docs[i] = bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 0}}
		models[i] = mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	}
	if _, err := col.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	matched, _, err := db.BulkWriteResult(ctx, col, models)
	if err != nil || matched != n {
		t.Fatalf("matched %d of %d: %v", matched, n, err)
	}
	if got := updates.Load(); got != 1 {
		t.Errorf("%d update commands, want 1", got)
	}
	c, err := col.CountDocuments(ctx, bson.D{{Key: "n", Value: 1}})
	if err != nil || c != n {
		t.Fatalf("updated %d, err %v", c, err)
	}
}
