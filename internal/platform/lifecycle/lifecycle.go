// Package lifecycle is the guarded state machine shared by every followed
// thing (repair requests, complaints, service orders): a table of legal
// steps, and a store operation that applies one step to one document so that
// an illegal step, or the loser of two concurrent steps, changes nothing.
//
// One document holds the thing, its state, a version and its timeline, so a
// step is one atomic write on MongoDB: the update's filter names the version
// the step was decided on. FerretDB v1 applies findOneAndUpdate as
// read-modify-write, where that filter alone does not stop two writers; so a
// step first claims its version in a ledger collection with a unique _id
// (atomic on both servers). The ledger doubles as the write-once history of
// every step.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// Step is one legal move of a machine: from any of From to To.
type Step[S ~string] struct {
	From []S
	To   S
}

// Machine is the table of legal steps by action name.
type Machine[S ~string] map[string]Step[S]

// ErrIllegal is a step that is not allowed from the current state (completing
// a cancelled request, accepting twice). ErrStale is a step that lost a race.
var (
	ErrIllegal = apperr.New(apperr.Conflict, "lifecycle.illegal")
	ErrStale   = apperr.New(apperr.Conflict, "lifecycle.stale")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"lifecycle.illegal": {ZH: "当前状态（%v）不能执行此操作", EN: "This cannot be done in the current state (%v)"},
		"lifecycle.stale":   {ZH: "已被他人处理，请刷新后重试", EN: "Someone else changed this meanwhile; reload and try again"},
	})
}

// Next returns the state action leads to from, or ErrIllegal.
func (m Machine[S]) Next(action string, from S) (S, error) {
	st, ok := m[action]
	if !ok || !slices.Contains(st.From, from) {
		return from, ErrIllegal.WithArgs(string(from))
	}
	return st.To, nil
}

// Entry is one line of a timeline.
type Entry struct {
	At        time.Time      `bson:"at"`
	Action    string         `bson:"action"`
	From      string         `bson:"from"`
	To        string         `bson:"to"`
	ActorID   string         `bson:"actorId"`
	ActorKind string         `bson:"actorKind"`
	Note      string         `bson:"note,omitempty"`
	Data      map[string]any `bson:"data,omitempty"`
}

// Store applies steps to documents of one collection. Documents must have
// fields "status", "version" and "timeline".
type Store struct {
	col    *mgo.Collection
	ledger *mgo.Collection
	now    func() time.Time
}

// NewStore makes a store for collection; the ledger is "<collection>_steps".
func NewStore(db *mongo.DB, collection string, now func() time.Time) *Store {
	return &Store{col: db.Collection(collection), ledger: db.Collection(collection + "_steps"), now: now}
}

// Declare registers the ledger's index for a collection (call from init).
func Declare(collection string) {
	mongo.Declare(mongo.Indexes{Collection: collection + "_steps", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "docId", Value: 1}, {Key: "version", Value: 1}}},
	}})
}

// staleClaim is how long a claimed but unapplied step blocks its document:
// a process that died between claim and write must not freeze it forever.
const staleClaim = 30 * time.Second

// Apply moves document id from version (in state from) to entry.To, setting
// set, pushing entry onto the timeline and bumping the version; it decodes
// the new document into out. A concurrent step that got there first makes
// this one ErrStale and nothing is written.
func (s *Store) Apply(ctx context.Context, id string, version int, entry Entry, set bson.D, out any) error {
	return s.ApplyWith(ctx, id, version, entry, set, nil, out)
}

// ApplyWith is Apply with extra update operators (e.g. $push to an embedded
// list, $inc of a counter) merged into the one update.
func (s *Store) ApplyWith(ctx context.Context, id string, version int, entry Entry, set bson.D, extra bson.D, out any) error {
	if entry.At.IsZero() {
		entry.At = s.now().UTC()
	}
	if err := s.claim(ctx, id, version, entry); err != nil {
		return err
	}
	update := bson.D{
		{Key: "$set", Value: append(bson.D{{Key: "status", Value: entry.To}, {Key: "updatedAt", Value: entry.At}}, set...)},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	push := bson.D{{Key: "timeline", Value: entry}}
	for _, e := range extra {
		switch e.Key {
		case "$push":
			push = append(push, e.Value.(bson.D)...)
		case "$inc":
			update[1].Value = append(update[1].Value.(bson.D), e.Value.(bson.D)...)
		case "$set":
			update[0].Value = append(update[0].Value.(bson.D), e.Value.(bson.D)...)
		default:
			update = append(update, e)
		}
	}
	update = append(update, bson.E{Key: "$push", Value: push})
	err := s.col.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}, {Key: "status", Value: entry.From}},
		update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(out)
	if errors.Is(err, mgo.ErrNoDocuments) {
		_, _ = s.ledger.DeleteOne(ctx, bson.D{{Key: "_id", Value: claimID(id, version)}})
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("apply %s to %s: %w", entry.Action, id, err)
	}
	return nil
}

func claimID(id string, version int) string { return fmt.Sprintf("%s#%d", id, version) }

// claim records that version's successor is being written. A duplicate is a
// concurrent step: stale, unless the claim is old and the document never
// moved (its writer died), in which case the claim is taken over once.
func (s *Store) claim(ctx context.Context, id string, version int, e Entry) error {
	doc := bson.D{
		{Key: "_id", Value: claimID(id, version)}, {Key: "docId", Value: id}, {Key: "version", Value: version},
		{Key: "claimedAt", Value: e.At}, {Key: "entry", Value: e},
	}
	_, err := s.ledger.InsertOne(ctx, doc)
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicate(err) {
		return fmt.Errorf("claim step of %s: %w", id, err)
	}
	var old struct {
		ClaimedAt time.Time `bson:"claimedAt"`
	}
	if err := s.ledger.FindOne(ctx, bson.D{{Key: "_id", Value: claimID(id, version)}}).Decode(&old); err != nil {
		return ErrStale
	}
	if e.At.Sub(old.ClaimedAt) < staleClaim {
		return ErrStale
	}
	n, err := s.col.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}})
	if err != nil || n == 0 {
		return ErrStale
	}
	res, err := s.ledger.DeleteOne(ctx, bson.D{{Key: "_id", Value: claimID(id, version)}, {Key: "claimedAt", Value: old.ClaimedAt}})
	if err != nil || res.DeletedCount == 0 {
		return ErrStale
	}
	if _, err := s.ledger.InsertOne(ctx, doc); err != nil {
		return ErrStale
	}
	return nil
}

// Move is one step of a document d of type D as a caller decides it:
// repairs, complaints and service orders describe each of their steps with
// one and let Take do the rest.
type Move[D any, S ~string] struct {
	Action string
	Note   string
	Data   map[string]any
	// May decides whether the caller may take the step on d (the caller was
	// already allowed to see d).
	May func(c *access.Caller, d D) error
	// Change builds the step's $set and other operators; it runs only once
	// the step is legal, so nothing is prepared for an illegal one.
	Change func(d D, to S, now time.Time) (set, extra bson.D, err error)
}

// State is where a document stands: what a step is decided on.
type State[S ~string] struct {
	ID      string
	Status  S
	Version int
}

// Take applies st to d, which stands at at, for caller c: it asks May,
// checks the step is legal from at.Status in m (a step to "" keeps the
// state), builds the update with Change plus always (fields every step of
// this kind of document sets, e.g. the next deadline; may be nil), and writes
// it guarded by at.Version, decoding the new document into out. It returns
// the state the document moved to.
func Take[D any, S ~string](ctx context.Context, store *Store, m Machine[S], c *access.Caller, now time.Time, d D, at State[S], st Move[D, S],
	always func(d D, to S) bson.D, out any) (S, error) {
	if st.May != nil {
		if err := st.May(c, d); err != nil {
			return at.Status, err
		}
	}
	to, err := m.Next(st.Action, at.Status)
	if err != nil {
		return at.Status, err
	}
	if to == "" {
		to = at.Status
	}
	var set, extra bson.D
	if st.Change != nil {
		if set, extra, err = st.Change(d, to, now); err != nil {
			return at.Status, err
		}
	}
	if always != nil {
		set = append(set, always(d, to)...)
	}
	entry := Entry{At: now, Action: st.Action, From: string(at.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: st.Note, Data: st.Data}
	if err := store.ApplyWith(ctx, at.ID, at.Version, entry, set, extra, out); err != nil {
		return at.Status, err
	}
	return to, nil
}
