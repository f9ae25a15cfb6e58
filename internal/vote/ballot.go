package vote

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
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Receipt is what a voter gets for a ballot: the random code, shown only to
// them, that they find again in the published receipt list of the result.
type Receipt struct {
	VoteID      string
	HouseholdID string
	Code        string
	OptionID    string
	// Option is the chosen option when known (Cast); else look OptionID up.
	Option  *Option
	CastAt  time.Time
	ByProxy bool
}

// running checks that ballots and proxy changes are taken now.
func running(v *Vote, now time.Time) error {
	switch {
	case v.State == Closed:
		return ErrClosed
	case v.State != Open:
		return ErrNotOpen
	case v.SealedAt != nil || !now.Before(v.ClosesAt):
		return ErrEnded
	case now.Before(v.OpensAt):
		return ErrNotStarted
	}
	return nil
}

// Cast records the unit's ballot: by one of its owners, or by the proxy an
// owner appointed, while the vote is open. A unit has one ballot whoever
// casts it: once cast, anyone else gets CONFLICT (vote.unit_voted), which
// names neither who voted nor how. The receipt code is shown only here and
// to the one who cast (myUnits).
func (s *Service) Cast(ctx context.Context, c *access.Caller, voteID, householdID, optionID string) (*Receipt, error) {
	v, err := s.readable(ctx, c, voteID)
	if err != nil {
		return nil, err
	}
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	if !c.IsPerson() {
		return nil, apperr.ErrForbidden // staff never hold a ballot
	}
	if err := running(v, s.cfg.Now()); err != nil {
		return nil, err
	}
	if v.Option(optionID) == nil {
		return nil, apperr.Invalid("optionId", "vote.bad_option")
	}
	owner := ownerOf(c, householdID)
	id := unitID(v.ID, v.Snapshot, householdID)
	u, err := s.unit(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := mayCast(c, u, owner); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	b := &ballot{ID: id, VoteID: v.ID, Snapshot: v.Snapshot, Area: u.Area, Choice: optionID, CastBy: c.ID, ByProxy: !owner, CastAt: &now, Receipt: receiptCode()}
	if _, err := s.ballots.InsertOne(ctx, b); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, s.taken(ctx, id)
		}
		return nil, fmt.Errorf("cast ballot of %s: %w", id, err)
	}
	if _, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}}, bson.D{{Key: "$inc", Value: bson.D{
		{Key: "turnout.units", Value: 1}, {Key: "turnout.area", Value: u.Area},
	}}}); err != nil && s.cfg.Log != nil {
		// The ballot stands; only the running figure lags (the count is from ballots).
		s.cfg.Log.WarnContext(ctx, "vote turnout not raised", "vote", v.ID, "err", err)
	}
	return &Receipt{VoteID: v.ID, HouseholdID: householdID, Code: b.Receipt, OptionID: optionID, Option: v.Option(optionID), CastAt: now, ByProxy: !owner}, nil
}

// unit loads a unit of a vote's register, nil when the household is not in it.
func (s *Service) unit(ctx context.Context, id string) (*unit, error) {
	var u unit
	err := s.units.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&u)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", id, err)
	}
	return &u, nil
}

// mayCast says why the caller cannot cast the unit's ballot, nil if they
// can: its owners, and the proxy an owner appointed.
func mayCast(c *access.Caller, u *unit, owner bool) error {
	switch {
	case u == nil && owner:
		return ErrNotInElectoral.WithField("householdId")
	case u == nil, !owner && u.ProxyID != c.ID:
		return ErrNotYourUnit.WithField("householdId")
	}
	return nil
}

// taken explains a unit whose ballot place is filled: cast (by whom or how
// is not said), or sealed by the count.
func (s *Service) taken(ctx context.Context, id string) error {
	var b ballot
	err := s.ballots.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&b)
	switch {
	case errors.Is(err, mgo.ErrNoDocuments):
		return ErrChanged
	case err != nil:
		return fmt.Errorf("ballot %s: %w", id, err)
	case b.Sealed:
		return ErrEnded
	}
	return ErrUnitVoted
}

// AppointProxy lets the person with the phone cast the unit's ballot: an
// owner of the unit, until the ballot is cast; appointing again replaces
// the proxy. The proxy must already have an account.
func (s *Service) AppointProxy(ctx context.Context, c *access.Caller, voteID, householdID, phone string) (*UnitStatus, error) {
	v, id, err := s.ownerChange(ctx, c, voteID, householdID)
	if err != nil {
		return nil, err
	}
	p, err := validate.Phone("proxyPhone", phone)
	if err != nil {
		return nil, err
	}
	personID, ok, err := s.cfg.Households.PersonByPhone(ctx, p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrProxyUnknown.WithField("proxyPhone")
	}
	if personID == c.ID {
		return nil, apperr.Invalid("proxyPhone", "vote.proxy_self")
	}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "proxyId", Value: personID}, {Key: "proxyPhone", Value: p}, {Key: "proxyBy", Value: c.ID}}}}
	return s.changeUnit(ctx, c, v, id, householdID, set)
}

// RevokeProxy withdraws the unit's proxy, until the ballot is cast.
func (s *Service) RevokeProxy(ctx context.Context, c *access.Caller, voteID, householdID string) (*UnitStatus, error) {
	v, id, err := s.ownerChange(ctx, c, voteID, householdID)
	if err != nil {
		return nil, err
	}
	unset := bson.D{{Key: "$unset", Value: bson.D{{Key: "proxyId", Value: ""}, {Key: "proxyPhone", Value: ""}, {Key: "proxyBy", Value: ""}}}}
	return s.changeUnit(ctx, c, v, id, householdID, unset)
}

// ownerChange checks a change only the unit's owners make while it runs.
func (s *Service) ownerChange(ctx context.Context, c *access.Caller, voteID, householdID string) (*Vote, string, error) {
	v, err := s.readable(ctx, c, voteID)
	if err != nil {
		return nil, "", err
	}
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, "", err
	}
	if !ownerOf(c, householdID) {
		if c.IsStaff() {
			return nil, "", apperr.ErrForbidden
		}
		return nil, "", ErrNotYourUnit.WithField("householdId")
	}
	if err := running(v, s.cfg.Now()); err != nil {
		return nil, "", err
	}
	return v, unitID(v.ID, v.Snapshot, householdID), nil
}

// changeUnit changes the unit's proxy while its ballot place is empty. A
// revoke racing the proxy's own cast may let that ballot stand, as if it
// had come first; the unit still has one ballot.
func (s *Service) changeUnit(ctx context.Context, c *access.Caller, v *Vote, id, householdID string, update bson.D) (*UnitStatus, error) {
	n, err := s.ballots.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return nil, fmt.Errorf("ballot %s: %w", id, err)
	}
	if n > 0 {
		return nil, s.taken(ctx, id)
	}
	res, err := s.units.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return nil, fmt.Errorf("proxy of %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrNotInElectoral.WithField("householdId")
	}
	us, err := s.MyUnits(ctx, c, v)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		if u.HouseholdID == householdID {
			return u, nil
		}
	}
	return nil, ErrChanged
}

// receiptCode is a ballot's receipt: 48 random bits as XXXX-XXXX-XXXX.
func receiptCode() string {
	h := strings.ToUpper(randomCode(6))
	return h[:4] + "-" + h[4:8] + "-" + h[8:]
}
