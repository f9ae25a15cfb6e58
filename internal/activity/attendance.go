package activity

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// RatingCount is how many households gave one rating.
type RatingCount struct {
	Rating int
	Count  int
}

// Attendance is the staff's view of an event: who signed up, who came, who
// did not, who is waiting, and what participants said. Its lists are
// bounded by the capacity (MaxCapacity people) and the waiting list
// (MaxWaiting households), so it is one report rather than pages.
type Attendance struct {
	Event               *Event
	ConfirmedHouseholds int
	ConfirmedPeople     int
	CheckedInHouseholds int
	CheckedInPeople     int
	// No-shows are confirmed households that did not check in; counted once
	// the event is over (before that they may still come).
	NoShowHouseholds  int
	NoShowPeople      int
	WaitingHouseholds int
	WaitingPeople     int
	SignUps           []*SignUp // confirmed, in sign-up order
	NoShows           []*SignUp
	WaitingList       []*SignUp // in line order, with positions
	FeedbackCount     int
	MeanRating        *float64 // nil without feedback
	Ratings           []*RatingCount
	Feedback          []*Feedback // oldest first
}

// Attendance is for the staff of the event's community (NOT_FOUND for
// others who cannot see the event, FORBIDDEN for its residents).
func (s *Service) Attendance(ctx context.Context, c *access.Caller, eventID string) (*Attendance, error) {
	ev, err := s.visible(ctx, c, eventID)
	if err != nil {
		return nil, err
	}
	if !c.WorksIn(ev.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if err := s.decorate(ctx, c, []*Event{ev}); err != nil {
		return nil, err
	}
	cur, err := s.signups.Find(ctx, bson.D{{Key: "eventId", Value: ev.ID}, {Key: "status", Value: bson.D{{Key: "$in", Value: []SignUpStatus{Confirmed, Waiting}}}}},
		options.Find().SetSort(bson.D{{Key: "ticket", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(MaxCapacity+MaxWaiting))
	if err != nil {
		return nil, fmt.Errorf("sign-ups of %s: %w", ev.ID, err)
	}
	var sus []*SignUp
	if err := cur.All(ctx, &sus); err != nil {
		return nil, fmt.Errorf("sign-ups of %s: %w", ev.ID, err)
	}
	over := !s.now().Before(ev.EndsAt)
	a := &Attendance{Event: ev, SignUps: []*SignUp{}, NoShows: []*SignUp{}, WaitingList: []*SignUp{}, Ratings: []*RatingCount{}}
	for _, su := range sus {
		su.Event = ev
		switch {
		case su.Status == Waiting:
			a.WaitingHouseholds++
			a.WaitingPeople += su.PartySize
			su.Position = a.WaitingHouseholds
			a.WaitingList = append(a.WaitingList, su)
			continue
		case su.CheckedInAt != nil:
			a.CheckedInHouseholds++
			a.CheckedInPeople += su.PartySize
		case over:
			a.NoShowHouseholds++
			a.NoShowPeople += su.PartySize
			a.NoShows = append(a.NoShows, su)
		}
		a.ConfirmedHouseholds++
		a.ConfirmedPeople += su.PartySize
		a.SignUps = append(a.SignUps, su)
	}
	fcur, err := s.feedback.Find(ctx, bson.D{{Key: "eventId", Value: ev.ID}}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("feedback of %s: %w", ev.ID, err)
	}
	if err := fcur.All(ctx, &a.Feedback); err != nil {
		return nil, fmt.Errorf("feedback of %s: %w", ev.ID, err)
	}
	if a.Feedback == nil {
		a.Feedback = []*Feedback{}
	}
	counts, sum := [6]int{}, 0
	for _, fb := range a.Feedback {
		counts[fb.Rating]++
		sum += fb.Rating
	}
	a.FeedbackCount = len(a.Feedback)
	if a.FeedbackCount > 0 {
		mean := float64(sum) / float64(a.FeedbackCount)
		a.MeanRating = &mean
	}
	for r := 1; r <= 5; r++ {
		a.Ratings = append(a.Ratings, &RatingCount{Rating: r, Count: counts[r]})
	}
	return a, nil
}
