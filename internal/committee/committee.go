// Package committee owns the owners' committee (业主委员会) of a community:
// the owners elected to it, their roles and terms. The committee is the
// owners' voice to the company: its sitting members read the community's
// aggregate figures and the reports before they are published, record
// meetings, and open and audit owners' votes. Who sits on it is recorded
// by the company's supervisors from the owners' assembly's election result.
package committee

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Role is a member's office on the committee.
type Role string

const (
	Chair     Role = "CHAIR"      // 主任
	ViceChair Role = "VICE_CHAIR" // 副主任
	Member    Role = "MEMBER"     // 委员
)

// Roles lists the valid values.
var Roles = []Role{Chair, ViceChair, Member}

// Leads reports the chair or a vice-chair: those who act for the committee
// (open a vote, approve one the company proposes, record a meeting).
func (r Role) Leads() bool { return r == Chair || r == ViceChair }

// Seat is one owner's appointment to the committee for a term.
type Seat struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	PersonID    string `bson:"personId"`
	// Name is the owner's name when appointed: the committee list is
	// public to the community (业委会成员公示), phones are not.
	Name        string     `bson:"name"`
	Role        Role       `bson:"role"`
	TermStart   string     `bson:"termStart"` // YYYY-MM-DD, community time
	TermEnd     string     `bson:"termEnd"`   // last day of the term, inclusive
	AppointedBy string     `bson:"appointedBy"`
	AppointedAt time.Time  `bson:"appointedAt"`
	EndedAt     *time.Time `bson:"endedAt,omitempty"`
	EndedBy     string     `bson:"endedBy,omitempty"`
	EndReason   string     `bson:"endReason,omitempty"`
	// Pending marks a seat written but not yet confirmed by its change
	// number (see Appoint): nobody sits on it, and once older than
	// pendingFor (a crash between the two writes) nothing counts it.
	Pending *time.Time `bson:"pending,omitempty"`
}

// SittingOn reports whether the seat is held on day (YYYY-MM-DD).
func (m *Seat) SittingOn(day string) bool {
	return m.EndedAt == nil && m.Pending == nil && m.TermStart <= day && day <= m.TermEnd
}

// pendingFor is how long an unconfirmed seat may block another
// appointment: far longer than the two writes between which it exists.
const pendingFor = time.Minute

// Limits.
const (
	// MaxTermYears is the longest term the model rules allow (业委会每届任期不超过五年).
	MaxTermYears = 5
	// MaxSeats bounds what one community's list reads (appointments ever made).
	MaxSeats  = 200
	maxReason = 200
)

// Errors of the committee.
var (
	ErrNotFound      = apperr.New(apperr.NotFound, "committee.not_found")
	ErrNotOwner      = apperr.New(apperr.BadUserInput, "committee.not_owner")
	ErrAlreadySits   = apperr.New(apperr.Conflict, "committee.already_sits")
	ErrChairTaken    = apperr.New(apperr.Conflict, "committee.chair_taken")
	ErrChanged       = apperr.New(apperr.Conflict, "committee.changed")
	ErrAlreadyEnded  = apperr.New(apperr.Conflict, "committee.already_ended")
	ErrBadTerm       = apperr.New(apperr.BadUserInput, "committee.bad_term")
	ErrTermTooLong   = apperr.New(apperr.BadUserInput, "committee.term_too_long")
	ErrTermOver      = apperr.New(apperr.BadUserInput, "committee.term_over")
	ErrTooManySeats  = apperr.New(apperr.Conflict, "committee.too_many_seats")
	ErrNotCommittee  = apperr.New(apperr.Forbidden, "committee.not_member")
	errSeatsUnlisted = errors.New("committee: seats over the bound")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"committee.not_found":      {ZH: "业委会成员记录不存在", EN: "Committee appointment not found"},
		"committee.not_owner":      {ZH: "业委会成员须为本小区业主", EN: "must be an owner in this community"},
		"committee.already_sits":   {ZH: "此人在该任期内已是业委会成员", EN: "This owner already sits on the committee in that term"},
		"committee.chair_taken":    {ZH: "该任期内已有业委会主任，请先结束其任职", EN: "The committee already has a chair in that term; end that appointment first"},
		"committee.changed":        {ZH: "业委会成员刚被他人修改，请刷新后重试", EN: "The committee has just been changed by someone else; reload and try again"},
		"committee.already_ended":  {ZH: "该任职已结束", EN: "This appointment has already ended"},
		"committee.bad_term":       {ZH: "任期结束日期不能早于开始日期", EN: "must not be before termStart"},
		"committee.term_too_long":  {ZH: "每届任期不超过 %d 年", EN: "a term lasts at most %d years"},
		"committee.term_over":      {ZH: "任期已结束，不能再任命", EN: "must not be a term that is already over"},
		"committee.too_many_seats": {ZH: "该小区业委会任命记录已达上限", EN: "This community has reached the limit of committee appointments"},
		"committee.not_member":     {ZH: "仅业委会成员可以进行此操作", EN: "Only members of the owners' committee may do this"},
	})
	mongo.Declare(mongo.Indexes{Collection: colSeats, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "personId", Value: 1}}},
	}}, mongo.Indexes{Collection: colGuards, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "v", Value: -1}}},
	}})
}

const (
	colSeats = "committee_seats"
	// colGuards numbers the changes of each community's seats, so two
	// appointments checked against the same list cannot both be written
	// (one chair per term holds under races).
	colGuards = "committee_guards"
)

// Owners is what the committee needs from households.
type Owners interface {
	MembershipsByPersons(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	PersonsByIDs(ctx context.Context, ids []string) (map[string]*household.Person, error)
}

// Places finds communities.
type Places interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
}

// Config wires the service.
type Config struct {
	DB     *mongo.DB
	Owners Owners
	Places Places
	Zone   func(communityID string) *time.Location
	Now    func() time.Time
}

// Service records and answers who sits on each committee.
type Service struct {
	cfg           Config
	seats, guards *mgo.Collection
}

// NewService opens the collections.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, seats: cfg.DB.Collection(colSeats), guards: cfg.DB.Collection(colGuards)}
}

// today is the date in the community's time zone: a term runs by the
// community's calendar.
func (s *Service) today(communityID string) string {
	loc := time.FixedZone("CST", 8*3600)
	if s.cfg.Zone != nil {
		if z := s.cfg.Zone(communityID); z != nil {
			loc = z
		}
	}
	return s.cfg.Now().In(loc).Format(time.DateOnly)
}

// Today is the community's date: whether a member sits is by its calendar.
func (s *Service) Today(communityID string) string { return s.today(communityID) }

// ownsIn reports whether the caller holds an OWNER membership in the
// community (from the caller's own memberships: no query).
func ownsIn(c *access.Caller, communityID string) bool {
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool {
		return m.CommunityID == communityID && m.Role == access.Owner
	})
}

// residentOf reports any household role in the community.
func residentOf(c *access.Caller, communityID string) bool {
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// MayRead: the community's residents and staff see who sits on its
// committee; anyone else NOT_FOUND, as for a community they cannot see.
func MayRead(c *access.Caller, communityID string) bool {
	return c.WorksIn(communityID) || residentOf(c, communityID)
}

// mayAppoint: the community's supervisors and admins record the election.
func mayAppoint(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || (c.IsAdmin() && c.WorksIn(communityID))
}

// RoleOf is the caller's office on the community's committee today, ""
// when the caller does not sit on it (always "" for staff: a staff member
// acts for the company, never for the owners). One indexed query, and none
// for a caller who owns nothing in the community.
func (s *Service) RoleOf(ctx context.Context, c *access.Caller, communityID string) (Role, error) {
	if !ownsIn(c, communityID) {
		return "", nil
	}
	seats, err := mongo.FindAll[Seat](ctx, s.seats, bson.D{{Key: "communityId", Value: communityID}, {Key: "personId", Value: c.ID}}, "committee seats of a person",
		options.Find().SetLimit(MaxSeats))
	if err != nil {
		return "", err
	}
	day := s.today(communityID)
	for _, m := range seats {
		if m.SittingOn(day) {
			return m.Role, nil
		}
	}
	return "", nil
}

// Sitting is the community's committee today, chair first.
func (s *Service) Sitting(ctx context.Context, communityID string) ([]*Seat, error) {
	all, err := s.all(ctx, communityID)
	if err != nil {
		return nil, err
	}
	day := s.today(communityID)
	out := slices.DeleteFunc(all, func(m *Seat) bool { return !m.SittingOn(day) })
	sortSeats(out)
	return out, nil
}

func (s *Service) all(ctx context.Context, communityID string) ([]*Seat, error) {
	seats, err := mongo.FindAll[Seat](ctx, s.seats, bson.D{{Key: "communityId", Value: communityID}}, "committee seats",
		options.Find().SetLimit(MaxSeats+1))
	if err != nil {
		return nil, err
	}
	if len(seats) > MaxSeats {
		return nil, fmt.Errorf("community %s: %w", communityID, errSeatsUnlisted)
	}
	return seats, nil
}

// sortSeats orders chair, vice-chairs, members; then by term, then name.
func sortSeats(ms []*Seat) {
	rank := map[Role]int{Chair: 0, ViceChair: 1, Member: 2}
	slices.SortStableFunc(ms, func(a, b *Seat) int {
		if d := rank[a.Role] - rank[b.Role]; d != 0 {
			return d
		}
		if a.TermStart != b.TermStart {
			return compare(b.TermStart, a.TermStart)
		}
		return compare(a.Name+a.ID, b.Name+b.ID)
	})
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Committee is what a reader sees: the sitting members, and for the
// community's staff every appointment (former and future ones too).
type Committee struct {
	CommunityID string
	Sitting     []*Seat
	All         []*Seat // nil for residents
}

// Get is the community's committee for a reader (MayRead).
func (s *Service) Get(ctx context.Context, c *access.Caller, communityID string) (*Committee, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !MayRead(c, communityID) {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	all, err := s.all(ctx, communityID)
	if err != nil {
		return nil, err
	}
	day := s.today(communityID)
	out := &Committee{CommunityID: communityID}
	for _, m := range all {
		if m.SittingOn(day) {
			out.Sitting = append(out.Sitting, m)
		}
	}
	sortSeats(out.Sitting)
	if c.WorksIn(communityID) {
		out.All = slices.DeleteFunc(all, func(m *Seat) bool { return m.Pending != nil })
		sortSeats(out.All)
	}
	return out, nil
}

// errNoGuard tells a guarded write that someone else changed the
// committee first.
var errNoGuard = errors.New("committee guard moved")

// guard is the number of the community's last change: every change of its
// seats claims the next number by inserting a document whose id is that
// number. A unique id is the one check both MongoDB and the embedded
// FerretDB make atomically (FerretDB runs a conditional update as a read
// and a write, so two could both pass it).
func (s *Service) guard(ctx context.Context, communityID string) (int64, error) {
	var g struct {
		V int64 `bson:"v"`
	}
	err := s.guards.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}},
		options.FindOne().SetSort(bson.D{{Key: "v", Value: -1}})).Decode(&g)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("committee guard of %s: %w", communityID, err)
	}
	return g.V, nil
}

// bump claims change v+1, or reports errNoGuard when someone else claimed
// it first.
func (s *Service) bump(ctx context.Context, communityID string, v int64) error {
	_, err := s.guards.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s:%d", communityID, v+1)},
		{Key: "communityId", Value: communityID}, {Key: "v", Value: v + 1}, {Key: "at", Value: s.cfg.Now().UTC()}})
	if mongo.IsDuplicate(err) {
		return errNoGuard
	}
	if err != nil {
		return fmt.Errorf("committee guard of %s: %w", communityID, err)
	}
	return nil
}
