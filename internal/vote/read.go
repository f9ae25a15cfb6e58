package vote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// UnitStatus is one of the caller's units in a vote: theirs as an owner, or
// one they hold a proxy for.
type UnitStatus struct {
	HouseholdID string
	Label       string
	Area        int64
	// AsProxy: the caller holds the unit's proxy and is not its owner.
	AsProxy bool
	// Voted: the unit's ballot is in (by anyone).
	Voted bool
	// Mine is the ballot when the caller cast it; nobody else sees it.
	Mine *Receipt
	// ProxyPhone is the unit's appointed proxy, shown to its owners.
	ProxyPhone string
}

// UnitsKey names a vote for the caller's units in it (MyUnitsOf).
type UnitsKey struct{ VoteID, Snapshot, CommunityID string }

// Key is v's UnitsKey.
func (v *Vote) Key() UnitsKey {
	return UnitsKey{VoteID: v.ID, Snapshot: v.Snapshot, CommunityID: v.CommunityID}
}

// MyUnits is the caller's units in the vote's register: those they own and
// those they hold a proxy for.
func (s *Service) MyUnits(ctx context.Context, c *access.Caller, v *Vote) ([]*UnitStatus, error) {
	m, err := s.MyUnitsOf(ctx, c, []UnitsKey{v.Key()})
	return m[v.Key()], err
}

// MyUnitsOf is MyUnits for a page of votes in one query: the units the
// caller owns in each register by _id, and those they hold a proxy for.
func (s *Service) MyUnitsOf(ctx context.Context, c *access.Caller, keys []UnitsKey) (map[UnitsKey][]*UnitStatus, error) {
	out := make(map[UnitsKey][]*UnitStatus, len(keys))
	if !c.IsPerson() {
		return out, nil
	}
	var ids, voteIDs []string
	owned := map[string]bool{}
	byVote := map[string]UnitsKey{}
	for _, k := range keys {
		if k.Snapshot == "" {
			continue
		}
		byVote[k.VoteID] = k
		voteIDs = append(voteIDs, k.VoteID)
		for _, m := range c.Memberships {
			if m.CommunityID == k.CommunityID && m.Role == access.Owner {
				id := unitID(k.VoteID, k.Snapshot, m.HouseholdID)
				ids, owned[id] = append(ids, id), true
			}
		}
	}
	if len(voteIDs) == 0 {
		return out, nil
	}
	q := bson.D{{Key: "proxyId", Value: c.ID}, {Key: "voteId", Value: bson.D{{Key: "$in", Value: voteIDs}}}}
	if len(ids) > 0 {
		q = bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, q}}}
	}
	us, err := mongo.FindAll[unit](ctx, s.units, q, "units of a voter")
	if err != nil {
		return nil, err
	}
	bs, err := s.ballotsOf(ctx, us)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		k, ok := byVote[u.VoteID]
		if !ok || u.Snapshot != k.Snapshot {
			continue
		}
		owner := owned[u.ID]
		b := bs[u.ID]
		st := &UnitStatus{HouseholdID: u.HouseholdID, Label: u.Label, Area: u.Area, AsProxy: !owner, Voted: b != nil && !b.Sealed}
		if owner {
			st.ProxyPhone = u.ProxyPhone
		}
		if st.Voted && b.CastBy == c.ID && b.CastAt != nil {
			st.Mine = &Receipt{VoteID: u.VoteID, HouseholdID: u.HouseholdID, Code: b.Receipt, OptionID: b.Choice, CastAt: *b.CastAt, ByProxy: b.ByProxy}
		}
		out[k] = append(out[k], st)
	}
	for _, l := range out {
		slices.SortFunc(l, func(a, b *UnitStatus) int { return strings.Compare(a.Label, b.Label) })
	}
	return out, nil
}

// ballotsOf loads the ballots (or seals) of units in one $in query.
func (s *Service) ballotsOf(ctx context.Context, us []*unit) (map[string]*ballot, error) {
	if len(us) == 0 {
		return nil, nil
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return mongo.ByIDs(ctx, s.ballots, ids, func(b *ballot) string { return b.ID })
}

// Get is a vote for those who may read it: residents and staff of its
// community, and proxies of its units; anyone else NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Vote, error) {
	return s.readable(ctx, c, id)
}

// List pages the community's votes, newest first, for its residents and
// staff; anyone else NOT_FOUND, as for a community they cannot see.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Vote], error) {
	var none page.Page[*Vote]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !mayRead(c, communityID) {
		return none, community.ErrNotFound.WithField("communityId")
	}
	return mongo.FindPage(ctx, s.votes, bson.D{{Key: "communityId", Value: communityID}}, p, mongo.PageQuery{}, func(v *Vote) string { return v.SortKey })
}

// Ballot is one unit's ballot as the chair audits it after the count.
type Ballot struct {
	HouseholdID string
	Label       string
	Area        int64
	Cast        bool
	ByProxy     bool
	OptionID    string
	CastAt      *time.Time
	Receipt     string
}

// Ballots is every unit of a closed vote's frozen register with its ballot
// (or none), paged in unit id order, for the chair of the community's committee
// only: staff never see a ballot (FORBIDDEN, as for other residents), and
// nobody does before the count (CONFLICT).
func (s *Service) Ballots(ctx context.Context, c *access.Caller, voteID string, p page.Request) (page.Page[*Ballot], error) {
	var none page.Page[*Ballot]
	v, err := s.readable(ctx, c, voteID)
	if err != nil {
		return none, err
	}
	if !c.IsPerson() || !mayRead(c, v.CommunityID) {
		return none, apperr.ErrForbidden
	}
	r, err := s.cfg.Committee.RoleOf(ctx, c, v.CommunityID)
	if err != nil {
		return none, err
	}
	if r != committee.Chair {
		return none, apperr.ErrForbidden
	}
	if v.State != Closed {
		return none, ErrNotClosed
	}
	q := bson.D{{Key: "voteId", Value: v.ID}, {Key: "snapshot", Value: v.Snapshot}}
	pg, err := mongo.FindPage(ctx, s.units, q, p, mongo.PageQuery{SortField: "_id", Count: true}, func(u *unit) string { return u.ID })
	if err != nil {
		return none, err
	}
	bs, err := s.ballotsOf(ctx, pg.Items)
	if err != nil {
		return none, err
	}
	out := page.Page[*Ballot]{HasNext: pg.HasNext, HasPrev: pg.HasPrev, Total: pg.Total, Keys: pg.Keys}
	for _, u := range pg.Items {
		b := &Ballot{HouseholdID: u.HouseholdID, Label: u.Label, Area: u.Area}
		if x := bs[u.ID]; x != nil && !x.Sealed {
			b.Cast, b.ByProxy, b.OptionID, b.CastAt, b.Receipt = true, x.ByProxy, x.Choice, x.CastAt, x.Receipt
		}
		out.Items = append(out.Items, b)
	}
	return out, nil
}

// PublishedReceipt is one line of a closed vote's receipt list: a receipt
// code and the option it was cast for, without the unit.
type PublishedReceipt struct {
	Code     string `bson:"receipt"`
	OptionID string `bson:"choice"`
}

// Receipts pages a closed vote's receipt list in code order, for everyone
// who may read the vote: a voter finds their code and checks the option.
// Before the count there is no list (empty).
func (s *Service) Receipts(ctx context.Context, v *Vote, p page.Request) (page.Page[*PublishedReceipt], error) {
	if v.State != Closed {
		return page.Page[*PublishedReceipt]{Total: 0}, nil
	}
	q := bson.D{{Key: "voteId", Value: v.ID}, {Key: "snapshot", Value: v.Snapshot}, {Key: "sealed", Value: false}}
	if p.After != "" {
		q = append(q, bson.E{Key: "receipt", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := s.ballots.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "receipt", Value: 1}}).SetLimit(p.Limit()).
		SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "receipt", Value: 1}, {Key: "choice", Value: 1}}))
	if err != nil {
		return page.Page[*PublishedReceipt]{}, fmt.Errorf("receipts of vote %s: %w", v.ID, err)
	}
	var list []*PublishedReceipt
	if err := cur.All(ctx, &list); err != nil {
		return page.Page[*PublishedReceipt]{}, fmt.Errorf("receipts of vote %s: %w", v.ID, err)
	}
	pg := page.Trim(list, p, func(r *PublishedReceipt) string { return r.Code })
	if v.Result != nil {
		pg.Total = int(v.Result.Participating.Units)
	}
	return pg, nil
}
