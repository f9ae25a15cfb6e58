package freeservice

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// Capacity: one claim document per seat of a slot. FerretDB v1 runs a
// guarded findOneAndUpdate as read-modify-write, so a counter "booked <
// capacity" in the filter would let two bookings through; an insert with a
// unique _id cannot.

// staleSeat is how long a seat claimed by a booking that never got stored
// (its process died between claim and write) holds the seat.
const staleSeat = 30 * time.Second

type seat struct {
	ID      string    `bson:"_id"`
	SlotID  string    `bson:"slotId"`
	VisitID string    `bson:"visitId"`
	At      time.Time `bson:"at"`
}

// claimSeat takes a free seat of sl for visit id: one insert per try, each
// with a unique _id "<slot>#<n>", n ≤ capacity, so however many bookings
// race, at most capacity inserts succeed. A full slot is ErrSlotFull, once
// seats held by bookings that never got stored are given back.
func (s *Service) claimSeat(ctx context.Context, sl *Slot, visitID string, now time.Time) (string, error) {
	for attempt := 0; attempt < 2; attempt++ {
		held, err := s.seatsOf(ctx, sl.ID)
		if err != nil {
			return "", err
		}
		taken := map[string]bool{}
		for _, st := range held {
			taken[st.ID] = true
		}
		for n := 1; n <= sl.Capacity; n++ {
			id := fmt.Sprintf("%s#%d", sl.ID, n)
			if taken[id] {
				continue
			}
			_, err := s.seats.InsertOne(ctx, seat{ID: id, SlotID: sl.ID, VisitID: visitID, At: now})
			if err == nil {
				return id, nil
			}
			if !mongo.IsDuplicate(err) {
				return "", fmt.Errorf("claim seat: %w", err)
			}
		}
		if attempt == 0 {
			if n, err := s.freeOrphans(ctx, held, now); err != nil || n == 0 {
				break
			}
		}
	}
	return "", ErrSlotFull.WithArgs(sl.label())
}

func (s *Service) seatsOf(ctx context.Context, slotID string) ([]seat, error) {
	cur, err := s.seats.Find(ctx, bson.D{{Key: "slotId", Value: slotID}})
	if err != nil {
		return nil, fmt.Errorf("seats of %s: %w", slotID, err)
	}
	var out []seat
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("seats of %s: %w", slotID, err)
	}
	return out, nil
}

// freeOrphans deletes seats older than staleSeat whose visit does not hold
// them (the booking died half way, or moved and its release was lost).
func (s *Service) freeOrphans(ctx context.Context, held []seat, now time.Time) (int, error) {
	ids := []string{}
	for _, st := range held {
		if now.Sub(st.At) >= staleSeat {
			ids = append(ids, st.VisitID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	vs, err := mongo.ByIDs(ctx, s.visits, ids, func(v *Visit) string { return v.ID })
	if err != nil {
		return 0, err
	}
	freed := 0
	for _, st := range held {
		if v := vs[st.VisitID]; now.Sub(st.At) < staleSeat || (v != nil && v.SeatID == st.ID) {
			continue
		}
		res, err := s.seats.DeleteOne(ctx, bson.D{{Key: "_id", Value: st.ID}, {Key: "at", Value: st.At}})
		if err != nil {
			return freed, fmt.Errorf("free seat: %w", err)
		}
		freed += int(res.DeletedCount)
	}
	return freed, nil
}

// releaseSeat gives a seat back; a failure leaves an orphan that the next
// full-slot claim frees.
func (s *Service) releaseSeat(ctx context.Context, id, visitID string) {
	if _, err := s.seats.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: id}, {Key: "visitId", Value: visitID}}); err != nil {
		s.log.WarnContext(ctx, "release seat", "seat", id, "err", err)
	}
}

// seatCounts is how many seats each slot has taken: one aggregation.
func (s *Service) seatCounts(ctx context.Context, slotIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(slotIDs) == 0 {
		return out, nil
	}
	cur, err := s.seats.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "slotId", Value: bson.D{{Key: "$in", Value: slotIDs}}}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$slotId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count seats: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count seats: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}
