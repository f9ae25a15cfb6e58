package mongo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	testOnce sync.Once
	testURI  string
	testErr  error
	testSeq  atomic.Int64
)

// TestURI returns MONGODB_URI or, when unset, the URI of one embedded FerretDB
// shared by the whole test binary (each test still gets its own database).
func TestURI(tb testing.TB) string {
	tb.Helper()
	testOnce.Do(func() {
		if u := os.Getenv("MONGODB_URI"); u != "" {
			testURI = u
			return
		}
		dir, err := os.MkdirTemp("", "qinqing-test-db-")
		testDir = dir
		if err != nil {
			testErr = err
			return
		}
		e, err := StartEmbedded(context.Background(), dir, slog.New(slog.DiscardHandler))
		if err != nil {
			testErr = err
			return
		}
		testURI = e.URI
		// The embedded server lives as long as the test binary; its temp dir
		// is removed by the OS test cleanup conventions of CI machines.
	})
	if testErr != nil {
		tb.Fatalf("test database: %v", testErr)
	}
	return testURI
}

// NewTestDB gives the calling test a fresh, empty database with every
// declared index, dropped when the test ends.
func NewTestDB(tb testing.TB, o Options) *DB {
	tb.Helper()
	uri := TestURI(tb)
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, testSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := Connect(ctx, uri, name, o)
	if err != nil {
		tb.Fatalf("connect test database: %v", err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		tb.Fatalf("indexes: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
	})
	return db
}

var testDir string

// RunTests runs a package's tests and then stops the shared embedded database
// and removes its files. Use it from TestMain.
func RunTests(m *testing.M) int {
	code := m.Run()
	if testDir != "" {
		_ = os.RemoveAll(testDir)
	}
	return code
}
