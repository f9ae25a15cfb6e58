package events

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestTailWindow(t *testing.T) {
	now := time.Now()
	old := bson.NewObjectIDFromTimestamp(now.Add(-2 * rewind))
	tl := tail{high: old, seen: map[bson.ObjectID]struct{}{}}
	if !tl.add(old) || tl.add(old) {
		t.Fatal("add must report an id as new exactly once")
	}
	recent := bson.NewObjectIDFromTimestamp(now)
	for range 3000 {
		tl.add(bson.NewObjectIDFromTimestamp(now))
	}
	tl.add(recent)
	if tl.high.Timestamp() != recent.Timestamp() {
		t.Fatalf("high %v, want %v", tl.high.Timestamp(), recent.Timestamp())
	}
	if _, ok := tl.seen[old]; ok {
		t.Fatal("an id older than the window was not pruned")
	}
	if tl.add(recent) {
		t.Fatal("a recent id was forgotten")
	}
	from := tl.from()
	if from.Timestamp() != recent.Timestamp().Add(-rewind) || from.Hex()[8:] != "0000000000000000" {
		t.Fatalf("from %s is not the floor of the window", from.Hex())
	}
}
