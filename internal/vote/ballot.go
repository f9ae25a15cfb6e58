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
	if err := why(c, u, owner); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	code := receiptCode()
	q := bson.D{{Key: "_id", Value: id}, {Key: "cast", Value: false}, {Key: "sealed", Value: false}}
	if !owner {
		q = append(q, bson.E{Key: "proxyId", Value: c.ID})
	}
	res, err := s.units.UpdateOne(ctx, q, bson.D{{Key: "$set", Value: bson.D{
		{Key: "cast", Value: true}, {Key: "choice", Value: optionID}, {Key: "castBy", Value: c.ID},
		{Key: "byProxy", Value: !owner}, {Key: "castAt", Value: now}, {Key: "receipt", Value: code},
	}}})
	if err != nil {
		return nil, fmt.Errorf("cast ballot of %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		// Someone else cast it, the proxy changed, or the count sealed it since we read it.
		return nil, s.whyNot(ctx, c, id, owner)
	}
	if _, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}}, bson.D{{Key: "$inc", Value: bson.D{
		{Key: "turnout.units", Value: 1}, {Key: "turnout.area", Value: u.Area},
	}}}); err != nil && s.cfg.Log != nil {
		// The ballot stands; only the running figure lags (the count is from ballots).
		s.cfg.Log.WarnContext(ctx, "vote turnout not raised", "vote", v.ID, "err", err)
	}
	return &Receipt{VoteID: v.ID, HouseholdID: householdID, Code: code, OptionID: optionID, Option: v.Option(optionID), CastAt: now, ByProxy: !owner}, nil
}

// unit loads a unit of a vote's electorate, nil when the household is not in it.
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

// why says why the caller cannot change the unit now, nil if they can;
// it never says who cast the unit's ballot or how.
func why(c *access.Caller, u *unit, owner bool) error {
	switch {
	case u == nil && owner:
		return ErrNotInElectoral.WithField("householdId")
	case u == nil, !owner && u.ProxyID != c.ID:
		return ErrNotYourUnit.WithField("householdId")
	case u.Cast:
		return ErrUnitVoted
	case u.Sealed:
		return ErrEnded
	}
	return nil
}

// whyNot explains a guarded unit update that matched nothing.
func (s *Service) whyNot(ctx context.Context, c *access.Caller, id string, owner bool) error {
	u, err := s.unit(ctx, id)
	if err != nil {
		return err
	}
	if err := why(c, u, owner); err != nil {
		return err
	}
	return ErrChanged
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

func (s *Service) changeUnit(ctx context.Context, c *access.Caller, v *Vote, id, householdID string, update bson.D) (*UnitStatus, error) {
	res, err := s.units.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "cast", Value: false}, {Key: "sealed", Value: false}}, update)
	if err != nil {
		return nil, fmt.Errorf("proxy of %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, s.whyNot(ctx, c, id, true)
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
