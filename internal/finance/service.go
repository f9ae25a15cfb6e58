package finance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/publication"
	"qinqing/internal/platform/validate"
)

// Collections the finance domain owns.
const (
	colStatements = "finance_statements"
	colPeriods    = "finance_periods" // one per community and period: what the list pages over
)

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: colStatements, Models: []mgo.IndexModel{
			// Every version of a page's periods, and the newest of one period.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "period", Value: 1}, {Key: "version", Value: 1}}},
			// Notices cut short, for Tick.
			{Keys: bson.D{{Key: "noticed", Value: 1}, {Key: "publishedAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colPeriods, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
	)
}

// CollectionSource is the fee collection of one month "YYYY-MM": billed,
// collected, relieved and outstanding fen and the number of bills
// (fee.Service implements it).
type CollectionSource interface {
	Collection(ctx context.Context, communityID, period string) (billed, collected, relieved, outstanding int64, bills int, err error)
}

// Places is what finance needs from communities.
type Places interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
}

// Residents pages a community's memberships (household.Service).
type Residents interface {
	MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Config wires the service. Collection may be nil: statements then show
// the collection rate as not available.
type Config struct {
	DB         *mongo.DB
	Places     Places
	Residents  Residents
	Sender     Sender
	Collection CollectionSource
	Zone       func(communityID string) *time.Location
	Log        *slog.Logger
	Now        func() time.Time
}

// Service publishes and reads statements.
type Service struct {
	cfg                 Config
	statements, periods *mgo.Collection
}

// NewService opens the collections.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, statements: cfg.DB.Collection(colStatements), periods: cfg.DB.Collection(colPeriods)}
}

// UseCollection wires the fee collection after construction (the fee
// service may be built later).
func (s *Service) UseCollection(c CollectionSource) { s.cfg.Collection = c }

// mayPublish: supervisors and finance clerks of the community, admins.
func mayPublish(c *access.Caller, communityID string) bool {
	return fee.ManagesSchedule(c, communityID)
}

// mayRead: residents of the community in any household role, and its staff.
func mayRead(c *access.Caller, communityID string) bool {
	if c.WorksIn(communityID) {
		return true
	}
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// LineInput is one line as entered.
type LineInput struct {
	Category Category
	Amount   int64
	Note     *string
}

// Input is a statement to publish.
type Input struct {
	Lines      []LineInput
	ChangeNote *string
	Remarks    *string
	Fund       *FundInput // the maintenance fund block, when given
}

// Publish publishes the period's statement as its next version: version 1,
// or n+1 naming version n and saying what changed (changeNote required).
// A concurrent correction that took the same version first is CONFLICT.
// Residents are notified (FINANCE_STATEMENT_PUBLISHED); a notice cut short
// is finished by Tick, never failing the publish.
func (s *Service) Publish(ctx context.Context, c *access.Caller, communityID, period string, in Input) (*Statement, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !mayRead(c, communityID) {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	if !mayPublish(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	cs, err := s.cfg.Places.ByIDs(ctx, []string{communityID})
	if err != nil {
		return nil, err
	}
	if cs[communityID] == nil {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	p, err := ParsePeriod(period)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if p.Start(s.Zone(communityID)).After(now) {
		return nil, apperr.Invalid("period", "finance.period_future")
	}
	st, err := buildStatement(in)
	if err != nil {
		return nil, err
	}
	prev, err := s.newest(ctx, communityID, period)
	if err != nil {
		return nil, err
	}
	st.Version = 1
	if prev != nil {
		if prev.Version >= MaxVersions {
			return nil, ErrTooManyVersions
		}
		if st.ChangeNote == "" {
			return nil, apperr.Invalid("input.changeNote", "finance.change_note")
		}
		st.Version, st.PreviousID = prev.Version+1, prev.ID
	}
	if st.Collection, err = s.collection(ctx, communityID, p); err != nil {
		return nil, err
	}
	st.ID = StatementID(communityID, period, st.Version)
	st.CommunityID, st.Period, st.PublishedBy, st.PublishedAt = communityID, period, c.ID, now.UTC()
	// The period is listed before its first version exists: a crash in
	// between leaves a period without versions, which the list skips.
	if _, err := s.periods.UpdateOne(ctx, bson.D{{Key: "_id", Value: communityID + ":" + period}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: period}, {Key: "sortKey", Value: p.SortKey()}}}},
		options.UpdateOne().SetUpsert(true)); err != nil && !mongo.IsDuplicate(err) {
		return nil, fmt.Errorf("list period %s: %w", period, err)
	}
	if _, err := s.statements.InsertOne(ctx, st); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrVersionTaken
		}
		return nil, fmt.Errorf("insert statement %s: %w", st.ID, err)
	}
	if err := s.notice(ctx, st, cs[communityID].Name); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "finance statement notice incomplete; Tick resumes it", "statement", st.ID, "err", err)
	}
	versions := []*Statement{st}
	if prev != nil {
		all, err := s.versions(ctx, communityID, []string{period})
		if err != nil {
			return nil, err
		}
		versions = all[period]
	}
	st.Versions = versions
	return st, nil
}

// buildStatement validates the lines and notes, naming the field at fault,
// and lists every category once in Categories order (absent = 0).
func buildStatement(in Input) (*Statement, error) {
	amounts := map[Category]*Line{}
	for i, l := range in.Lines {
		field := fmt.Sprintf("input.lines.%d.", i)
		if !slices.Contains(Categories, l.Category) {
			return nil, apperr.Invalid(field+"category", "input.bad_value")
		}
		if amounts[l.Category] != nil {
			return nil, apperr.Invalid(field+"category", "finance.duplicate_category")
		}
		if l.Amount < 0 {
			return nil, apperr.Invalid(field+"amount", "finance.negative_amount")
		}
		if l.Amount > MaxAmount {
			return nil, apperr.Invalid(field+"amount", "finance.amount_too_large")
		}
		note := ""
		if l.Note != nil {
			n, err := validate.Text(field+"note", *l.Note, false, MaxNote)
			if err != nil {
				return nil, err
			}
			note = n
		}
		amounts[l.Category] = &Line{Category: l.Category, Amount: l.Amount, Note: note}
	}
	st := &Statement{Lines: make([]Line, 0, len(Categories))}
	for _, cat := range Categories {
		l := Line{Category: cat}
		if x := amounts[cat]; x != nil {
			l = *x
		}
		st.Lines = append(st.Lines, l)
		if SideOf(cat) == Income {
			st.Income += l.Amount
		} else {
			st.Expense += l.Amount
		}
	}
	var err error
	if st.ChangeNote, err = optText("input.changeNote", in.ChangeNote, MaxChangeNote); err != nil {
		return nil, err
	}
	if st.Remarks, err = optText("input.remarks", in.Remarks, MaxRemarks); err != nil {
		return nil, err
	}
	if st.Fund, err = buildFund(in.Fund); err != nil {
		return nil, err
	}
	return st, nil
}

func optText(field string, s *string, max int) (string, error) {
	if s == nil {
		return "", nil
	}
	return validate.Text(field, *s, false, max)
}

// collection sums the fee collection over the period's months; nil when no
// source is wired.
func (s *Service) collection(ctx context.Context, communityID string, p Period) (*Collection, error) {
	if s.cfg.Collection == nil {
		return nil, nil
	}
	out := &Collection{}
	for _, m := range p.MonthTexts() {
		b, c, r, o, n, err := s.cfg.Collection.Collection(ctx, communityID, m)
		if err != nil {
			return nil, fmt.Errorf("collection of %s %s: %w", communityID, m, err)
		}
		out.Billed, out.Collected, out.Relieved, out.Outstanding, out.Bills = out.Billed+b, out.Collected+c, out.Relieved+r, out.Outstanding+o, out.Bills+n
	}
	return out, nil
}

// newest is the period's latest version, nil when none.
func (s *Service) newest(ctx context.Context, communityID, period string) (*Statement, error) {
	var st Statement
	err := s.statements.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: period}},
		options.FindOne().SetSort(bson.D{{Key: "version", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}})).Decode(&st)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest statement of %s: %w", period, err)
	}
	return &st, nil
}

// chain reads a statement's place among its period's versions.
var chain = publication.Chain[Statement]{Period: func(st *Statement) string { return st.Period }, Version: func(st *Statement) int { return st.Version }}

// versions loads every version of the periods in one query, newest first
// per period, each knowing the others.
func (s *Service) versions(ctx context.Context, communityID string, periods []string) (map[string][]*Statement, error) {
	out, err := publication.Versions(ctx, s.statements, communityID, periods, "statement versions", chain, nil)
	for _, vs := range out {
		for _, st := range vs {
			st.Versions = vs
		}
	}
	return out, err
}

// List is the community's statements, one per period, newest period first:
// each its latest version with every version of the period in Versions.
// Residents of the community and its staff; anyone else NOT_FOUND, as for a
// community they cannot see. The total counts periods.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Statement], error) {
	var none page.Page[*Statement]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !mayRead(c, communityID) {
		return none, community.ErrNotFound.WithField("communityId")
	}
	return publication.Latest(ctx, s.periods, bson.D{{Key: "communityId", Value: communityID}}, p, func(periods []string) (map[string][]*Statement, error) {
		return s.versions(ctx, communityID, periods)
	})
}

// Get is one version of a statement, with the period's versions, for those
// who may read the list; anyone else NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Statement, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	communityID, period, _, ok := ParseID(id)
	if !ok {
		return nil, apperr.Invalid("id", "input.bad_id")
	}
	if !mayRead(c, communityID) {
		return nil, ErrNotFound
	}
	vs, err := s.versions(ctx, communityID, []string{period})
	if err != nil {
		return nil, err
	}
	for _, st := range vs[period] {
		if st.ID == id {
			return st, nil
		}
	}
	return nil, ErrNotFound
}

// CommunityName names the statement's community for reports.
func (s *Service) CommunityName(ctx context.Context, id string) (string, error) {
	cs, err := s.cfg.Places.ByIDs(ctx, []string{id})
	if err != nil {
		return "", err
	}
	if cs[id] == nil {
		return "", nil
	}
	return cs[id].Name, nil
}

// Zone is the community's time zone (reports show times in it).
func (s *Service) Zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		if loc := s.cfg.Zone(communityID); loc != nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(community.DefaultTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
