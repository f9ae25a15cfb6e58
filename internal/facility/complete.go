package facility

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Offline bounds: a completion recorded on a phone without signal is
// uploaded later with the time it was done.
const (
	MaxSkew    = validate.OfflineSkew
	MaxOffline = validate.OfflineAge
)

// FilePurpose marks completion photos of work orders.
const FilePurpose = "maintenance"

// CompleteInput is a finished work order as the engineer recorded it.
type CompleteInput struct {
	OrderID        string
	Results        []CheckResult
	Photos         []files.Upload
	DoneAt         time.Time
	IdempotencyKey string
	Note           string
}

// usedKey remembers which order a completion key finished.
type usedKey struct {
	ID      string    `bson:"_id"`
	OrderID string    `bson:"orderId"`
	At      time.Time `bson:"at"`
}

// CompleteMaintenance records a work order as done: an engineer (or a
// supervisor) of its community, one result per checklist step, photos,
// when it was done. A retried upload (same idempotency key) answers the
// order as recorded the first time and records nothing again.
func (s *Service) CompleteMaintenance(ctx context.Context, c *access.Caller, in CompleteInput) (*Order, error) {
	o, err := s.GetOrder(ctx, c, in.OrderID)
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(in.IdempotencyKey); n < 8 || n > 64 {
		return nil, apperr.Invalid("input.idempotencyKey", "facility.bad_key")
	}
	if done, err := s.byKey(ctx, in.IdempotencyKey, o.ID); done != nil || err != nil {
		return done, err
	}
	now := s.cfg.Now()
	if err := validate.Offline("input.doneAt", in.DoneAt, now); err != nil {
		return nil, err
	}
	if len(in.Results) != len(o.Checklist) {
		return nil, apperr.Invalid("input.results", "facility.bad_results")
	}
	for i, r := range in.Results {
		if r.Step != o.Checklist[i] || utf8.RuneCountInString(r.Note) > MaxStepChars {
			return nil, apperr.Invalid(fmt.Sprintf("input.results.%d", i), "facility.bad_results")
		}
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		return nil, apperr.Invalid("input.note", "input.too_long", 500)
	}
	if o.Status != Open {
		return nil, lifecycle.ErrIllegal.WithArgs(string(o.Status))
	}
	var photos []string
	if s.cfg.Files != nil && len(in.Photos) > 0 {
		if photos, err = s.cfg.Files.SaveImages(ctx, "input.photos", in.Photos,
			files.Meta{Purpose: FilePurpose, SubjectID: o.ID, CommunityID: o.CommunityID, UploadedBy: c.ID}); err != nil {
			return nil, err
		}
	}
	undo := func() {
		if s.cfg.Files != nil {
			s.cfg.Files.DeleteAll(ctx, photos)
		}
	}
	// The key is claimed first: of two uploads of one completion racing,
	// one claims and records, the other finds the claim.
	if _, err := s.keys.InsertOne(ctx, usedKey{ID: in.IdempotencyKey, OrderID: o.ID, At: now.UTC()}); err != nil {
		undo()
		if mongo.IsDuplicate(err) {
			return s.byKeyAfterRace(ctx, in.IdempotencyKey, o.ID)
		}
		return nil, fmt.Errorf("claim completion key: %w", err)
	}
	doneAt := in.DoneAt.UTC()
	entry := lifecycle.Entry{At: now.UTC(), Action: "complete", From: string(Open), To: string(Done), ActorID: c.ID, ActorKind: string(c.Kind),
		Note: in.Note, Data: map[string]any{"doneAt": doneAt}}
	set := bson.D{{Key: "results", Value: in.Results}, {Key: "photos", Value: photos}, {Key: "doneAt", Value: doneAt},
		{Key: "doneBy", Value: c.ID}, {Key: "idempotencyKey", Value: in.IdempotencyKey}, {Key: "restoredDue", Value: o.Disturbing()}}
	var out Order
	if err := s.steps.Apply(ctx, o.ID, o.Version, entry, set, &out); err != nil {
		undo()
		_, _ = s.keys.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: in.IdempotencyKey}})
		return nil, err
	}
	if out.RestoredDue {
		// Residents hear at once; if this fails the scheduler retries.
		if err := s.restored(ctx, &out); err != nil {
			s.warn(ctx, "outage restored notice", out.ID, err)
		} else {
			out.RestoredDue = false
		}
	}
	return &out, nil
}

// byKey is the order a key already completed; a key used for another order
// is refused.
func (s *Service) byKey(ctx context.Context, key, orderID string) (*Order, error) {
	var k usedKey
	err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&k)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("completion key: %w", err)
	}
	if k.OrderID != orderID {
		return nil, ErrKeyUsed
	}
	o, err := mongo.FindByID[Order](ctx, s.orders, orderID, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if o.Status != Done {
		// The claimant is still writing (or died between claim and step):
		// this retry must not report a completion that is not stored.
		return nil, lifecycle.ErrStale
	}
	return o, nil
}

func (s *Service) byKeyAfterRace(ctx context.Context, key, orderID string) (*Order, error) {
	o, err := s.byKey(ctx, key, orderID)
	if err == nil && o == nil {
		err = lifecycle.ErrStale
	}
	return o, err
}

// MayReadFile: completion photos are for those who may see the order.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose {
		return false, nil
	}
	_, err := s.GetOrder(ctx, c, m.SubjectID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// MayReadFiles is MayReadFile's rule for an order in hand.
func MayReadFiles(c *access.Caller, o *Order) bool { return seesOrder(c, o) }

// keyLife is how long a completion key answers a retried upload. An upload
// is refused once its doneAt is more than MaxOffline old, and doneAt is at
// most MaxSkew after the key was claimed: a key older than both (and an
// hour for the clocks) can only be replayed by an upload refused anyway.
// FerretDB has no TTL indexes, so Tick prunes them; the collection holds
// about a week of completions, not every one ever made.
const keyLife = MaxOffline + MaxSkew + time.Hour

func (s *Service) pruneKeys(ctx context.Context, now time.Time) error {
	if _, err := s.keys.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-keyLife).UTC()}}}}); err != nil {
		return fmt.Errorf("prune maintenance keys: %w", err)
	}
	return nil
}
