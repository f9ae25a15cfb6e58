package lifecycle

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type state string

var machine = Machine[state]{
	"take":   {From: []state{"NEW"}, To: "TAKEN"},
	"cancel": {From: []state{"NEW", "TAKEN"}, To: "CANCELLED"},
	"finish": {From: []state{"TAKEN"}, To: "DONE"},
}

func TestNext(t *testing.T) {
	tests := []struct {
		action string
		from   state
		want   state
		legal  bool
	}{
		{"take", "NEW", "TAKEN", true},
		{"take", "TAKEN", "", false},
		{"cancel", "TAKEN", "CANCELLED", true},
		{"finish", "CANCELLED", "", false},
		{"finish", "NEW", "", false},
		{"unknown", "NEW", "", false},
	}
	for _, tc := range tests {
		got, err := machine.Next(tc.action, tc.from)
		if tc.legal && (err != nil || got != tc.want) {
			t.Errorf("%s from %s = %s, %v; want %s", tc.action, tc.from, got, err, tc.want)
		}
		if !tc.legal && !errors.Is(err, ErrIllegal) {
			t.Errorf("%s from %s: want ErrIllegal, got %v", tc.action, tc.from, err)
		}
	}
}

type doc struct {
	ID       string  `bson:"_id"`
	Status   state   `bson:"status"`
	Version  int     `bson:"version"`
	Timeline []Entry `bson:"timeline"`
	Winner   string  `bson:"winner"`
}

// Two (here: twelve) staff take the same request at once: exactly one wins,
// the others get ErrStale and the document shows one step.
func TestConcurrentStepsCannotBothWin(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	ctx := context.Background()
	s := NewStore(db, "things", time.Now)
	if _, err := db.Collection("things").InsertOne(ctx, doc{ID: "a", Status: "NEW", Timeline: []Entry{}}); err != nil {
		t.Fatal(err)
	}
	var wins, stale atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var out doc
			err := s.Apply(ctx, "a", 0, Entry{Action: "take", From: "NEW", To: "TAKEN", ActorID: string(rune('A' + i))},
				bson.D{{Key: "winner", Value: string(rune('A' + i))}}, &out)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrStale):
				stale.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if wins.Load() != 1 || stale.Load() != 11 {
		t.Fatalf("wins %d stale %d, want 1 and 11", wins.Load(), stale.Load())
	}
	var got doc
	_ = db.Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got)
	if got.Version != 1 || got.Status != "TAKEN" || len(got.Timeline) != 1 || got.Timeline[0].ActorID != got.Winner {
		t.Fatalf("document after the race: %+v", got)
	}
	// A step decided on an old version is stale, not applied twice.
	var out doc
	if err := s.Apply(ctx, "a", 0, Entry{Action: "cancel", From: "NEW", To: "CANCELLED"}, nil, &out); !errors.Is(err, ErrStale) {
		t.Fatalf("step on an old version: %v", err)
	}
	if err := s.Apply(ctx, "a", 1, Entry{Action: "finish", From: "TAKEN", To: "DONE"}, nil, &out); err != nil || out.Status != "DONE" || out.Version != 2 {
		t.Fatalf("next step: %v %+v", err, out)
	}
}

// A writer that died after claiming a step does not freeze the document.
func TestAbandonedClaimIsTakenOver(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	s := NewStore(db, "things", func() time.Time { return now })
	_, _ = db.Collection("things").InsertOne(ctx, doc{ID: "b", Status: "NEW", Timeline: []Entry{}})
	if err := s.claim(ctx, "b", 0, Entry{At: now}); err != nil {
		t.Fatal(err)
	}
	var out doc
	if err := s.Apply(ctx, "b", 0, Entry{Action: "take", From: "NEW", To: "TAKEN"}, nil, &out); !errors.Is(err, ErrStale) {
		t.Fatalf("fresh claim must block: %v", err)
	}
	now = now.Add(time.Minute)
	if err := s.Apply(ctx, "b", 0, Entry{Action: "take", From: "NEW", To: "TAKEN"}, nil, &out); err != nil || out.Status != "TAKEN" {
		t.Fatalf("abandoned claim not taken over: %v %+v", err, out)
	}
}
