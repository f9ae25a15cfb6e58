package mongo

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself runs on
)

// FerretDB v1.24 looks documents up by _id with the SQLite expression
// _ferretdb_sjson->'$._id' but indexes _id as _ferretdb_sjson->"_id". SQLite
// matches index expressions textually, so every lookup, update and delete by
// _id scans and parses the whole table, and an UpdateMany of k documents in a
// table of n costs k·n. The embedded server therefore adds, next to FerretDB's
// own index, one on the expression its queries use. FerretDB never reads
// sqlite_master, so the extra index is invisible to it; dropping a collection
// drops its table and the index with it.

const idIndexSuffix = "_qq_id"

// idIndexer adds the lookup index to every collection table under dir.
type idIndexer struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex // one pass at a time
	// made counts the indexes created, so run can tell a pass that found
	// new collections from an idle one.
	made atomic.Int64
}

// ensureAll indexes the tables of every database file under dir.
func (x *idIndexer) ensureAll(ctx context.Context) {
	files, _ := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	for _, f := range files {
		if err := x.ensure(ctx, strings.TrimSuffix(filepath.Base(f), ".sqlite")); err != nil && ctx.Err() == nil {
			// A database dropped meanwhile is not worth a warning.
			if _, serr := os.Stat(f); serr == nil {
				x.log.Warn("embedded database: _id lookup index", "database", filepath.Base(f), "err", err)
			}
		}
	}
}

// ensure indexes the tables of one database that still lack the index.
func (x *idIndexer) ensure(ctx context.Context, database string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	path := filepath.Join(x.dir, database+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return nil // nothing written to this database yet
	}
	// mode=rw: never create a file FerretDB has just removed.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+idIndexSuffix, t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			// The collection may have been dropped since the query.
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return fmt.Errorf("index %s: %w", t, err)
		}
		x.made.Add(1)
	}
	return nil
}

// run keeps indexing collections created after start-up (GridFS buckets,
// collections created by a first insert) until ctx ends. It looks every
// `every` while collections keep appearing and backs off to idleMax while
// none do: an unindexed table is only slower, and an idle server should not
// open its database files every two seconds.
func (x *idIndexer) run(ctx context.Context, every time.Duration) {
	const idleMax = time.Minute
	wait := every
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := x.made.Load()
		x.ensureAll(ctx)
		if x.made.Load() != before {
			wait = every
		} else {
			wait = min(2*wait, idleMax)
		}
		t.Reset(wait)
	}
}

// indexers maps the URI of an embedded server in this process to its
// indexer, so EnsureIndexes can index at once instead of on the next tick.
var indexers sync.Map // string -> *idIndexer
