package events

import (
	"encoding/binary"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const (
	// rewind is how far before the newest seen _id a reopened cursor starts.
	// ObjectIDs from different processes are ordered only by their second
	// (then by random bytes), and an insert can land a little after its id was
	// made, so "_id > last" could skip another process's event. Re-reading a
	// window and skipping ids already seen loses and duplicates nothing.
	rewind = 30 * time.Second
)

// tail is the tailer's position: the highest _id seen and the ids seen within
// the rewind window before it.
type tail struct {
	high    bson.ObjectID
	seen    map[bson.ObjectID]struct{}
	pruneAt int
}

// from is the smallest possible _id of the rewind window's first second
// (bson.NewObjectIDFromTimestamp fills in the other bytes, so it is no floor).
func (t *tail) from() bson.ObjectID {
	var id bson.ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(t.high.Timestamp().Add(-rewind).Unix()))
	return id
}

// add records id and reports whether it is new.
func (t *tail) add(id bson.ObjectID) bool {
	if _, ok := t.seen[id]; ok {
		return false
	}
	t.seen[id] = struct{}{}
	if id.Timestamp().After(t.high.Timestamp()) || t.high.IsZero() {
		t.high = id
	}
	if len(t.seen) > t.pruneAt {
		cut := t.from()
		for k := range t.seen {
			if k.Timestamp().Before(cut.Timestamp()) {
				delete(t.seen, k)
			}
		}
		t.pruneAt = 2*len(t.seen) + 1024
	}
	return true
}
