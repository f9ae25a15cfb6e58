package activity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// SignUpStatus of a household's sign-up.
type SignUpStatus string

const (
	Confirmed       SignUpStatus = "CONFIRMED" // holds PartySize places
	Waiting         SignUpStatus = "WAITING"   // on the waiting list, in ticket order
	SignUpCancelled SignUpStatus = "CANCELLED"
)

// SignUpMachine is every legal step of a sign-up after the first one (which
// inserts it). Check-in keeps it CONFIRMED and records when; a household
// that cancelled may sign up again (at the back of the line).
var SignUpMachine = lifecycle.Machine[SignUpStatus]{
	"promote":        {From: []SignUpStatus{Waiting}, To: Confirmed},
	"cancel":         {From: []SignUpStatus{Confirmed, Waiting}, To: SignUpCancelled},
	"check_in":       {From: []SignUpStatus{Confirmed}, To: Confirmed},
	"rejoin":         {From: []SignUpStatus{SignUpCancelled}, To: Confirmed},
	"rejoin_waiting": {From: []SignUpStatus{SignUpCancelled}, To: Waiting},
}

// MaxWaiting bounds an event's waiting list (households).
const MaxWaiting = 200

// SignUp is one household's sign-up for one event.
type SignUp struct {
	ID          string       `bson:"_id"` // derived from event and household
	EventID     string       `bson:"eventId"`
	CommunityID string       `bson:"communityId"`
	HouseholdID string       `bson:"householdId"`
	PartySize   int          `bson:"partySize"`
	Status      SignUpStatus `bson:"status"`
	Version     int          `bson:"version"`
	// Ticket is the arrival order: the waiting list moves up in it.
	Ticket int `bson:"ticket"`
	// Hold is the token the places of a confirmed sign-up are claimed under.
	Hold string `bson:"hold,omitempty"`
	// CheckInCode is the household's ticket at the door (QR content).
	CheckInCode string            `bson:"checkInCode"`
	CheckedInAt *time.Time        `bson:"checkedInAt,omitempty"`
	CheckedInBy string            `bson:"checkedInBy,omitempty"`
	SignedUpBy  string            `bson:"signedUpBy"`
	Timeline    []lifecycle.Entry `bson:"timeline"`
	CreatedAt   time.Time         `bson:"createdAt"`
	UpdatedAt   time.Time         `bson:"updatedAt"`
	SortKey     string            `bson:"sortKey"` // newest first

	// Filled for readers, not stored.
	Position int    `bson:"-"` // 1-based place on the waiting list; 0 when not waiting
	Event    *Event `bson:"-"`
}

// signsUpFor: owners and family members sign up their own household.
// Members of another household (and staff, who do not sign up for
// residents) learn nothing about it: NOT_FOUND for residents; tenants
// FORBIDDEN (the household's owners decide).
func signsUpFor(c *access.Caller, householdID string) error {
	role, ok := c.RoleIn(householdID)
	switch {
	case !ok && c.IsPerson():
		return household.ErrNotFound
	case !ok:
		return apperr.ErrForbidden
	case role != access.Owner && role != access.Family:
		return apperr.ErrForbidden
	}
	return nil
}

// SignUpFor signs a household up with partySize people. While places are
// free (and nobody waits) it is CONFIRMED and holds its places; otherwise
// it joins the waiting list and moves up by itself when places free up.
// One sign-up per household per event; sign-ups close at the deadline.
func (s *Service) SignUpFor(ctx context.Context, c *access.Caller, eventID, householdID string, partySize int) (*SignUp, error) {
	if err := validIDs("eventId", eventID, "householdId", householdID); err != nil {
		return nil, err
	}
	if err := signsUpFor(c, householdID); err != nil {
		return nil, err
	}
	h, err := s.households.Get(ctx, c, householdID)
	if err != nil {
		return nil, err
	}
	ev, err := s.visible(ctx, c, eventID)
	if err != nil {
		return nil, err
	}
	if !ev.Covers(h) {
		return nil, ErrNotCovered.WithField("householdId")
	}
	now := s.now().UTC()
	if err := ev.signUpsOpen(now); err != nil {
		return nil, err
	}
	if partySize < 1 || partySize > ev.MaxPartySize {
		return nil, apperr.Invalid("partySize", "activity.bad_party", ev.MaxPartySize)
	}
	id := signUpID(ev.ID, h.ID)
	cur, err := s.signUp(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Status != SignUpCancelled {
		return nil, ErrAlreadySignedUp.WithArgs(string(cur.Status))
	}
	ticket, err := s.nextTicket(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	// With a waiting list, a newcomer joins its end: promotion then takes
	// everyone who fits in ticket order, this sign-up included.
	waiting, err := s.signups.CountDocuments(ctx, bson.D{{Key: "eventId", Value: ev.ID}, {Key: "status", Value: Waiting}})
	if err != nil {
		return nil, fmt.Errorf("count waiting: %w", err)
	}
	hold, confirmed := mongo.NewID(), false
	if waiting == 0 {
		if confirmed, err = s.claimPlaces(ctx, ev, partySize, hold, id, now); err != nil {
			return nil, err
		}
	}
	if !confirmed {
		hold = ""
		if waiting >= MaxWaiting {
			return nil, ErrFull
		}
	}
	su, err := s.storeSignUp(ctx, c, ev, h.ID, cur, partySize, ticket, hold, now)
	if err != nil {
		if hold != "" {
			// Someone may have been sent to wait for these places meanwhile.
			s.release(ctx, ev.ID, hold)
			s.promote(ctx, ev.ID, "")
		}
		return nil, err
	}
	s.publish(ctx, c, "signed_up", ev.CommunityID, su.HouseholdID, su.ID, map[string]any{"version": su.Version, "status": string(su.Status),
		"eventId": ev.ID, "partySize": su.PartySize, "summary": ev.Title})
	if su.Status == Waiting {
		// Places may be free (a place race was lost, or those waiting ahead
		// do not fit): the line moves up now, this sign-up perhaps too.
		s.promote(ctx, ev.ID, su.ID)
		if su, err = s.signUp(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.withEvent(ctx, c, su, ev)
}

// withEvent attaches the event, as its reader sees it, to a sign-up just
// changed, with the sign-up's place on the waiting list.
func (s *Service) withEvent(ctx context.Context, c *access.Caller, su *SignUp, ev *Event) (*SignUp, error) {
	if err := s.decorate(ctx, c, []*Event{ev}); err != nil {
		return nil, err
	}
	su.Event = ev
	return su, s.positions(ctx, []*SignUp{su})
}

// signUpsOpen: published, not started, before the deadline.
func (ev *Event) signUpsOpen(now time.Time) error {
	switch {
	case ev.Status == Cancelled:
		return ErrCancelled
	case !now.Before(ev.StartsAt) || ev.Status == Ended:
		return ErrStarted.WithArgs(ev.local(ev.StartsAt))
	case !now.Before(ev.SignUpDeadline):
		return ErrSignUpsClosed.WithArgs(ev.local(ev.SignUpDeadline))
	}
	return nil
}

// storeSignUp inserts a first sign-up, or steps a cancelled one back in.
// hold is empty for a waiting sign-up.
func (s *Service) storeSignUp(ctx context.Context, c *access.Caller, ev *Event, householdID string, cur *SignUp, party, ticket int, hold string, now time.Time) (*SignUp, error) {
	status, action := Confirmed, "rejoin"
	if hold == "" {
		status, action = Waiting, "rejoin_waiting"
	}
	code, err := newCode()
	if err != nil {
		return nil, err
	}
	data := map[string]any{"partySize": party, "ticket": ticket}
	if cur == nil {
		su := &SignUp{ID: signUpID(ev.ID, householdID), EventID: ev.ID, CommunityID: ev.CommunityID, HouseholdID: householdID,
			PartySize: party, Status: status, Version: 1, Ticket: ticket, Hold: hold, CheckInCode: code, SignedUpBy: c.ID,
			CreatedAt: now, UpdatedAt: now, SortKey: page.NewestFirst(now, signUpID(ev.ID, householdID)),
			Timeline: []lifecycle.Entry{{At: now, Action: "sign_up", To: string(status), ActorID: c.ID, ActorKind: string(c.Kind), Data: data}}}
		if _, err := s.signups.InsertOne(ctx, su); err != nil {
			if mongo.IsDuplicate(err) { // another member of the household was quicker
				if other, _ := s.signUp(ctx, su.ID); other != nil {
					status = other.Status
				}
				return nil, ErrAlreadySignedUp.WithArgs(string(status))
			}
			return nil, fmt.Errorf("insert sign-up: %w", err)
		}
		return su, nil
	}
	entry := lifecycle.Entry{At: now, Action: action, From: string(cur.Status), To: string(status), ActorID: c.ID, ActorKind: string(c.Kind), Data: data}
	set := bson.D{{Key: "partySize", Value: party}, {Key: "ticket", Value: ticket}, {Key: "hold", Value: hold}, {Key: "checkInCode", Value: code},
		{Key: "signedUpBy", Value: c.ID}, {Key: "sortKey", Value: page.NewestFirst(now, cur.ID)}}
	var out SignUp
	if err := s.signupSteps.Apply(ctx, cur.ID, cur.Version, entry, set, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelSignUp withdraws a household's sign-up before the event starts. The
// places it held go to the first waiting households that fit, in order.
func (s *Service) CancelSignUp(ctx context.Context, c *access.Caller, eventID, householdID string) (*SignUp, error) {
	if err := validIDs("eventId", eventID, "householdId", householdID); err != nil {
		return nil, err
	}
	if err := signsUpFor(c, householdID); err != nil {
		return nil, err
	}
	ev, err := s.visible(ctx, c, eventID)
	if err != nil {
		return nil, err
	}
	su, err := s.signUp(ctx, signUpID(ev.ID, householdID))
	if err != nil {
		return nil, err
	}
	if su == nil {
		return nil, ErrSignUpNotFound
	}
	now := s.now().UTC()
	switch {
	case ev.Status == Cancelled:
		return nil, ErrCancelled
	case su.CheckedInAt != nil:
		return nil, ErrCheckedInNoCancel
	case !now.Before(ev.StartsAt):
		return nil, ErrStarted.WithArgs(ev.local(ev.StartsAt))
	}
	to, err := SignUpMachine.Next("cancel", su.Status)
	if err != nil {
		return nil, err
	}
	entry := lifecycle.Entry{At: now, Action: "cancel", From: string(su.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	var out SignUp
	if err := s.signupSteps.Apply(ctx, su.ID, su.Version, entry, bson.D{{Key: "hold", Value: ""}}, &out); err != nil {
		return nil, err
	}
	if su.Hold != "" {
		s.release(ctx, ev.ID, su.Hold)
		s.promote(ctx, ev.ID, "")
	}
	s.publish(ctx, c, "signup_cancelled", ev.CommunityID, out.HouseholdID, out.ID, map[string]any{"version": out.Version,
		"status": string(out.Status), "eventId": ev.ID, "summary": ev.Title})
	return s.withEvent(ctx, c, &out, ev)
}

func (s *Service) signUp(ctx context.Context, id string) (*SignUp, error) {
	su, err := mongo.FindByID[SignUp](ctx, s.signups, id, errNoSignUp)
	if errors.Is(err, errNoSignUp) {
		return nil, nil
	}
	return su, err
}

var errNoSignUp = errors.New("no sign-up")

// nextTicket numbers an event's sign-ups in arrival order: an upserted $inc
// per event. On FerretDB two sign-ups at the same instant may draw the same
// number (its $inc is read-modify-write); they arrived together, and the
// waiting list breaks the tie by id.
func (s *Service) nextTicket(ctx context.Context, eventID string) (int, error) {
	var doc struct {
		N int `bson:"n"`
	}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	for attempt := 0; ; attempt++ {
		err := s.tickets.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: eventID}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, opts).Decode(&doc)
		if err == nil {
			return doc.N, nil
		}
		// Two first sign-ups raced to create the counter: count again.
		if !mongo.IsDuplicate(err) || attempt == 2 {
			return 0, fmt.Errorf("ticket of %s: %w", eventID, err)
		}
	}
}

// codeAlphabet leaves out 0/O and 1/I, which people misread at the door.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// CodeLength: 10 of 32 symbols is 50 bits, far beyond guessing.
const CodeLength = 10

func newCode() (string, error) {
	b := make([]byte, CodeLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("check-in code: %w", err)
	}
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b), nil
}

// validIDs checks (field, id) pairs in order, so the first bad one is named.
func validIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := validate.ID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
