package outcome

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
	"qinqing/internal/complaint"
	"qinqing/internal/enquiry"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/period"
	"qinqing/internal/platform/publication"
	"qinqing/internal/platform/validate"
	"qinqing/internal/survey"
)

// Collections the outcome domain owns.
const (
	colOutcomes = "outcomes"
	colPeriods  = "outcome_periods" // one per community and period: what the list pages over
)

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: colOutcomes, Models: []mgo.IndexModel{
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

// Complaints counts complaints by category (complaint.Service).
type Complaints interface {
	CategoryCountsIn(ctx context.Context, communityID string, from, to time.Time) (map[complaint.Category]int, error)
}

// Enquiries counts enquiries by category (enquiry.Service).
type Enquiries interface {
	CategoryCountsIn(ctx context.Context, communityID string, from, to time.Time) (map[enquiry.Category]int, error)
}

// Surveys are the results of the surveys that closed in a window
// (survey.Service).
type Surveys interface {
	ClosedIn(ctx context.Context, communityID string, from, to time.Time) ([]*survey.Results, error)
}

// Places is what outcomes need from communities.
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

// Config wires the service.
type Config struct {
	DB         *mongo.DB
	Places     Places
	Complaints Complaints
	Enquiries  Enquiries
	Surveys    Surveys
	Residents  Residents
	Sender     Sender
	Zone       func(communityID string) *time.Location
	Log        *slog.Logger
	Now        func() time.Time
}

// Service publishes and reads outcomes.
type Service struct {
	cfg               Config
	outcomes, periods *mgo.Collection
}

// NewService opens the collections.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, outcomes: cfg.DB.Collection(colOutcomes), periods: cfg.DB.Collection(colPeriods)}
}

// mayWrite: supervisors of the community and admins, as for announcements
// to every resident.
func mayWrite(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || (c.IsAdmin() && c.WorksIn(communityID))
}

// mayRead: residents of the community in any household role (committee
// members among them), and its staff.
func mayRead(c *access.Caller, communityID string) bool {
	if c.WorksIn(communityID) {
		return true
	}
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// Zone is the community's time zone.
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

// Overdue reports an action still open after its due date in the
// community's calendar.
func (s *Service) Overdue(a *Action) bool {
	communityID, _, _, ok := ParseID(a.OutcomeID)
	if !ok || !a.Open() {
		return false
	}
	return s.cfg.Now().In(s.Zone(communityID)).Format(time.DateOnly) > a.Due
}

// newest is the period's latest version, nil when none.
func (s *Service) newest(ctx context.Context, communityID, periodText string) (*Outcomes, error) {
	var o Outcomes
	err := s.outcomes.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: periodText}},
		options.FindOne().SetSort(bson.D{{Key: "version", Value: -1}})).Decode(&o)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest outcomes of %s: %w", periodText, err)
	}
	o.adopt()
	return &o, nil
}

// versions loads every version of the periods in one query, newest first
// per period.
func (s *Service) versions(ctx context.Context, communityID string, periods []string) (map[string][]*Outcomes, error) {
	out, err := publication.Versions(ctx, s.outcomes, communityID, periods, "outcome versions", chain, nil)
	for _, vs := range out {
		for _, o := range vs {
			o.adopt()
			o.Versions = vs
		}
	}
	return out, err
}

// chain reads outcomes' place among their period's versions.
var chain = publication.Chain[Outcomes]{Period: func(o *Outcomes) string { return o.Period }, Version: func(o *Outcomes) int { return o.Version }}

// List is the community's published outcomes, one per period, newest
// period first: each its latest version with every version in Versions.
// Residents of the community and its staff; anyone else NOT_FOUND, as for
// a community they cannot see. The total counts periods.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Outcomes], error) {
	var none page.Page[*Outcomes]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !mayRead(c, communityID) {
		return none, community.ErrNotFound.WithField("communityId")
	}
	return publication.Latest(ctx, s.periods, bson.D{{Key: "communityId", Value: communityID}}, p, func(periods []string) (map[string][]*Outcomes, error) {
		return s.versions(ctx, communityID, periods)
	})
}

// Get is one version, with the period's versions, for those who may read
// the list; anyone else NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Outcomes, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	communityID, periodText, _, ok := ParseID(id)
	if !ok {
		return nil, apperr.Invalid("id", "input.bad_id")
	}
	if !mayRead(c, communityID) {
		return nil, ErrNotFound
	}
	vs, err := s.versions(ctx, communityID, []string{periodText})
	if err != nil {
		return nil, err
	}
	for _, o := range vs[periodText] {
		if o.ID == id {
			return o, nil
		}
	}
	return nil, ErrNotFound
}

// SurveyAction is what is being done about one improve-first item of a
// survey, as the period's latest outcomes say today.
type SurveyAction struct {
	SurveyID    string
	SurveyTitle string
	Dimension   survey.Dimension
	Text        string
	Due         string // YYYY-MM-DD
	Status      ActionStatus
	StatusAt    time.Time
}

// SurveyActions are the actions answering the improve-first items of the
// surveys in the period's latest published outcomes, in the order
// published; none when nothing is published. No caller check: for services
// that decide themselves who reads them (the owners' management report).
func (s *Service) SurveyActions(ctx context.Context, communityID, periodText string) ([]SurveyAction, error) {
	if _, err := period.Parse("period", periodText); err != nil {
		return nil, err
	}
	o, err := s.newest(ctx, communityID, periodText)
	if err != nil || o == nil {
		return nil, err
	}
	var out []SurveyAction
	for _, sr := range o.Surveys {
		for _, it := range sr.Items {
			if a := o.Action(it.ActionKey); a != nil {
				out = append(out, SurveyAction{SurveyID: sr.SurveyID, SurveyTitle: sr.Title, Dimension: it.Dimension,
					Text: a.Text, Due: a.Due, Status: a.Status, StatusAt: a.StatusAt})
			}
		}
	}
	return out, nil
}
