// Package mongo connects to MongoDB, or starts the embedded FerretDB when no
// MONGODB_URI is configured, and creates the indexes each store declares.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// DB is an open database with the client behind it.
type DB struct {
	*mongo.Database
	Client *mongo.Client
	// Ferret is true when the server is FerretDB, whose tailable cursors need
	// batch size 1 (see DESIGN.md).
	Ferret bool
	// ids, for an embedded server in this process, adds the _id lookup
	// indexes FerretDB lacks (see ferretidx.go).
	ids *idIndexer
}

// Options tune a connection.
type Options struct {
	// Monitor observes every command; benchmarks count round trips with it.
	Monitor *event.CommandMonitor
}

// Connect opens uri and selects database name, verifying the server answers.
func Connect(ctx context.Context, uri, name string, o Options) (*DB, error) {
	co := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).
		SetTimeout(30 * time.Second)
	if o.Monitor != nil {
		co.SetMonitor(o.Monitor)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo connect: %w", err)
	}
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("mongo ping: %w", err)
	}
	db := &DB{Database: client.Database(name), Client: client}
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err == nil {
		_, db.Ferret = info["ferretdbVersion"]
	}
	if x, ok := indexers.Load(uri); ok {
		db.ids = x.(*idIndexer)
	}
	return db, nil
}

// Close disconnects.
func (db *DB) Close(ctx context.Context) error { return db.Client.Disconnect(ctx) }

// Ping reports whether the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.Client.Ping(ctx, readpref.Primary()) }

// Embedded is a FerretDB running inside this process on loopback, storing its
// data in SQLite files under a directory.
type Embedded struct {
	URI    string
	Addr   string // host:port it listens on
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts FerretDB with the SQLite handler in dir, on a free
// loopback port.
func StartEmbedded(ctx context.Context, dir string, log *slog.Logger) (*Embedded, error) {
	return StartEmbeddedAt(ctx, dir, "", log)
}

// StartEmbeddedAt is StartEmbedded listening on addr (host:port); an empty
// addr, or port 0, takes a free loopback port. A known address lets other
// server processes attach with MONGODB_URI.
func StartEmbeddedAt(ctx context.Context, dir, addr string, log *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("embedded database dir: %w", err)
	}
	addr, err = listenAddr(addr)
	if err != nil {
		return nil, err
	}
	// FerretDB logs every connection at INFO and every refused command (the
	// driver's endSessions) at WARN; keep only its errors.
	quiet := slog.New(log.Handler()).With("component", "ferretdb")
	// FerretDB commits every updated document on its own. SQLite's default
	// checkpoint every 1,000 WAL pages then copies the same table and index
	// pages back over and over during a bulk write (a quarter of a
	// 2,000-statement update's time); every 10,000 pages (40 MB of WAL)
	// copies each page about once per outbox round.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(normal)&_pragma=wal_autocheckpoint(10000)",
		Logger:    slog.New(levelFilter{quiet.Handler(), slog.LevelError}),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &Embedded{Addr: addr, cancel: cancel, done: make(chan struct{})}
	ids := &idIndexer{dir: abs, log: log}
	var wg sync.WaitGroup
	wg.Go(func() { _ = f.Run(runCtx) })
	wg.Go(func() { ids.run(runCtx, 2*time.Second) })
	go func() {
		wg.Wait()
		close(e.done)
	}()
	e.URI = f.MongoDBURI()
	indexers.Store(e.URI, ids)
	return e, nil
}

// Stop shuts the embedded server down and waits for it.
func (e *Embedded) Stop() {
	indexers.Delete(e.URI)
	e.cancel()
	<-e.done
}

// listenAddr resolves addr's port 0 (or an empty addr) to a free port, so
// the address can be logged and handed to other processes. A taken port
// fails here, with the address in the error, not inside FerretDB.
func listenAddr(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("embedded database address %s: %w", addr, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Indexes is what one store needs on one collection.
type Indexes struct {
	Collection string
	Models     []mongo.IndexModel
	// Capped, when non-zero, creates the collection capped at this many bytes.
	Capped int64
}

var (
	regMu    sync.Mutex
	registry []Indexes
)

// Declare registers indexes for creation at start-up. Stores call it from
// init, next to the queries that need them.
func Declare(ix ...Indexes) {
	regMu.Lock()
	defer regMu.Unlock()
	registry = append(registry, ix...)
}

// EnsureIndexes creates every declared collection and index; it is idempotent.
func (db *DB) EnsureIndexes(ctx context.Context) error {
	regMu.Lock()
	all := append([]Indexes(nil), registry...)
	regMu.Unlock()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	for _, ix := range all {
		if !slices.Contains(names, ix.Collection) {
			// Created up front so the embedded server can index its table now.
			o := options.CreateCollection()
			if ix.Capped > 0 {
				o.SetCapped(true).SetSizeInBytes(ix.Capped)
			}
			if err := db.CreateCollection(ctx, ix.Collection, o); err != nil && !isNamespaceExists(err) {
				return fmt.Errorf("create %s: %w", ix.Collection, err)
			}
			names = append(names, ix.Collection)
		}
		if db.Ferret {
			ix.Models = uniqueOnly(ix.Models)
		}
		if len(ix.Models) == 0 {
			continue
		}
		missing, err := db.missingIndexes(ctx, ix)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			continue
		}
		if _, err := db.Collection(ix.Collection).Indexes().CreateMany(ctx, missing); err != nil {
			return fmt.Errorf("indexes on %s: %w", ix.Collection, err)
		}
	}
	if db.ids != nil {
		if err := db.ids.ensure(ctx, db.Name()); err != nil {
			return fmt.Errorf("embedded _id lookup indexes: %w", err)
		}
	}
	return nil
}

// uniqueOnly keeps the indexes that enforce something. FerretDB v1.24 plans
// no query with a secondary index (it filters every document itself), so on
// it an index that only speeds reads would only slow every write down.
func uniqueOnly(ms []mongo.IndexModel) []mongo.IndexModel {
	var out []mongo.IndexModel
	for _, m := range ms {
		if m.Options == nil {
			continue
		}
		var o options.IndexOptions
		for _, set := range m.Options.List() {
			_ = set(&o)
		}
		if o.Unique != nil && *o.Unique {
			out = append(out, m)
		}
	}
	return out
}

// missingIndexes returns the declared indexes the collection lacks, by name.
// Asking for existing ones again is a no-op on MongoDB but crashes the
// connection on FerretDB v1.24, so a restart must not repeat them.
func (db *DB) missingIndexes(ctx context.Context, ix Indexes) ([]mongo.IndexModel, error) {
	cur, err := db.Collection(ix.Collection).Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", ix.Collection, err)
	}
	var have []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &have); err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", ix.Collection, err)
	}
	exists := map[string]bool{}
	for _, h := range have {
		exists[h.Name] = true
	}
	var out []mongo.IndexModel
	for _, m := range ix.Models {
		keys, ok := m.Keys.(bson.D)
		if !ok {
			return nil, fmt.Errorf("index keys on %s must be bson.D", ix.Collection)
		}
		parts := make([]string, 0, 2*len(keys))
		for _, k := range keys {
			parts = append(parts, k.Key, fmt.Sprint(k.Value))
		}
		name := strings.Join(parts, "_")
		if exists[name] {
			continue
		}
		if m.Options == nil {
			m.Options = options.Index()
		}
		m.Options.SetName(name)
		out = append(out, m)
	}
	return out, nil
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")
}

// IsDuplicate reports a unique-index violation (code 11000).
func IsDuplicate(err error) bool { return mongo.IsDuplicateKeyError(err) }

// NewID returns a new ObjectID as hex, the id format of every document.
func NewID() string { return bson.NewObjectID().Hex() }

// ValidID reports whether s looks like an id we issued. NewID spells ids in
// lowercase hex only: ids are compared as strings (access scopes, "is this
// my own record"), so an upper-case spelling of an id must not pass as it.
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h.Handler.WithAttrs(a), h.min}
}

func (h levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h.Handler.WithGroup(n), h.min}
}
