package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Promotion moves waiting households up into free places, in ticket order.
// Policy: a party that does not fit the free places is skipped and keeps
// its place at the head of the line; smaller parties behind it that fit
// move up, so places never stay empty while someone who fits is waiting.
//
// Places free up from many requests at once (cancellations, a larger
// capacity, a sign-up that lost a race for the last places). If every such
// request walked the list itself, two walkers could each claim part of the
// free places for the same party, both fall short and leave the places
// empty. So one walker per event runs at a time: a request first marks the
// event ("rerun"), then tries the event's lock; the holder walks again for
// as long as marks keep coming, and after unlocking looks once more, so no
// request goes unserved. A walker that dies leaves its mark (and a lock
// that expires); Tick walks marked events. The place claims, not the lock,
// are what keep the capacity: a lock that expires mid-walk costs at most a
// skipped party, never an extra place.

// lockLease is how long a walker may hold an event before another may take
// it over (its process died).
const lockLease = 30 * time.Second

// promoteRounds bounds one request's walks (each round is one lock held).
const promoteRounds = 5

type lockDoc struct {
	ID      string    `bson:"_id"`
	Kind    string    `bson:"kind"` // "lock" or "rerun"
	EventID string    `bson:"eventId"`
	Owner   string    `bson:"owner,omitempty"`
	Until   time.Time `bson:"until"`
}

func lockID(eventID string) string  { return "lock:" + eventID }
func rerunID(eventID string) string { return "rerun:" + eventID }

// promote asks for a walk of the event's waiting list and walks it unless
// another walker holds the event. self is the sign-up of the request itself,
// which needs no notice of its own promotion. Failures are logged: the mark
// stays, and Tick walks the event again.
func (s *Service) promote(ctx context.Context, eventID, self string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.mark(ctx, eventID); err != nil {
		s.log.WarnContext(ctx, "mark event for promotion", "event", eventID, "err", err)
		return
	}
	for round := 0; round < promoteRounds; round++ {
		token, err := s.lock(ctx, eventID)
		if err != nil || token == "" {
			if err != nil {
				s.log.WarnContext(ctx, "lock event for promotion", "event", eventID, "err", err)
			}
			return // the holder sees the mark
		}
		for walks := 0; walks < 20; walks++ {
			res, err := s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: rerunID(eventID)}})
			if err != nil || res.DeletedCount == 0 {
				break
			}
			if err := s.walk(ctx, eventID, self); err != nil {
				s.log.WarnContext(ctx, "promote waiting sign-ups", "event", eventID, "err", err)
				_ = s.mark(ctx, eventID) // Tick tries again
				s.unlock(ctx, eventID, token)
				return
			}
		}
		s.unlock(ctx, eventID, token)
		// A mark made between our last look and the unlock is ours to serve.
		if n, err := s.locks.CountDocuments(ctx, bson.D{{Key: "_id", Value: rerunID(eventID)}}); err != nil || n == 0 {
			return
		}
	}
}

func (s *Service) mark(ctx context.Context, eventID string) error {
	_, err := s.locks.InsertOne(ctx, lockDoc{ID: rerunID(eventID), Kind: "rerun", EventID: eventID, Until: s.now().UTC()})
	if err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("mark %s: %w", eventID, err)
	}
	return nil
}

// lock takes the event's walker lock; "" when another holds it. A lock
// past its lease is taken over (only by one: the delete names its owner).
func (s *Service) lock(ctx context.Context, eventID string) (string, error) {
	token := mongo.NewID()
	for attempt := 0; attempt < 2; attempt++ {
		_, err := s.locks.InsertOne(ctx, lockDoc{ID: lockID(eventID), Kind: "lock", EventID: eventID, Owner: token, Until: s.now().UTC().Add(lockLease)})
		if err == nil {
			return token, nil
		}
		if !mongo.IsDuplicate(err) {
			return "", fmt.Errorf("lock %s: %w", eventID, err)
		}
		held, err := mongo.FindByID[lockDoc](ctx, s.locks, lockID(eventID), errNoLock)
		if errors.Is(err, errNoLock) {
			continue // released meanwhile
		}
		if err != nil {
			return "", err
		}
		if s.now().Before(held.Until) {
			return "", nil
		}
		if _, err := s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: held.ID}, {Key: "owner", Value: held.Owner}}); err != nil {
			return "", fmt.Errorf("take over lock %s: %w", eventID, err)
		}
	}
	return "", nil
}

var errNoLock = errors.New("no lock")

func (s *Service) unlock(ctx context.Context, eventID, token string) {
	if _, err := s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: lockID(eventID)}, {Key: "owner", Value: token}}); err != nil {
		s.log.WarnContext(ctx, "unlock event", "event", eventID, "err", err)
	}
}

// walk confirms the waiting sign-ups that fit the free places, in ticket
// order, and tells each household (but self) that it moved up.
func (s *Service) walk(ctx context.Context, eventID, self string) error {
	ev, err := mongo.FindByID[Event](ctx, s.events, eventID, ErrNotFound)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now().UTC()
	if ev.Status != Published || !now.Before(ev.StartsAt) {
		return nil
	}
	free, err := s.free(ctx, ev)
	if err != nil || free <= 0 {
		return err
	}
	cur, err := s.signups.Find(ctx, bson.D{{Key: "eventId", Value: ev.ID}, {Key: "status", Value: Waiting}},
		options.Find().SetSort(bson.D{{Key: "ticket", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(MaxWaiting).
			SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return fmt.Errorf("waiting list of %s: %w", ev.ID, err)
	}
	var waiting []*SignUp
	if err := cur.All(ctx, &waiting); err != nil {
		return fmt.Errorf("waiting list of %s: %w", ev.ID, err)
	}
	for _, w := range waiting {
		if free <= 0 {
			break
		}
		if w.PartySize > free {
			continue // does not fit: keeps its place in line
		}
		hold := mongo.NewID()
		ok, err := s.claimPlaces(ctx, ev, w.PartySize, hold, w.ID, now)
		if err != nil {
			return err
		}
		if !ok { // a newcomer took places meanwhile
			if free, err = s.free(ctx, ev); err != nil {
				return err
			}
			continue
		}
		entry := lifecycle.Entry{At: now, Action: "promote", From: string(Waiting), To: string(Confirmed), ActorID: system.ID, ActorKind: string(system.Kind)}
		var out SignUp
		if err := s.signupSteps.Apply(ctx, w.ID, w.Version, entry, bson.D{{Key: "hold", Value: hold}}, &out); err != nil {
			s.release(ctx, ev.ID, hold)
			// Parties skipped above may fit now: walk again.
			_ = s.mark(ctx, ev.ID)
			if errors.Is(err, lifecycle.ErrStale) {
				continue // cancelled meanwhile
			}
			return err
		}
		free -= w.PartySize
		s.publish(ctx, nil, "promoted", ev.CommunityID, out.HouseholdID, out.ID, map[string]any{"version": out.Version,
			"status": string(out.Status), "eventId": ev.ID, "summary": ev.Title})
		if out.ID != self {
			if err := s.tellPromoted(ctx, ev, &out); err != nil {
				s.log.WarnContext(ctx, "promotion notice", "signUp", out.ID, "err", err)
			}
		}
	}
	return nil
}

func (s *Service) free(ctx context.Context, ev *Event) (int, error) {
	n, err := s.taken(ctx, []string{ev.ID})
	if err != nil {
		return 0, err
	}
	return ev.Capacity - n[ev.ID], nil
}
