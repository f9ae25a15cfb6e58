package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// Capacity: one claim document per place, _id "<event>#<n>" for n ≤ the
// capacity. FerretDB v1 runs a guarded findOneAndUpdate as read-modify-
// write, so a counter "taken + party ≤ capacity" in a filter would let two
// sign-ups through; an insert with a unique _id cannot. A sign-up's places
// are all claimed under one hold token (stored on the sign-up), so they are
// given back together, and only by their holder.
//
// Lowering the capacity of a published event first claims the places above
// the new capacity for blockHolder (moving any sign-up holding one to a free
// place below), so a sign-up that read the old capacity cannot take them.

// blockHolder holds places above a lowered capacity.
const blockHolder = "block"

// stalePlace is how long a place claimed by a sign-up that never got stored
// (its process died between claim and write) holds the place.
const stalePlace = time.Minute

type place struct {
	ID       string    `bson:"_id"`
	EventID  string    `bson:"eventId"`
	N        int       `bson:"n"`
	Holder   string    `bson:"holder"`
	SignUpID string    `bson:"signUpId,omitempty"`
	At       time.Time `bson:"at"`
}

func placeID(eventID string, n int) string { return fmt.Sprintf("%s#%d", eventID, n) }

// claimPlaces takes k free places of ev for sign-up signUpID under hold, all
// or none: it reports false (keeping none of what it claimed) when fewer
// than k are free. Places held by sign-ups that were never stored are given
// back on the way.
func (s *Service) claimPlaces(ctx context.Context, ev *Event, k int, hold, signUpID string, now time.Time) (bool, error) {
	var mine []string
	for attempt := 0; len(mine) < k && attempt < 3; attempt++ {
		held, err := s.placesOf(ctx, ev.ID)
		if err != nil {
			s.giveBack(ctx, mine, hold)
			return false, err
		}
		taken := map[string]bool{}
		for _, p := range held {
			taken[p.ID] = true
		}
		var free []int
		for n := 1; n <= ev.Capacity; n++ {
			if !taken[placeID(ev.ID, n)] {
				free = append(free, n)
			}
		}
		if len(free) < k-len(mine) {
			// Not enough, unless some are held by sign-ups that died.
			if n, err := s.freeOrphans(ctx, held, now); err != nil || n == 0 {
				break
			}
			continue
		}
		for _, n := range free {
			if len(mine) == k {
				break
			}
			id := placeID(ev.ID, n)
			_, err := s.places.InsertOne(ctx, place{ID: id, EventID: ev.ID, N: n, Holder: hold, SignUpID: signUpID, At: now})
			switch {
			case err == nil:
				mine = append(mine, id)
			case !mongo.IsDuplicate(err):
				s.giveBack(ctx, mine, hold)
				return false, fmt.Errorf("claim place: %w", err)
			}
		}
	}
	if len(mine) < k {
		s.giveBack(ctx, mine, hold)
		return false, nil
	}
	return true, nil
}

// giveBack deletes the places ids claimed under hold by one claimPlaces
// (the hold's other places, e.g. a moved one, stay).
func (s *Service) giveBack(ctx context.Context, ids []string, hold string) {
	if len(ids) == 0 {
		return
	}
	_, err := s.places.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "holder", Value: hold}})
	if err != nil {
		s.log.WarnContext(ctx, "give back places", "err", err)
	}
}

func (s *Service) placesOf(ctx context.Context, eventID string) ([]place, error) {
	cur, err := s.places.Find(ctx, bson.D{{Key: "eventId", Value: eventID}})
	if err != nil {
		return nil, fmt.Errorf("places of %s: %w", eventID, err)
	}
	var out []place
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("places of %s: %w", eventID, err)
	}
	return out, nil
}

// freeOrphans deletes places older than stalePlace that no confirmed
// sign-up holds under their token (the sign-up died half way, or its
// release was lost).
func (s *Service) freeOrphans(ctx context.Context, held []place, now time.Time) (int, error) {
	var ids []string
	for _, p := range held {
		if p.Holder != blockHolder && now.Sub(p.At) >= stalePlace {
			ids = append(ids, p.SignUpID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	sus, err := mongo.ByIDs(ctx, s.signups, ids, func(su *SignUp) string { return su.ID })
	if err != nil {
		return 0, err
	}
	freed := 0
	for _, p := range held {
		su := sus[p.SignUpID]
		if p.Holder == blockHolder || now.Sub(p.At) < stalePlace || (su != nil && su.Status == Confirmed && su.Hold == p.Holder) {
			continue
		}
		res, err := s.places.DeleteOne(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "holder", Value: p.Holder}})
		if err != nil {
			return freed, fmt.Errorf("free place: %w", err)
		}
		freed += int(res.DeletedCount)
	}
	return freed, nil
}

// release gives back every place held under hold; a failure leaves orphans
// that a later full claim frees.
func (s *Service) release(ctx context.Context, eventID, hold string) {
	if hold == "" {
		return
	}
	_, err := s.places.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "eventId", Value: eventID}, {Key: "holder", Value: hold}})
	if err != nil {
		s.log.WarnContext(ctx, "release places", "event", eventID, "err", err)
	}
}

// taken counts the places held by sign-ups of each event: one aggregation.
func (s *Service) taken(ctx context.Context, eventIDs []string) (map[string]int, error) {
	return s.countBy(ctx, s.places, bson.D{{Key: "eventId", Value: bson.D{{Key: "$in", Value: eventIDs}}},
		{Key: "holder", Value: bson.D{{Key: "$ne", Value: blockHolder}}}}, "$eventId", nil)
}

// countBy groups matching documents by key and sums sum (a field path, or
// nil to count them).
func (s *Service) countBy(ctx context.Context, col *mgo.Collection, match bson.D, key string, sum any) (map[string]int, error) {
	out := map[string]int{}
	if sum == nil {
		sum = 1
	}
	cur, err := col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: match}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: key}, {Key: "n", Value: bson.D{{Key: "$sum", Value: sum}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", col.Name(), err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count %s: %w", col.Name(), err)
	}
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// shrink closes the places of ev above capacity to, before the lower
// capacity is stored: each is claimed for blockHolder, and a sign-up
// holding one is moved to a free place at or below to. It fails with
// ErrBelowTaken when the places taken do not fit. undo reopens what it
// closed (the capacity change failed after all).
func (s *Service) shrink(ctx context.Context, ev *Event, to int, now time.Time) (undo func(), err error) {
	n, err := s.taken(ctx, []string{ev.ID})
	if err != nil {
		return nil, err
	}
	if n[ev.ID] > to {
		return nil, ErrBelowTaken.WithArgs(n[ev.ID]).WithField("input.capacity")
	}
	var closed []string
	undo = func() {
		if len(closed) > 0 {
			_, _ = s.places.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: closed}}}, {Key: "holder", Value: blockHolder}})
			// Sign-ups sent to wait by the closed places may fit again.
			s.promote(ctx, ev.ID, "")
		}
	}
	docs := []any{}
	for i := to + 1; i <= ev.Capacity; i++ {
		docs = append(docs, place{ID: placeID(ev.ID, i), EventID: ev.ID, N: i, Holder: blockHolder, At: now})
	}
	var held []int
	for start := 0; start < len(docs); start += 50 {
		batch := docs[start:min(start+50, len(docs))]
		_, err := s.places.InsertMany(ctx, batch, options.InsertMany().SetOrdered(false))
		failed := map[int]bool{}
		var bwe mgo.BulkWriteException
		if err != nil && (!errors.As(err, &bwe) || !mongo.IsDuplicate(err)) {
			undo()
			return nil, fmt.Errorf("close places: %w", err)
		}
		for _, we := range bwe.WriteErrors {
			failed[we.Index] = true
		}
		for i, d := range batch {
			if failed[i] {
				held = append(held, d.(place).N)
			} else {
				closed = append(closed, d.(place).ID)
			}
		}
	}
	for _, n := range held {
		did, err := s.closeHeld(ctx, ev.ID, n, to, now)
		if err != nil {
			undo()
			return nil, err
		}
		if did {
			closed = append(closed, placeID(ev.ID, n))
		}
	}
	return undo, nil
}

// closeHeld moves the holder of place n to a free place at or below to,
// then closes n; closed reports whether this call closed it (a place closed
// by an earlier lowering stays as it is).
func (s *Service) closeHeld(ctx context.Context, eventID string, n, to int, now time.Time) (closed bool, err error) {
	id := placeID(eventID, n)
	for attempt := 0; attempt < 3; attempt++ {
		p, err := mongo.FindByID[place](ctx, s.places, id, errNoPlace)
		switch {
		case errors.Is(err, errNoPlace):
			// Given back meanwhile: close it.
		case err != nil:
			return false, err
		case p.Holder == blockHolder:
			return false, nil
		default:
			ok, err := s.claimPlaces(ctx, &Event{ID: eventID, Capacity: to}, 1, p.Holder, p.SignUpID, now)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, ErrBelowTaken.WithArgs(to + 1).WithField("input.capacity")
			}
			if _, err := s.places.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "holder", Value: p.Holder}}); err != nil {
				return false, fmt.Errorf("move place: %w", err)
			}
		}
		_, err = s.places.InsertOne(ctx, place{ID: id, EventID: eventID, N: n, Holder: blockHolder, At: now})
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicate(err) {
			return false, fmt.Errorf("close place: %w", err)
		}
	}
	return false, ErrBelowTaken.WithArgs(to + 1).WithField("input.capacity")
}

var errNoPlace = errors.New("no place")

// grow reopens places closed by an earlier lowering, up to capacity to.
func (s *Service) grow(ctx context.Context, ev *Event, to int) error {
	_, err := s.places.DeleteMany(ctx, bson.D{{Key: "eventId", Value: ev.ID}, {Key: "holder", Value: blockHolder},
		{Key: "n", Value: bson.D{{Key: "$gt", Value: ev.Capacity}, {Key: "$lte", Value: to}}}})
	if err != nil {
		return fmt.Errorf("reopen places: %w", err)
	}
	return nil
}
