package activity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/validate"
)

// CheckInOpensBefore is how long before the start the door opens for
// check-in; it closes when the event ends.
const CheckInOpensBefore = 3 * time.Hour

// CheckIn records a household's arrival from the code staff scanned at the
// door: any staff member of the event's community (the door may be kept by
// a butler or by security); staff of another community get NOT_FOUND. Only
// a confirmed sign-up of this event, and only once: a second scan is
// CONFLICT naming when it was checked in.
func (s *Service) CheckIn(ctx context.Context, c *access.Caller, eventID, code string) (*SignUp, error) {
	if err := validate.ID("eventId", eventID); err != nil {
		return nil, err
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != CodeLength || strings.Trim(code, codeAlphabet) != "" {
		return nil, apperr.Invalid("code", "input.bad_value")
	}
	ev, err := s.visible(ctx, c, eventID)
	if err != nil {
		return nil, err
	}
	if !c.WorksIn(ev.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	now := s.now().UTC()
	switch {
	case ev.Status == Cancelled:
		return nil, ErrCancelled
	case ev.Status == Draft:
		return nil, ErrCodeNotFound
	case now.Before(ev.StartsAt.Add(-CheckInOpensBefore)) || !now.Before(ev.EndsAt):
		return nil, ErrCheckInClosed.WithArgs(int(CheckInOpensBefore / time.Hour))
	}
	su, err := s.byCode(ctx, ev.ID, code)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if su.CheckedInAt != nil {
			return nil, ErrAlreadyCheckedIn.WithArgs(ev.local(*su.CheckedInAt))
		}
		if su.Status != Confirmed {
			return nil, ErrNotConfirmed.WithArgs(string(su.Status))
		}
		entry := lifecycle.Entry{At: now, Action: "check_in", From: string(su.Status), To: string(Confirmed), ActorID: c.ID, ActorKind: string(c.Kind)}
		var out SignUp
		err := s.signupSteps.Apply(ctx, su.ID, su.Version, entry, bson.D{{Key: "checkedInAt", Value: now}, {Key: "checkedInBy", Value: c.ID}}, &out)
		if err == nil {
			s.publish(ctx, c, "checked_in", ev.CommunityID, out.HouseholdID, out.ID, map[string]any{"version": out.Version,
				"status": string(out.Status), "eventId": ev.ID, "partySize": out.PartySize, "summary": ev.Title})
			return s.withEvent(ctx, c, &out, ev)
		}
		// Scanned twice at once: the loser reads who won, and says when.
		if !errors.Is(err, lifecycle.ErrStale) || attempt == 2 {
			return nil, err
		}
		if su, err = s.settled(ctx, su); err != nil {
			return nil, err
		}
	}
}

// settled re-reads a sign-up after losing a step to another writer, until
// the winner's step is written (a claimed step is stored a round trip
// later), for at most half a second.
func (s *Service) settled(ctx context.Context, was *SignUp) (*SignUp, error) {
	for i := 0; ; i++ {
		su, err := s.signUp(ctx, was.ID)
		if err != nil || su == nil {
			return nil, cmpErr(err, ErrCodeNotFound)
		}
		if su.Version != was.Version || i == 25 {
			return su, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Service) byCode(ctx context.Context, eventID, code string) (*SignUp, error) {
	var su SignUp
	err := s.signups.FindOne(ctx, bson.D{{Key: "eventId", Value: eventID}, {Key: "checkInCode", Value: code}}).Decode(&su)
	if err != nil {
		if errors.Is(err, mgo.ErrNoDocuments) {
			return nil, ErrCodeNotFound
		}
		return nil, fmt.Errorf("find check-in code: %w", err)
	}
	return &su, nil
}
