// Package review computes the monthly staff reviews (员工月度考评) from the
// record the other domains keep (repairs, service orders, callbacks,
// corrective tasks, patrols, visits) and its own training sessions, and
// keeps the supervisors' ratings with the figures they rated frozen.
//
// Every figure is counts with the items it counts: Count is the number of
// items, Met the items that meet the standard (for a rate), Total the sum
// of their values (star ratings). The figures are worked out from their
// items (see Figure.settle), so they cannot disagree.
package review

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/complaint"
	"qinqing/internal/inspection"
	"qinqing/internal/patrol"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
)

// Key names a figure.
type Key string

// The figures of a review.
const (
	RepairsDone       Key = "REPAIRS_DONE"        // repair rounds completed; met: by the round's finish deadline
	ReopenedRounds    Key = "REOPENED_ROUNDS"     // rounds they completed that an unsatisfied callback reopened
	Ratings           Key = "RATINGS"             // owners' star ratings of their repairs and orders; total: the stars
	OrdersDone        Key = "ORDERS_DONE"         // service orders they served to done
	Callbacks         Key = "CALLBACKS"           // callbacks owed by them (signed-off rounds, accepted orders); met: done by them
	Visits            Key = "VISITS"              // household visits in the month's weeks; met: acknowledged by the household
	VisitWeeks        Key = "VISIT_WEEKS"         // the month's weeks; met: at least VisitQuota households acknowledged
	InspectionFailure Key = "INSPECTION_FAILURES" // failed inspection items made their corrective task
	CorrectiveOnTime  Key = "CORRECTIVE_ON_TIME"  // their corrective tasks due; met: closed by the deadline without escalation
	PatrolCheckpoints Key = "PATROL_CHECKPOINTS"  // checkpoints of the rounds they walked; met: scanned
	Training          Key = "TRAINING"            // training sessions they were required at; met: attended
	Complaints        Key = "COMPLAINTS"          // complaints received in the month that name them
)

// Keys in the order a review lists them.
var Keys = []Key{RepairsDone, ReopenedRounds, Ratings, OrdersDone, Callbacks, Visits, VisitWeeks, InspectionFailure, CorrectiveOnTime, PatrolCheckpoints, Complaints, Training}

// VisitQuota is how many households a butler visits a week (DOMAIN.md).
const VisitQuota = 10

// relevant are the roles each figure is shown for: a review shows the
// figures of its staff member's roles, and COMPLAINTS and TRAINING for
// everyone (see forEveryone).
var relevant = map[Key][]access.Role{
	RepairsDone:       {access.Engineer},
	ReopenedRounds:    {access.Engineer},
	Ratings:           {access.Engineer, access.Butler, access.CustomerService, access.Cleaner},
	OrdersDone:        {access.Engineer, access.Butler, access.CustomerService, access.Cleaner},
	Callbacks:         {access.Butler, access.CustomerService, access.Supervisor},
	Visits:            {access.Butler},
	VisitWeeks:        {access.Butler},
	InspectionFailure: {access.Engineer, access.Butler, access.CustomerService, access.Cleaner, access.Security, access.Supervisor},
	CorrectiveOnTime:  {access.Engineer, access.Butler, access.CustomerService, access.Cleaner, access.Security, access.Supervisor},
	PatrolCheckpoints: {access.Security},
}

// ItemKind is what an item is, so a client knows where to open it.
type ItemKind string

// Item kinds.
const (
	KindRepair    ItemKind = "REPAIR"          // id: the repair request
	KindOrder     ItemKind = "SERVICE_ORDER"   // id: the service order
	KindTask      ItemKind = "CORRECTIVE_TASK" // id: the corrective task
	KindRound     ItemKind = "PATROL_ROUND"    // id: the patrol round
	KindVisit     ItemKind = "VISIT"           // id: the visit
	KindVisitWeek ItemKind = "VISIT_WEEK"      // id: the week's Monday, YYYY-MM-DD
	KindTraining  ItemKind = "TRAINING"        // id: the training session
	KindComplaint ItemKind = "COMPLAINT"       // id: the complaint
)

// Item is one thing a figure counts.
type Item struct {
	Kind  ItemKind  `bson:"kind"`
	ID    string    `bson:"id"`
	Title string    `bson:"title"`
	At    time.Time `bson:"at"`
	Met   bool      `bson:"met"`
	Value int       `bson:"value,omitempty"`
}

// Figure is one measure of a review with the items it counts.
type Figure struct {
	Key   Key     `bson:"key"`
	Count int     `bson:"count"`
	Met   *int    `bson:"met,omitempty"`   // for a rate: items meeting the standard
	Total *int    `bson:"total,omitempty"` // for an average: the sum of the items' values
	Items []*Item `bson:"items"`
}

// IsRate and IsSum say which of Met and Total a figure has.
func (k Key) IsRate() bool {
	switch k {
	case RepairsDone, Callbacks, Visits, VisitWeeks, CorrectiveOnTime, PatrolCheckpoints, Training:
		return true
	}
	return false
}

// IsSum reports a figure whose items carry values (star ratings).
func (k Key) IsSum() bool { return k == Ratings }

// Review is one staff member's month.
type Review struct {
	CommunityID string
	Month       string // YYYY-MM in the community's zone
	From, To    time.Time
	Staff       *staff.Staff
	Figures     []*Figure
	Rating      *Rating // the supervisor's, if any
}

// Figure returns the figure with key, nil when it is not shown.
func (r *Review) Figure(k Key) *Figure {
	for _, f := range r.Figures {
		if f.Key == k {
			return f
		}
	}
	return nil
}

// Sources the reviews read: each domain's one query over a community's
// window (see the ForReview methods), never their collections.
type (
	StaffDirectory interface {
		Get(ctx context.Context, id string) (*staff.Staff, error)
		ActiveIn(ctx context.Context, communityID string) ([]*staff.Staff, error)
		ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
	}
	Repairs interface {
		ForReview(ctx context.Context, communityID string, from, to time.Time, fn func(*repair.Request) error) error
	}
	Orders interface {
		ForReview(ctx context.Context, communityID string, from, to time.Time, fn func(*serviceorder.Order) error) error
	}
	Tasks interface {
		TasksForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*inspection.Task) error) error
	}
	Patrols interface {
		RoundsForReview(ctx context.Context, communityID string, guardIDs []string, from, to, until time.Time) ([]*patrol.RoundView, error)
	}
	ComplaintLog interface {
		ForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*complaint.Complaint) error) error
	}
	VisitLog interface {
		VisitsForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*archive.Visit) error) error
	}
)

// Config wires the service.
type Config struct {
	DB      *mongo.DB
	Staff   StaffDirectory
	Repairs Repairs
	Orders  Orders
	Tasks   Tasks
	Patrols Patrols
	Visits  VisitLog
	// Complaints naming staff; unset, COMPLAINTS counts nothing.
	Complaints ComplaintLog
	Zone       func(communityID string) *time.Location
	Log        *slog.Logger
	Now        func() time.Time
}

// Service computes reviews and keeps ratings and training sessions.
type Service struct {
	cfg      Config
	ratings  *mgo.Collection
	sessions *mgo.Collection
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, ratings: cfg.DB.Collection("staff_reviews"), sessions: cfg.DB.Collection("training_sessions")}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		return s.cfg.Zone(communityID)
	}
	return time.FixedZone("CST", 8*3600)
}

// Supervises: the community's supervisors and admins rate staff, record
// training and read every review there.
func Supervises(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.SupervisesIn(communityID)
}

var (
	ErrNotStaff = apperr.New(apperr.BadUserInput, "review.not_staff")
	ErrChanged  = apperr.New(apperr.Conflict, "review.changed")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"review.not_staff":     {ZH: "该员工不在本小区任职", EN: "is not an active staff member of this community"},
		"review.bad_month":     {ZH: "月份格式应为 YYYY-MM，且不能晚于本月", EN: "must be a month as YYYY-MM, not after this month"},
		"review.bad_rating":    {ZH: "评分应为 1 到 5", EN: "must be between 1 and 5"},
		"review.changed":       {ZH: "该考评已被他人修改（当前版本 %v），请刷新后重试", EN: "The review was changed meanwhile (now version %v); reload and try again"},
		"review.self":          {ZH: "不能给自己评分", EN: "You cannot rate your own review"},
		"review.both_lists":    {ZH: "同一员工不能既出席又缺席", EN: "lists a staff member both as attending and absent"},
		"review.held_future":   {ZH: "培训时间不能晚于现在", EN: "must not be in the future"},
		"review.bad_window":    {ZH: "时间范围应在一年之内且起点早于终点", EN: "must be a window of at most one year, from before to"},
		"review.no_attendance": {ZH: "请至少填写一名出席员工", EN: "must name at least one attendee"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "staff_reviews", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "month", Value: 1}, {Key: "staffId", Value: 1}}, Options: options.Index().SetUnique(true)},
		}},
		mongo.Indexes{Collection: "training_sessions", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "attendeeIds", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "heldAt", Value: 1}}},
		}},
	)
}
