package committee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// AppointInput records one owner's election to the committee.
type AppointInput struct {
	CommunityID string
	PersonID    string
	Role        Role
	TermStart   string // YYYY-MM-DD
	TermEnd     string // YYYY-MM-DD, inclusive
}

// overlaps reports whether two terms share a day.
func overlaps(aStart, aEnd, bStart, bEnd string) bool { return aStart <= bEnd && bStart <= aEnd }

// Appoint records an owner of the community in an office for a term. The
// community's supervisors and admins; its residents FORBIDDEN; anyone else
// NOT_FOUND. An owner sits once per term, and a term has one chair: a
// second is CONFLICT until the first appointment is ended.
//
// Two appointments racing on one community cannot both pass these checks.
// Each reads the community's change number, then the seats, writes its
// seat as pending, and only then claims the next change number (a unique
// insert). The loser of a claim deletes its seat (CONFLICT, reload). A
// writer that read the number after another's claim also reads that
// other's seat, written before the claim, and is refused by the checks.
func (s *Service) Appoint(ctx context.Context, c *access.Caller, in AppointInput) (*Seat, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !MayRead(c, in.CommunityID) {
		return nil, community.ErrNotFound.WithField("input.communityId")
	}
	if !mayAppoint(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if err := validate.ID("input.personId", in.PersonID); err != nil {
		return nil, err
	}
	switch in.Role {
	case Chair, ViceChair, Member:
	default:
		return nil, apperr.Invalid("input.role", "input.bad_value")
	}
	start, err1 := time.Parse(time.DateOnly, in.TermStart)
	end, err2 := time.Parse(time.DateOnly, in.TermEnd)
	switch {
	case err1 != nil:
		return nil, apperr.Invalid("input.termStart", "input.bad_value")
	case err2 != nil:
		return nil, apperr.Invalid("input.termEnd", "input.bad_value")
	case end.Before(start):
		return nil, ErrBadTerm.WithField("input.termEnd")
	case !end.Before(start.AddDate(MaxTermYears, 0, 0)):
		return nil, apperr.Invalid("input.termEnd", "committee.term_too_long", MaxTermYears)
	case in.TermEnd < s.today(in.CommunityID):
		return nil, ErrTermOver.WithField("input.termEnd")
	}
	cs, err := s.cfg.Places.ByIDs(ctx, []string{in.CommunityID})
	if err != nil {
		return nil, err
	}
	if cs[in.CommunityID] == nil {
		return nil, community.ErrNotFound.WithField("input.communityId")
	}
	ms, err := s.cfg.Owners.MembershipsByPersons(ctx, []string{in.PersonID})
	if err != nil {
		return nil, err
	}
	owner := false
	for _, m := range ms[in.PersonID] {
		owner = owner || (m.CommunityID == in.CommunityID && m.Role == access.Owner)
	}
	if !owner {
		// Says nothing about whether the person exists elsewhere.
		return nil, ErrNotOwner.WithField("input.personId")
	}
	ps, err := s.cfg.Owners.PersonsByIDs(ctx, []string{in.PersonID})
	if err != nil {
		return nil, err
	}
	p := ps[in.PersonID]
	if p == nil {
		return nil, ErrNotOwner.WithField("input.personId")
	}
	v, err := s.guard(ctx, in.CommunityID)
	if err != nil {
		return nil, err
	}
	all, err := s.all(ctx, in.CommunityID)
	if err != nil {
		return nil, err
	}
	if len(all) >= MaxSeats {
		return nil, ErrTooManySeats
	}
	for _, m := range all {
		stale := m.Pending != nil && s.cfg.Now().Sub(*m.Pending) > pendingFor
		if m.EndedAt != nil || stale || !overlaps(m.TermStart, m.TermEnd, in.TermStart, in.TermEnd) {
			continue
		}
		if m.PersonID == in.PersonID {
			return nil, ErrAlreadySits.WithField("input.personId")
		}
		if in.Role == Chair && m.Role == Chair {
			return nil, ErrChairTaken.WithField("input.role")
		}
	}
	now := s.cfg.Now().UTC()
	seat := &Seat{ID: mongo.NewID(), CommunityID: in.CommunityID, PersonID: in.PersonID, Name: p.Name, Role: in.Role,
		TermStart: in.TermStart, TermEnd: in.TermEnd, AppointedBy: c.ID, AppointedAt: now, Pending: &now}
	if _, err := s.seats.InsertOne(ctx, seat); err != nil {
		return nil, fmt.Errorf("insert committee seat: %w", err)
	}
	if err := s.bump(ctx, in.CommunityID, v); err != nil {
		if _, derr := s.seats.DeleteOne(ctx, bson.D{{Key: "_id", Value: seat.ID}}); derr != nil {
			return nil, fmt.Errorf("withdraw committee seat %s after %v: %w", seat.ID, err, derr)
		}
		if errors.Is(err, errNoGuard) {
			return nil, ErrChanged
		}
		return nil, err
	}
	if _, err := s.seats.UpdateOne(ctx, bson.D{{Key: "_id", Value: seat.ID}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}}}); err != nil {
		return nil, fmt.Errorf("confirm committee seat %s: %w", seat.ID, err)
	}
	seat.Pending = nil
	return seat, nil
}

// End ends an appointment early (resignation, recall, moving away): the
// member stops sitting at once; the record stays. Same people as Appoint.
func (s *Service) End(ctx context.Context, c *access.Caller, id string, reason *string) (*Seat, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	var m Seat
	if err := s.seats.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		if errors.Is(err, mgo.ErrNoDocuments) {
			return nil, ErrNotFound.WithField("id")
		}
		return nil, fmt.Errorf("committee seat %s: %w", id, err)
	}
	if !MayRead(c, m.CommunityID) {
		return nil, ErrNotFound.WithField("id")
	}
	if !mayAppoint(c, m.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	why := ""
	if reason != nil {
		r, err := validate.Text("reason", *reason, false, maxReason)
		if err != nil {
			return nil, err
		}
		why = r
	}
	now := s.cfg.Now().UTC()
	res, err := s.seats.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "endedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "endedAt", Value: now}, {Key: "endedBy", Value: c.ID}, {Key: "endReason", Value: why}}}})
	if err != nil {
		return nil, fmt.Errorf("end committee seat %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrAlreadyEnded
	}
	m.EndedAt, m.EndedBy, m.EndReason = &now, c.ID, why
	return &m, nil
}
