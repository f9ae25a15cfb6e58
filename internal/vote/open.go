package vote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// OptionInput is one option as entered.
type OptionInput struct {
	Text    string
	Abstain bool
}

// OpenInput is a matter to put to the owners.
type OpenInput struct {
	CommunityID string
	Title       string
	Description *string
	Rule        Rule
	Options     []OptionInput
	OpensAt     *time.Time // nil: now
	ClosesAt    time.Time
}

// unit is one unit of a vote's frozen register, with its proxy.
type unit struct {
	ID          string `bson:"_id"` // voteId:snapshot:householdId, also its ballot's
	VoteID      string `bson:"voteId"`
	Snapshot    string `bson:"snapshot"`
	HouseholdID string `bson:"householdId"`
	Label       string `bson:"label"`
	Area        int64  `bson:"area"` // hundredths of a square metre
	ProxyID     string `bson:"proxyId,omitempty"`
	ProxyPhone  string `bson:"proxyPhone,omitempty"`
	ProxyBy     string `bson:"proxyBy,omitempty"`
}

// ballot is a unit's ballot, or the seal the count puts in the place of a
// ballot never cast. Its _id is the unit's: an insert is the one guard that
// holds on MongoDB and FerretDB alike (whose guarded updates are a read and
// a write), so a unit has one ballot, and nothing is cast after the seal.
type ballot struct {
	ID       string     `bson:"_id"`
	VoteID   string     `bson:"voteId"`
	Snapshot string     `bson:"snapshot"`
	Sealed   bool       `bson:"sealed"`
	Area     int64      `bson:"area,omitempty"`
	Choice   string     `bson:"choice,omitempty"`
	CastBy   string     `bson:"castBy,omitempty"`
	ByProxy  bool       `bson:"byProxy,omitempty"`
	CastAt   *time.Time `bson:"castAt,omitempty"`
	Receipt  string     `bson:"receipt,omitempty"`
}

func unitID(voteID, snapshot, householdID string) string {
	return voteID + ":" + snapshot + ":" + householdID
}

// Open puts a matter to the owners. The chair or a vice-chair of the
// community's committee opens it (OPEN, electorate frozen now); a
// supervisor of the community or an admin proposes it (PROPOSED) for the
// committee to approve. Other residents and staff of the community get
// FORBIDDEN, anyone else NOT_FOUND.
func (s *Service) Open(ctx context.Context, c *access.Caller, in OpenInput) (*Vote, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !mayRead(c, in.CommunityID) {
		return nil, community.ErrNotFound.WithField("input.communityId")
	}
	leader := false
	if c.IsPerson() {
		r, err := s.cfg.Committee.RoleOf(ctx, c, in.CommunityID)
		if err != nil {
			return nil, err
		}
		leader = leads(r)
	}
	if !leader && !staffWriter(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	now := s.cfg.Now().UTC()
	v, err := buildVote(in, now)
	if err != nil {
		return nil, err
	}
	v.ID, v.CommunityID, v.CreatedAt = mongo.NewID(), in.CommunityID, now
	v.SortKey = page.NewestFirst(now, v.ID)
	units, err := s.electorate(ctx, v.CommunityID)
	if err != nil {
		return nil, err
	}
	if leader {
		if err := s.freeze(ctx, v, units, c.ID, now); err != nil {
			return nil, err
		}
	} else {
		v.State, v.ProposedBy = Proposed, c.ID
	}
	if _, err := s.votes.InsertOne(ctx, v); err != nil {
		return nil, fmt.Errorf("insert vote: %w", err)
	}
	if v.State == Open {
		s.noticeOpened(ctx, v)
	}
	return v, nil
}

// Approve opens a vote the company proposed: the chair or a vice-chair of
// the community's committee; the electorate is frozen now. A vote whose
// closing time has passed meanwhile cannot be approved (propose it again).
func (s *Service) Approve(ctx context.Context, c *access.Caller, id string) (*Vote, error) {
	v, err := s.readable(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !c.IsPerson() {
		return nil, apperr.ErrForbidden
	}
	r, err := s.cfg.Committee.RoleOf(ctx, c, v.CommunityID)
	if err != nil {
		return nil, err
	}
	if !leads(r) {
		return nil, apperr.ErrForbidden
	}
	if v.State != Proposed {
		return nil, ErrNotProposed
	}
	now := s.cfg.Now().UTC()
	if !v.ClosesAt.After(now) {
		return nil, ErrEnded
	}
	units, err := s.electorate(ctx, v.CommunityID)
	if err != nil {
		return nil, err
	}
	if err := s.freeze(ctx, v, units, c.ID, now); err != nil {
		return nil, err
	}
	res, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}, {Key: "state", Value: Proposed}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: Open}, {Key: "openedBy", Value: v.OpenedBy}, {Key: "openedAt", Value: v.OpenedAt},
		{Key: "snapshot", Value: v.Snapshot}, {Key: "electorate", Value: v.Electorate},
	}}})
	if err != nil {
		return nil, fmt.Errorf("approve vote %s: %w", v.ID, err)
	}
	if res.MatchedCount == 0 {
		// Another approval won; its snapshot is the vote's, ours is never read.
		return nil, ErrChanged
	}
	s.noticeOpened(ctx, v)
	return v, nil
}

// electorate is the community's owner units with their areas: refused when
// there are none or when any has no floor area (the count would be wrong).
func (s *Service) electorate(ctx context.Context, communityID string) ([]unit, error) {
	ous, err := s.cfg.Households.OwnerUnits(ctx, communityID)
	if err != nil {
		return nil, err
	}
	if len(ous) == 0 {
		return nil, ErrNoOwners
	}
	missing := 0
	out := make([]unit, len(ous))
	for i, u := range ous {
		area := int64(0)
		if u.FloorArea != nil {
			area = AreaHundredths(*u.FloorArea)
		}
		if area <= 0 {
			missing++
		}
		out[i] = unit{HouseholdID: u.ID, Label: u.Label, Area: area}
	}
	if missing > 0 {
		return nil, ErrAreaMissing.WithArgs(missing)
	}
	return out, nil
}

// freeze writes the electorate as the vote's ballot box under a fresh
// snapshot and marks v open (the caller stores v).
func (s *Service) freeze(ctx context.Context, v *Vote, units []unit, by string, now time.Time) error {
	snap := randomCode(6)
	docs := make([]any, len(units))
	var total Tally
	for i := range units {
		u := &units[i]
		u.ID, u.VoteID, u.Snapshot = unitID(v.ID, snap, u.HouseholdID), v.ID, snap
		total.Add(u.Area)
		docs[i] = u
	}
	if _, err := s.units.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		return fmt.Errorf("freeze the electorate of vote %s: %w", v.ID, err)
	}
	v.State, v.Snapshot, v.Electorate, v.OpenedBy, v.OpenedAt = Open, snap, total, by, &now
	return nil
}

// buildVote validates the input, naming the field at fault.
func buildVote(in OpenInput, now time.Time) (*Vote, error) {
	v := &Vote{Turnout: Tally{}}
	var err error
	if v.Title, err = validate.Text("input.title", in.Title, true, MaxTitle); err != nil {
		return nil, err
	}
	if in.Description != nil {
		if v.Description, err = validate.Text("input.description", *in.Description, false, MaxDescription); err != nil {
			return nil, err
		}
	}
	switch in.Rule {
	case Ordinary, Major:
		v.Rule = in.Rule
	default:
		return nil, apperr.Invalid("input.rule", "input.bad_value")
	}
	if len(in.Options) < 2 || len(in.Options) > MaxOptions {
		return nil, apperr.Invalid("input.options", "vote.options_count", MaxOptions)
	}
	seen := map[string]bool{}
	votable := false
	for i, o := range in.Options {
		field := fmt.Sprintf("input.options.%d.text", i)
		text, err := validate.Text(field, o.Text, true, MaxOptionText)
		if err != nil {
			return nil, err
		}
		if seen[text] {
			return nil, apperr.Invalid(field, "vote.option_duplicate")
		}
		seen[text] = true
		votable = votable || !o.Abstain
		v.Options = append(v.Options, Option{ID: strconv.Itoa(i + 1), Text: text, Abstain: o.Abstain})
	}
	if !votable {
		return nil, apperr.Invalid("input.options", "vote.only_abstain")
	}
	v.OpensAt = now
	if in.OpensAt != nil && in.OpensAt.After(now) {
		v.OpensAt = in.OpensAt.UTC()
	}
	v.ClosesAt = in.ClosesAt.UTC()
	if !v.ClosesAt.After(v.OpensAt) {
		return nil, apperr.Invalid("input.closesAt", "vote.closes_before")
	}
	if v.ClosesAt.Sub(v.OpensAt) > MaxPeriod {
		return nil, apperr.Invalid("input.closesAt", "vote.too_long")
	}
	return v, nil
}

// get loads a vote, ErrNotFound when absent.
func (s *Service) get(ctx context.Context, id string) (*Vote, error) {
	if !mongo.ValidID(id) {
		return nil, ErrNotFound
	}
	return mongo.FindByID[Vote](ctx, s.votes, id, ErrNotFound)
}

// readable loads a vote for a caller who may read it: residents and staff
// of its community, and anyone holding a proxy for one of its units;
// anyone else NOT_FOUND.
func (s *Service) readable(ctx context.Context, c *access.Caller, id string) (*Vote, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	v, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if mayRead(c, v.CommunityID) {
		return v, nil
	}
	if c.IsPerson() && v.Snapshot != "" {
		err := s.units.FindOne(ctx, bson.D{{Key: "proxyId", Value: c.ID}, {Key: "voteId", Value: v.ID}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, mgo.ErrNoDocuments) {
			return nil, fmt.Errorf("proxies of vote %s: %w", v.ID, err)
		}
	}
	return nil, ErrNotFound
}

// randomCode is n random bytes as hex: snapshots and receipts.
func randomCode(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b)
}
