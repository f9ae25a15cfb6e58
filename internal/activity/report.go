package activity

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Held are a community's events that ended in a window and were not
// cancelled, for the owners' management report: how many, their confirmed
// sign-ups (households) and those checked in.
type Held struct {
	Events, SignUps, Attended int
}

// HeldIn counts the events ended in [from, to) (not cancelled), and, as
// AttendanceIn, their confirmed sign-ups and check-ins.
func (s *Service) HeldIn(ctx context.Context, communityID string, from, to time.Time) (Held, error) {
	n, err := s.events.CountDocuments(ctx, endedIn(communityID, from, to))
	if err != nil {
		return Held{}, fmt.Errorf("events ended in range: %w", err)
	}
	attended, expected, err := s.AttendanceIn(ctx, communityID, from, to)
	return Held{Events: int(n), SignUps: expected, Attended: attended}, err
}

// endedIn is the community's events that ended in [from, to), not cancelled.
func endedIn(communityID string, from, to time.Time) bson.D {
	return bson.D{{Key: "communityId", Value: communityID},
		{Key: "endsAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Published, Ended}}}}}
}
