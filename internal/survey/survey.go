// Package survey owns satisfaction surveys (满意度调查): staff build a survey
// (choice, rating, free-text and service-dimension questions), publish it to
// a community or some of its buildings for an open window, and residents
// answer once per household or per person, changing their answer while it
// is open. Results give each question's distribution, each dimension's mean
// importance and satisfaction with its quadrant in the importance-
// satisfaction analysis (四分图), the satisfaction rate against the 90%
// target and the response rate.
//
// Anonymity: an anonymous survey's responses carry no respondent identity.
// A response's _id is an HMAC (keyed by a server secret) of the survey and
// the respondent, which is all the one-response rule needs and which no
// query, CSV or SVG ever returns; see respond.go.
package survey

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// Status of a survey.
type Status string

const (
	Draft     Status = "DRAFT"
	Published Status = "PUBLISHED"
	Closed    Status = "CLOSED"
)

// Machine: a draft is published once; a published survey is closed by staff
// or by the scheduler when its window ends.
var Machine = lifecycle.Machine[Status]{
	"publish": {From: []Status{Draft}, To: Published},
	"close":   {From: []Status{Published}, To: Closed},
}

// QuestionType is what a question asks for.
type QuestionType string

const (
	SingleChoice   QuestionType = "SINGLE_CHOICE"
	MultipleChoice QuestionType = "MULTIPLE_CHOICE"
	Rating         QuestionType = "RATING"    // 1-5
	FreeText       QuestionType = "TEXT"      // optional by default
	DimensionQ     QuestionType = "DIMENSION" // importance 1-5 and satisfaction 1-5 of one dimension
)

// QuestionTypes lists the valid types.
var QuestionTypes = []QuestionType{SingleChoice, MultipleChoice, Rating, FreeText, DimensionQ}

// Dimension is a service dimension rated for importance and satisfaction.
type Dimension string

const (
	Cleaning            Dimension = "CLEANING"
	Security            Dimension = "SECURITY"
	Greening            Dimension = "GREENING"
	Repairs             Dimension = "REPAIRS"
	CustomerService     Dimension = "CUSTOMER_SERVICE"
	FeeTransparency     Dimension = "FEE_TRANSPARENCY"
	Parking             Dimension = "PARKING"
	Facilities          Dimension = "FACILITIES"
	CommunityActivities Dimension = "COMMUNITY_ACTIVITIES"
)

// Dimensions lists the dimensions in the order reports show them; the
// semi-annual template asks all of them.
var Dimensions = []Dimension{Cleaning, Security, Greening, Repairs, CustomerService, FeeTransparency, Parking, Facilities, CommunityActivities}

var dimensionLabels = map[Dimension][2]string{
	Cleaning:            {"环境卫生", "Cleaning"},
	Security:            {"安全秩序", "Security"},
	Greening:            {"绿化养护", "Greening"},
	Repairs:             {"维修服务", "Repairs"},
	CustomerService:     {"客服管家", "Customer service"},
	FeeTransparency:     {"收费透明", "Fee transparency"},
	Parking:             {"停车管理", "Parking"},
	Facilities:          {"公共设施", "Shared facilities"},
	CommunityActivities: {"社区活动", "Community activities"},
}

// Label names the dimension in lang.
func (d Dimension) Label(lang apperr.Lang) string { return pick(dimensionLabels[d], lang) }

// Per says who answers: one response per household or per person.
type Per string

const (
	PerHousehold Per = "HOUSEHOLD"
	PerPerson    Per = "PERSON"
)

// Template names a standard survey.
type Template string

// SemiAnnual is the standard semi-annual satisfaction survey.
const SemiAnnual Template = "SEMI_ANNUAL_SATISFACTION"

// Quadrant is a dimension's place in the importance-satisfaction analysis.
type Quadrant string

const (
	KeepUp           Quadrant = "KEEP_UP"           // important and well rated: keep it up
	FixFirst         Quadrant = "FIX_FIRST"         // important and poorly rated: the priority
	LowPriority      Quadrant = "LOW_PRIORITY"      // less important and poorly rated
	PossibleOverkill Quadrant = "POSSIBLE_OVERKILL" // less important and well rated
)

var quadrantLabels = map[Quadrant][2]string{
	KeepUp:           {"继续保持区", "Keep up"},
	FixFirst:         {"优先改进区", "Fix first"},
	LowPriority:      {"次要改进区", "Low priority"},
	PossibleOverkill: {"过度投入区", "Possible overkill"},
}

// Label names the quadrant in lang.
func (q Quadrant) Label(lang apperr.Lang) string { return pick(quadrantLabels[q], lang) }

func pick(t [2]string, lang apperr.Lang) string {
	if lang == apperr.EN {
		return t[1]
	}
	return t[0]
}

// Limits of a survey.
const (
	MaxTitle       = 60
	MaxIntro       = 1000
	MaxQuestions   = 50
	MaxQuestion    = 200
	MaxOptions     = 20
	MaxOption      = 50
	MaxTextAnswer  = 1000
	MaxBuildings   = 200
	MaxWindow      = 180 * 24 * time.Hour
	MinScore       = 1
	MaxScore       = 5
	SatisfiedScore = 4 // 4 and 5 are "satisfied"
	// Target is the company's satisfaction target (≥90%).
	Target = 0.9
	// ReminderBefore: the reminder goes out this long before closing.
	ReminderBefore = 24 * time.Hour
)

// Question is one question of a survey. Its ID ("q1", "q2", ...) is its
// place in the survey, which never changes once created.
type Question struct {
	ID        string       `bson:"id"`
	Number    int          `bson:"number"`
	Type      QuestionType `bson:"type"`
	Text      string       `bson:"text"`
	Options   []string     `bson:"options"`
	Dimension Dimension    `bson:"dimension,omitempty"`
	Required  bool         `bson:"required"`
}

// Survey is one 满意度调查.
type Survey struct {
	ID          string     `bson:"_id"`
	CommunityID string     `bson:"communityId"`
	Title       string     `bson:"title"`
	Intro       string     `bson:"intro"`
	Questions   []Question `bson:"questions"`
	// BuildingIDs narrows the audience; empty is the whole community.
	BuildingIDs []string `bson:"buildingIds"`
	// Targets are the audience as keys a resident's household matches
	// ("c:<community>" or "b:<building>"), so a resident's list is one $in.
	Targets     []string          `bson:"targets"`
	OpensAt     time.Time         `bson:"opensAt"`
	ClosesAt    time.Time         `bson:"closesAt"`
	RemindAt    time.Time         `bson:"remindAt"`
	ResponsePer Per               `bson:"responsePer"`
	Anonymous   bool              `bson:"anonymous"`
	Template    Template          `bson:"template,omitempty"`
	Status      Status            `bson:"status"`
	Version     int               `bson:"version"`
	Timeline    []lifecycle.Entry `bson:"timeline"`
	CreatedBy   string            `bson:"createdBy"`
	CreatedAt   time.Time         `bson:"createdAt"`
	UpdatedAt   time.Time         `bson:"updatedAt"`
	PublishedAt *time.Time        `bson:"publishedAt,omitempty"`
	// ClosedAt is when it closed: closeSurvey, or closesAt by the scheduler.
	ClosedAt *time.Time `bson:"closedAt,omitempty"`
	// Invited is set once the invitation fan-out is complete (the Tick
	// finishes one cut short); Reminded once the reminder's is.
	Invited  bool `bson:"invited"`
	Reminded bool `bson:"reminded"`
	// The audience at publish time: households and distinct persons in
	// them. The response rate is taken against the one ResponsePer names.
	AudienceHouseholds int    `bson:"audienceHouseholds"`
	AudiencePersons    int    `bson:"audiencePersons"`
	SortKey            string `bson:"sortKey"` // newest first

	// ResponseCount is set for staff of the community, nil for others.
	ResponseCount *int `bson:"-"`
	// Answered is set for residents: nothing is left for them to answer
	// (per household: each of their households in the audience answered).
	Answered *bool `bson:"-"`
}

// AudienceSize is the audience the response rate is taken against.
func (s *Survey) AudienceSize() int {
	if s.ResponsePer == PerPerson {
		return s.AudiencePersons
	}
	return s.AudienceHouseholds
}

// EndsAt is when answers stop: closesAt, or earlier if staff closed it.
func (s *Survey) EndsAt() time.Time {
	if s.ClosedAt != nil && s.ClosedAt.Before(s.ClosesAt) {
		return *s.ClosedAt
	}
	return s.ClosesAt
}

// OpenAt reports whether answers are taken at now.
func (s *Survey) OpenAt(now time.Time) bool {
	return s.Status == Published && !now.Before(s.OpensAt) && now.Before(s.ClosesAt)
}

// Covers reports whether h is in the survey's audience.
func (s *Survey) Covers(h *household.Household) bool {
	return h != nil && h.CommunityID == s.CommunityID && (len(s.BuildingIDs) == 0 || slices.Contains(s.BuildingIDs, h.BuildingID))
}

func (s *Survey) question(id string) (int, *Question) {
	for i := range s.Questions {
		if s.Questions[i].ID == id {
			return i, &s.Questions[i]
		}
	}
	return -1, nil
}

func targetKeys(communityID string, buildings []string) []string {
	if len(buildings) == 0 {
		return []string{"c:" + communityID}
	}
	out := make([]string, len(buildings))
	for i, b := range buildings {
		out[i] = "b:" + b
	}
	return out
}

var (
	ErrNotFound   = apperr.New(apperr.NotFound, "survey.not_found")
	ErrNotOpenYet = apperr.New(apperr.Conflict, "survey.not_open_yet")
	ErrClosed     = apperr.New(apperr.Conflict, "survey.closed")
	ErrWindowOver = apperr.New(apperr.Conflict, "survey.window_over")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"survey.not_found":          {ZH: "调查不存在", EN: "Survey not found"},
		"survey.not_open_yet":       {ZH: "调查将于 %s 开始，请届时作答", EN: "The survey opens at %s"},
		"survey.closed":             {ZH: "调查已结束，不能再提交或修改答卷", EN: "The survey has closed; answers can no longer be given or changed"},
		"survey.window_over":        {ZH: "调查的截止时间已过，不能发布", EN: "The survey's closing time has passed; it cannot be published"},
		"survey.closes_before":      {ZH: "截止时间须晚于开始时间和当前时间，且开放期不超过 %d 天", EN: "must be after the opening time and now, at most %d days after opening"},
		"survey.options":            {ZH: "选择题须有 %d–%d 个不重复的选项", EN: "a choice question needs %d to %d distinct options"},
		"survey.no_options":         {ZH: "此题型没有选项", EN: "this type of question has no options"},
		"survey.dimension":          {ZH: "维度题须指定服务维度，且每个维度只问一次", EN: "a dimension question names a service dimension, each dimension once"},
		"survey.answer_missing":     {ZH: "第 %d 题为必答题", EN: "question %d must be answered"},
		"survey.unknown_question":   {ZH: "问卷中没有此题", EN: "is not a question of this survey"},
		"survey.answered_twice":     {ZH: "同一题只能回答一次", EN: "answers the same question twice"},
		"survey.not_asked":          {ZH: "此题不需要填写这一项", EN: "is not asked by this question"},
		"survey.choose_one":         {ZH: "单选题须选择且只能选择一项", EN: "a single-choice question takes exactly one choice"},
		"survey.choices":            {ZH: "请至少选择一项，选项不能重复且须在列表中", EN: "choose at least one listed option, each once"},
		"survey.score":              {ZH: "请打 %d–%d 分", EN: "must be a score from %d to %d"},
		"survey.staff_not_resident": {ZH: "员工不能代替业主作答", EN: "Staff do not answer surveys for residents"},
	})
	lifecycle.Declare("surveys")
	mongo.Declare(
		mongo.Indexes{Collection: "surveys", Models: []mgo.IndexModel{
			// Staff list, with and without a status.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Residents' list: their households' target keys.
			{Keys: bson.D{{Key: "targets", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			// The scheduler: reminders, closing, unfinished invitations.
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "remindAt", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "closesAt", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "invited", Value: 1}}},
			// SatisfactionIn: a community's surveys by window.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "opensAt", Value: 1}}},
		}},
		// Responses by survey (results, counts); one respondent's by _id.
		mongo.Indexes{Collection: "survey_responses", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "surveyId", Value: 1}}},
		}},
	)
}

// Households is what surveys need from the household register.
type Households interface {
	Mine(ctx context.Context, c *access.Caller) ([]*household.Household, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	InAudience(ctx context.Context, communityID string, buildingIDs []string, p page.Request) (page.Page[*household.Household], error)
}

// Communities is what surveys need from the community register.
type Communities interface {
	Get(ctx context.Context, c *access.Caller, id string) (*community.Community, error)
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Config wires a Service. Secret keys the respondent HMAC: it must stay the
// same while surveys are open (a new secret would let a respondent answer an
// open survey a second time).
type Config struct {
	DB          *mongo.DB
	Households  Households
	Communities Communities
	Sender      Sender
	Bus         Publisher
	Zone        func(communityID string) *time.Location
	Secret      []byte
	Log         *slog.Logger
	Now         func() time.Time
}

// Service runs surveys.
type Service struct {
	col, responses *mgo.Collection
	steps          *lifecycle.Store
	cfg            Config
	key            []byte
	batch          int
	tickMu         sync.Mutex
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Zone == nil {
		sh, _ := time.LoadLocation(community.DefaultTimeZone)
		cfg.Zone = func(string) *time.Location { return sh }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	// FerretDB reads a whole collection per page: fewer, larger pages there.
	batch := 500
	if cfg.DB.Ferret {
		batch = 2000
	}
	return &Service{
		col: cfg.DB.Collection("surveys"), responses: cfg.DB.Collection("survey_responses"),
		steps: lifecycle.NewStore(cfg.DB, "surveys", cfg.Now), cfg: cfg, key: respondentKey(cfg.Secret), batch: batch,
	}
}

// manages: supervisors of the community and admins build, publish and
// close surveys; they speak for the company to every resident.
func manages(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.SupervisesIn(communityID)
}

func (s *Service) publish(ctx context.Context, c *access.Caller, sv *Survey, action string) {
	if s.cfg.Bus == nil {
		return
	}
	err := s.cfg.Bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "survey." + action, CommunityID: sv.CommunityID, SubjectID: sv.ID, ActorID: c.ID,
		Data: map[string]any{"version": sv.Version, "status": string(sv.Status), "summary": sv.Title},
	})
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "publish survey event", "survey", sv.ID, "err", err)
	}
}
