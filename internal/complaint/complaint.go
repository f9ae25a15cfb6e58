// Package complaint owns complaints (投诉): received, handled, answered and
// called back, round after round until the complainant is satisfied — the
// same guarded lifecycle and timeline as repair requests, with its own
// categories, severities and response deadlines. A complaint may be
// anonymous: then only the complainant's household and the community's
// supervisors may learn who made it (see Identity).
package complaint

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Status of a complaint.
type Status string

const (
	Received  Status = "RECEIVED"  // made, nobody has acknowledged it
	Handling  Status = "HANDLING"  // a staff member owns it (首问责任制) and works on it
	Answered  Status = "ANSWERED"  // replied to; waits for the callback
	Closed    Status = "CLOSED"    // called back, complainant satisfied
	Withdrawn Status = "WITHDRAWN" // withdrawn by the complainant
)

// Statuses in the order a complaint goes through them.
var Statuses = []Status{Received, Handling, Answered, Closed, Withdrawn}

// Machine is every legal step. An unsatisfied callback goes back to
// HANDLING for another round, with the same handler.
var Machine = lifecycle.Machine[Status]{
	"acknowledge":     {From: []Status{Received}, To: Handling},
	"reply":           {From: []Status{Handling}, To: Answered},
	"callback_closed": {From: []Status{Answered}, To: Closed},
	"callback_reopen": {From: []Status{Answered}, To: Handling},
	"hand_over":       {From: []Status{Handling, Answered}, To: ""},
	"withdraw":        {From: []Status{Received, Handling}, To: Withdrawn},
	// Naming the staff a complaint is about keeps the state; a closed
	// complaint may still be found to concern someone, a withdrawn one is
	// nobody's.
	"set_concerns": {From: []Status{Received, Handling, Answered, Closed}, To: ""},
}

// Category of a complaint.
type Category string

const (
	Noise         Category = "NOISE"
	Hygiene       Category = "HYGIENE"
	Security      Category = "SECURITY"
	StaffAttitude Category = "STAFF_ATTITUDE"
	Parking       Category = "PARKING"
	Fees          Category = "FEES"
	Other         Category = "OTHER"
)

// Categories complainants choose from.
var Categories = []Category{Noise, Hygiene, Security, StaffAttitude, Parking, Fees, Other}

// Severity decides how soon the complaint must be acknowledged.
type Severity string

const (
	Low      Severity = "LOW"
	Normal   Severity = "NORMAL"
	High     Severity = "HIGH"
	Critical Severity = "CRITICAL"
)

// Severities in order.
var Severities = []Severity{Low, Normal, High, Critical}

// ResponseTime is how long after submission a complaint of each severity
// must be acknowledged.
var ResponseTime = map[Severity]time.Duration{
	Critical: 30 * time.Minute,
	High:     2 * time.Hour,
	Normal:   24 * time.Hour,
	Low:      72 * time.Hour,
}

// Reply is a staff member's answer to the complainant.
type Reply struct {
	StaffID string    `bson:"staffId"`
	Text    string    `bson:"text"`
	At      time.Time `bson:"at"`
}

// Callback is a butler's callback (回访) of a round.
type Callback struct {
	Round     int       `bson:"round"`
	StaffID   string    `bson:"staffId"`
	Satisfied bool      `bson:"satisfied"`
	Notes     string    `bson:"notes,omitempty"`
	At        time.Time `bson:"at"`
}

// Complaint is one complaint with everything that changes with it: one
// document, so each step is one atomic write.
type Complaint struct {
	ID             string            `bson:"_id"`
	CommunityID    string            `bson:"communityId"`
	HouseholdID    string            `bson:"householdId"`
	BuildingID     string            `bson:"buildingId"`
	ComplainantID  string            `bson:"complainantId"` // the person
	Category       Category          `bson:"category"`
	Severity       Severity          `bson:"severity"`
	Description    string            `bson:"description"`
	Photos         []string          `bson:"photos"` // file ids
	Anonymous      bool              `bson:"anonymous"`
	Status         Status            `bson:"status"`
	Version        int               `bson:"version"`
	Round          int               `bson:"round"`
	HandlerStaffID string            `bson:"handlerStaffId,omitempty"` // who acknowledged it: the first-response owner
	Replies        []Reply           `bson:"replies"`
	Callbacks      []Callback        `bson:"callbacks"`
	RespondBy      time.Time         `bson:"respondBy"`
	NextDeadline   *time.Time        `bson:"nextDeadline,omitempty"` // RespondBy while RECEIVED; nil after
	Timeline       []lifecycle.Entry `bson:"timeline"`
	SubmittedAt    time.Time         `bson:"submittedAt"`
	UpdatedAt      time.Time         `bson:"updatedAt"`
	SortKey        string            `bson:"sortKey"` // newest first
	// Intake is how it came in: set when staff filed it on a resident's
	// behalf or the resident named a channel (see package intake).
	Intake *intake.Record `bson:"intake,omitempty"`
	// ConcernsStaffIDs are the staff members the complaint is about (at most
	// MaxConcerns, staff of its community); only its community's staff may
	// read them (see redact).
	ConcernsStaffIDs []string `bson:"concernsStaffIds,omitempty"`
}

// Overdue reports a complaint still waiting for acknowledgement past its
// deadline.
func (x *Complaint) Overdue(now time.Time) bool {
	return x.NextDeadline != nil && now.After(*x.NextDeadline)
}

var (
	ErrNotFound       = apperr.New(apperr.NotFound, "complaint.not_found")
	ErrNotComplainant = apperr.New(apperr.Forbidden, "complaint.not_complainant")
	ErrNotHandler     = apperr.New(apperr.Forbidden, "complaint.not_handler")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"complaint.not_found":         {ZH: "投诉不存在", EN: "Complaint not found"},
		"complaint.not_complainant":   {ZH: "只有投诉人本人可以撤回投诉", EN: "Only the complainant may withdraw a complaint"},
		"complaint.not_handler":       {ZH: "该投诉由首问责任人负责，请先转交", EN: "This complaint belongs to the staff member handling it (first-contact rule) or a supervisor; have it handed over first"},
		"complaint.same_handler":      {ZH: "已由该员工负责", EN: "already handles this complaint"},
		"complaint.not_handler_staff": {ZH: "该员工不是本小区的管家或主管", EN: "is not a butler or supervisor of this community"},
		"complaint.notes_required":    {ZH: "不满意时请填写回访记录", EN: "is required when the complainant is not satisfied"},
	})
	lifecycle.Declare("complaints")
	mongo.Declare(mongo.Indexes{Collection: "complaints", Models: []mgo.IndexModel{
		// The staff list: community, newest first, with its filters.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "nextDeadline", Value: 1}}},
		// The complainant's household's own complaints.
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
	}})
}
