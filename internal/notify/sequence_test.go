package notify

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// Two servers numbering the messages of one subject at once give each its
// own number, 1..n without gaps; sending a key again keeps its number and
// its event time.
func TestSequenceIsExactAcrossServers(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	ctx := context.Background()
	noon := func() time.Time { return time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC) }
	servers := []*Engine{NewEngine(EngineConfig{DB: db, Now: noon}), NewEngine(EngineConfig{DB: db, Now: noon})}
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := servers[i%2].Send(ctx, Message{Kind: RepairProgress, Key: fmt.Sprintf("repair:r1:v%d", i), Recipients: recipients(1),
				Vars: map[string]any{"step": "x", "summary": "y", "subject": "报修"}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var docs []seqDoc
	cur, err := db.Collection("notice_seqs").Find(ctx, bson.D{{Key: "subject", Value: "repair:r1"}})
	if err != nil || cur.All(ctx, &docs) != nil {
		t.Fatal(err)
	}
	seqs := make([]int, len(docs))
	for i, d := range docs {
		seqs[i] = int(d.Seq)
	}
	sort.Ints(seqs)
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("numbers %v, want 1..%d", seqs, n)
		}
	}
	first, err := servers[0].sequence(ctx, "repair:r1", "repair:r1:v3", noon().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again, err := servers[1].sequence(ctx, "repair:r1", "repair:r1:v3", noon().Add(2*time.Hour))
	if err != nil || again != first || !first.At.Equal(noon()) {
		t.Fatalf("again %+v, first %+v (%v)", again, first, err)
	}
}
