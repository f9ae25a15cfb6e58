// Package vote runs owners' votes (业主大会表决): a matter with options, a
// period and a rule, opened by the owners' committee (or proposed by the
// company and approved by it), one secret ballot per property unit weighted
// by its floor area, cast by an owner or a proxy the owner appoints, counted
// once when the vote closes and never changed after.
//
// One document per vote, one per unit of its register (frozen into them
// when the vote opens) and one per ballot, whose _id is its unit's: the
// insert is the guard (one unit, one ballot, the first cast wins). Closing
// inserts a seal under the _id of every unit not yet cast before counting,
// so a cast racing the close is either counted or refused, never lost.
package vote

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// State of a vote.
type State string

const (
	// Proposed by the company; waits for the committee's approval.
	Proposed State = "PROPOSED"
	// Open: the electorate is frozen; ballots are taken within [opensAt, closesAt).
	Open State = "OPEN"
	// Closed: counted; the result never changes.
	Closed State = "CLOSED"
)

// Option is one choice on the ballot.
type Option struct {
	ID   string `bson:"id"` // "1", "2", ... in the order given
	Text string `bson:"text"`
	// Abstain marks an abstention (弃权): it takes part, it is never adopted.
	Abstain bool `bson:"abstain,omitempty"`
}

// OptionResult is one option's count.
type OptionResult struct {
	OptionID string `bson:"optionId"`
	Tally    Tally  `bson:"tally"`
	// Reached: the option's headcount and area reach the rule's approval.
	Reached bool `bson:"reached"`
}

// Result is a closed vote's count, stored once and never changed.
type Result struct {
	Participating    Tally          `bson:"participating"`
	ParticipationMet bool           `bson:"participationMet"`
	Options          []OptionResult `bson:"options"`
	Outcome          Outcome        `bson:"outcome"`
	AdoptedOptionID  string         `bson:"adoptedOptionId,omitempty"`
}

// Vote is one matter put to the owners.
type Vote struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Title       string    `bson:"title"`
	Description string    `bson:"description,omitempty"`
	Rule        Rule      `bson:"rule"`
	Options     []Option  `bson:"options"`
	State       State     `bson:"state"`
	OpensAt     time.Time `bson:"opensAt"`
	ClosesAt    time.Time `bson:"closesAt"`
	// ProposedBy is the staff member who proposed it; empty when the
	// committee opened it directly.
	ProposedBy string `bson:"proposedBy,omitempty"`
	// OpenedBy is the committee member (a person) who opened or approved it.
	OpenedBy string     `bson:"openedBy,omitempty"`
	OpenedAt *time.Time `bson:"openedAt,omitempty"`
	// Snapshot names this vote's frozen electorate among its unit documents:
	// an approval that lost a race leaves units of another snapshot that
	// nothing reads.
	Snapshot   string `bson:"snapshot,omitempty"`
	Electorate Tally  `bson:"electorate"`
	// Turnout is raised after each ballot for the running figures owners
	// see; the result is counted from the ballots themselves.
	Turnout  Tally      `bson:"turnout"`
	SealedAt *time.Time `bson:"sealedAt,omitempty"`
	Result   *Result    `bson:"result,omitempty"`
	ClosedAt *time.Time `bson:"closedAt,omitempty"`
	// ClosedBy is who closed it; empty when the scheduler did.
	ClosedBy  string    `bson:"closedBy,omitempty"`
	Noticed   bool      `bson:"noticed"` // the result notice has gone to every resident
	CreatedAt time.Time `bson:"createdAt"`
	SortKey   string    `bson:"sortKey"` // newest first
}

// Option returns the option with id, nil if none.
func (v *Vote) Option(id string) *Option {
	if v == nil {
		return nil
	}
	for i := range v.Options {
		if v.Options[i].ID == id {
			return &v.Options[i]
		}
	}
	return nil
}

// Collections the vote domain owns.
const (
	colVotes   = "votes"
	colUnits   = "vote_units"   // one per unit of a vote's frozen register
	colBallots = "vote_ballots" // one per unit that voted, or its seal
)

// Limits of a vote.
const (
	MaxTitle       = 100
	MaxDescription = 2000
	MaxOptions     = 10
	MaxOptionText  = 100
	MaxPeriod      = 90 * 24 * time.Hour
	noticeResume   = time.Minute
)

var (
	ErrNotFound       = apperr.New(apperr.NotFound, "vote.not_found")
	ErrNotProposed    = apperr.New(apperr.Conflict, "vote.not_proposed")
	ErrNotOpen        = apperr.New(apperr.Conflict, "vote.not_open")
	ErrNotStarted     = apperr.New(apperr.Conflict, "vote.not_started")
	ErrEnded          = apperr.New(apperr.Conflict, "vote.ended")
	ErrStillRunning   = apperr.New(apperr.Conflict, "vote.still_running")
	ErrClosed         = apperr.New(apperr.Conflict, "vote.closed")
	ErrNotClosed      = apperr.New(apperr.Conflict, "vote.not_closed")
	ErrUnitVoted      = apperr.New(apperr.Conflict, "vote.unit_voted")
	ErrNotInElectoral = apperr.New(apperr.Conflict, "vote.not_in_electorate")
	ErrAreaMissing    = apperr.New(apperr.Conflict, "vote.area_missing")
	ErrNoOwners       = apperr.New(apperr.Conflict, "vote.no_owners")
	ErrNotYourUnit    = apperr.New(apperr.Forbidden, "vote.not_your_unit")
	ErrProxyUnknown   = apperr.New(apperr.NotFound, "vote.proxy_unknown")
	ErrChanged        = apperr.New(apperr.Conflict, "vote.changed")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"vote.not_found":         {ZH: "表决不存在", EN: "Vote not found"},
		"vote.not_proposed":      {ZH: "该表决不在待业委会同意状态", EN: "This vote is not waiting for the committee's approval"},
		"vote.not_open":          {ZH: "该表决未在进行中", EN: "This vote is not open"},
		"vote.not_started":       {ZH: "表决尚未开始", EN: "This vote has not started yet"},
		"vote.ended":             {ZH: "表决已截止", EN: "This vote has ended"},
		"vote.still_running":     {ZH: "表决尚未截止，不能计票", EN: "This vote is still running; it can be counted after it ends"},
		"vote.closed":            {ZH: "表决已结束计票，结果不可更改", EN: "This vote is closed; its result cannot change"},
		"vote.not_closed":        {ZH: "表决结束计票后才能查看选票", EN: "Ballots can be audited once the vote is closed"},
		"vote.unit_voted":        {ZH: "本户已投票，每个专有部分只有一票", EN: "This unit has voted; each unit has one ballot"},
		"vote.not_in_electorate": {ZH: "该房屋不在本次表决的业主名册中", EN: "This unit is not in the vote's register of owners"},
		"vote.area_missing":      {ZH: "有 %d 户业主房屋未登记建筑面积，无法确定投票权数，请先补全面积", EN: "%d owners' units have no floor area; record them before the vote opens"},
		"vote.no_owners":         {ZH: "本小区没有登记业主，无法发起表决", EN: "This community has no registered owners to vote"},
		"vote.not_your_unit":     {ZH: "只有该房屋的业主或其委托的代理人可以投票", EN: "Only the unit's owners or the proxy they appointed may do this"},
		"vote.proxy_unknown":     {ZH: "该手机号尚未注册，请代理人先登录一次", EN: "No account has this phone number; the proxy must sign in once first"},
		"vote.proxy_self":        {ZH: "不能委托自己", EN: "must be someone other than you"},
		"vote.changed":           {ZH: "表决状态已变化，请刷新后重试", EN: "The vote changed meanwhile; reload and try again"},
		"vote.bad_option":        {ZH: "不是本次表决的选项", EN: "is not an option of this vote"},
		"vote.options_count":     {ZH: "选项应有 2 到 %d 个", EN: "must have 2 to %d options"},
		"vote.option_duplicate":  {ZH: "选项重复", EN: "repeats another option"},
		"vote.only_abstain":      {ZH: "至少要有一个非弃权选项", EN: "must include an option that is not an abstention"},
		"vote.closes_before":     {ZH: "截止时间应晚于开始时间和当前时间", EN: "must be after the opening time and now"},
		"vote.too_long":          {ZH: "表决期限最长 90 天", EN: "must be at most 90 days after the opening"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: colVotes, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Votes past their end still open, for Tick; results not yet told.
			{Keys: bson.D{{Key: "state", Value: 1}, {Key: "closesAt", Value: 1}}},
			{Keys: bson.D{{Key: "noticed", Value: 1}, {Key: "closedAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colUnits, Models: []mgo.IndexModel{
			// A register in unit order (sealing, the chair's audit).
			{Keys: bson.D{{Key: "voteId", Value: 1}, {Key: "snapshot", Value: 1}, {Key: "_id", Value: 1}}},
			// The units a person holds a proxy for.
			{Keys: bson.D{{Key: "proxyId", Value: 1}, {Key: "voteId", Value: 1}}},
		}},
		mongo.Indexes{Collection: colBallots, Models: []mgo.IndexModel{
			// Counting a vote's cast ballots.
			{Keys: bson.D{{Key: "voteId", Value: 1}, {Key: "snapshot", Value: 1}, {Key: "sealed", Value: 1}}},
			// The published receipt list, in receipt order.
			{Keys: bson.D{{Key: "voteId", Value: 1}, {Key: "receipt", Value: 1}}},
		}},
	)
}

// Committee is what votes need from the owners' committee: the caller's
// role on the community's committee today ("" when not sitting).
type Committee interface {
	RoleOf(ctx context.Context, c *access.Caller, communityID string) (committee.Role, error)
}

// Households is what votes need from the household register.
type Households interface {
	OwnerUnits(ctx context.Context, communityID string) ([]household.OwnerUnit, error)
	PersonByPhone(ctx context.Context, phone string) (string, bool, error)
	MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
}

// Places names communities for notices.
type Places interface {
	CommunityName(ctx context.Context, id string) (string, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Config wires the service.
type Config struct {
	DB         *mongo.DB
	Committee  Committee
	Households Households
	Sender     Sender // nil: no notices
	Places     Places
	Zone       func(communityID string) *time.Location
	Log        *slog.Logger
	Now        func() time.Time
}

// Service runs votes.
type Service struct {
	cfg                   Config
	votes, units, ballots *mgo.Collection
}

// NewService opens the collections.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, votes: cfg.DB.Collection(colVotes), units: cfg.DB.Collection(colUnits), ballots: cfg.DB.Collection(colBallots)}
}

// resident: a person with any household role in the community.
func resident(c *access.Caller, communityID string) bool {
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// ownerOf: the caller is an owner of the household.
func ownerOf(c *access.Caller, householdID string) bool {
	r, ok := c.RoleIn(householdID)
	return ok && r == access.Owner
}

// mayRead: residents of the community and its staff (proxies too, found
// through their units: see readable).
func mayRead(c *access.Caller, communityID string) bool {
	return c.WorksIn(communityID) || resident(c, communityID)
}

// staffWriter: supervisors of the community and admins propose and close.
func staffWriter(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.SupervisesIn(communityID)
}

// zone is the community's time zone (notices name times in it).
func (s *Service) zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		if loc := s.cfg.Zone(communityID); loc != nil {
			return loc
		}
	}
	if loc, err := time.LoadLocation(community.DefaultTimeZone); err == nil {
		return loc
	}
	return time.UTC
}
