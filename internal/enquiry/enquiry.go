// Package enquiry owns enquiries (咨询/疑难解答) and the answers kept for
// everyone (FAQ). An enquiry is a resident's question by any channel, owned
// by whoever first took it (首问责任制) until it is answered or handed over;
// it ends with an outcome, and when it was not answered on the spot the
// resident is called back. Good answers become published FAQ entries per
// community, searchable in Chinese through character bigrams.
//
// An enquiry is seen by the resident who asked (their household when nobody
// is named) and by the front-desk staff of its community. What staff note
// about the resident (StaffNotes, notes.go) is kept apart from what the
// resident reads and follows the care archive's rule and audit log.
package enquiry

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Status of an enquiry.
type Status string

const (
	Open   Status = "OPEN"   // asked, not yet answered; its owner owes an answer by PromisedBy
	Closed Status = "CLOSED" // answered with an outcome
)

// Statuses in order.
var Statuses = []Status{Open, Closed}

// Machine is every legal step. The timeline actions reuse the shared
// vocabulary: submit (record), take, reply (answer), hand_over, callback.
var Machine = lifecycle.Machine[Status]{
	"take":      {From: []Status{Open}, To: ""},
	"reply":     {From: []Status{Open}, To: Closed},
	"hand_over": {From: []Status{Open}, To: ""},
	"callback":  {From: []Status{Closed}, To: ""},
}

// Channel is how the question came in.
type Channel string

const (
	Phone  Channel = "PHONE"  // the family hotline (亲情电话)
	Desk   Channel = "DESK"   // at the front desk (客户服务中心)
	Visit  Channel = "VISIT"  // heard on a butler's visit
	App    Channel = "APP"    // asked in the app by the resident
	Wechat Channel = "WECHAT" // WeChat or the mini program
)

// Channels in order.
var Channels = []Channel{Phone, Desk, Visit, App, Wechat}

// Category of a question (and of an FAQ entry).
type Category string

const (
	Parking    Category = "PARKING"
	Fees       Category = "FEES"
	Renovation Category = "RENOVATION"
	Moving     Category = "MOVING"
	Utilities  Category = "UTILITIES" // water and power, outages
	Security   Category = "SECURITY"
	Neighbours Category = "NEIGHBOURS"
	Facilities Category = "FACILITIES"
	Paperwork  Category = "PAPERWORK"
	Other      Category = "OTHER"
)

// Categories in order.
var Categories = []Category{Parking, Fees, Renovation, Moving, Utilities, Security, Neighbours, Facilities, Paperwork, Other}

// Outcome is how an enquiry ended.
type Outcome string

const (
	Answered    Outcome = "ANSWERED"         // the question was answered
	Referred    Outcome = "REFERRED"         // passed to a named owner or department
	NotPossible Outcome = "NOT_POSSIBLE_NOW" // cannot be solved now; the reason explained
	OutOfScope  Outcome = "OUT_OF_SCOPE"     // outside the company's remit; explained
)

// DefaultPromise is the answer time promised when none is given.
const DefaultPromise = 24 * time.Hour

// Outcomes in order.
var Outcomes = []Outcome{Answered, Referred, NotPossible, OutOfScope}

// Callback is the call back to the resident with an answer given later.
type Callback struct {
	StaffID string    `bson:"staffId"`
	Reached bool      `bson:"reached"`
	Notes   string    `bson:"notes,omitempty"`
	At      time.Time `bson:"at"`
}

// Enquiry is one question with everything that changes with it: one
// document, so each step is one atomic write.
type Enquiry struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	HouseholdID string `bson:"householdId,omitempty"`
	// BuildingID is the household's building, kept (as a repair request
	// keeps it) so the archive's butler rule is decided without a join.
	BuildingID string   `bson:"buildingId,omitempty"`
	AskerID    string   `bson:"askerId,omitempty"` // the person who asked, when known
	AskerName  string   `bson:"askerName,omitempty"`
	Channel    Channel  `bson:"channel"`
	Question   string   `bson:"question"`
	Normalised string   `bson:"normalised"` // the question folded for counting repeats
	Category   Category `bson:"category"`
	Status     Status   `bson:"status"`
	Version    int      `bson:"version"`
	// OwnerStaffID owns the enquiry (首问责任制); empty for one asked in the
	// app until a staff member takes it.
	OwnerStaffID string     `bson:"ownerStaffId,omitempty"`
	RecordedBy   string     `bson:"recordedBy"` // staff or person id
	PromisedBy   time.Time  `bson:"promisedBy"`
	NextDeadline *time.Time `bson:"nextDeadline,omitempty"` // PromisedBy while OPEN; nil after
	Outcome      Outcome    `bson:"outcome,omitempty"`
	Answer       string     `bson:"answer,omitempty"`     // the answer, reason or explanation
	ReferredTo   string     `bson:"referredTo,omitempty"` // named owner or department when REFERRED
	OnTheSpot    bool       `bson:"onTheSpot"`
	AnsweredBy   string     `bson:"answeredBy,omitempty"`
	AnsweredAt   *time.Time `bson:"answeredAt,omitempty"`
	// FaqEntryID links the enquiry to the FAQ entry that answers it (answered
	// from one, or published from it): what FAQ coverage counts.
	FaqEntryID string     `bson:"faqEntryId,omitempty"`
	Callbacks  []Callback `bson:"callbacks"`
	// StaffNotes are read only through StaffNotesFor (the archive's rule and
	// audit); the resident's paths never load them.
	StaffNotes  []StaffNote       `bson:"staffNotes,omitempty"`
	EscalatedAt *time.Time        `bson:"escalatedAt,omitempty"`
	Timeline    []lifecycle.Entry `bson:"timeline"`
	CreatedAt   time.Time         `bson:"createdAt"`
	UpdatedAt   time.Time         `bson:"updatedAt"`
	SortKey     string            `bson:"sortKey"` // newest first
}

// Overdue reports an open enquiry past its promised answer time.
func (x *Enquiry) Overdue(now time.Time) bool {
	return x.Status == Open && now.After(x.PromisedBy)
}

// AnsweredOnTime reports an enquiry answered by its promised time.
func (x *Enquiry) AnsweredOnTime() bool {
	return x.AnsweredAt != nil && !x.AnsweredAt.After(x.PromisedBy)
}

var (
	ErrNotFound    = apperr.New(apperr.NotFound, "enquiry.not_found")
	ErrNotOwner    = apperr.New(apperr.Forbidden, "enquiry.not_owner")
	ErrFaqNotFound = apperr.New(apperr.NotFound, "enquiry.faq_not_found")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"enquiry.not_found":        {ZH: "咨询不存在", EN: "Enquiry not found"},
		"enquiry.not_owner":        {ZH: "该咨询由首问责任人负责，请先转交", EN: "This enquiry belongs to the staff member who took it (first-contact rule) or a supervisor; have it handed over first"},
		"enquiry.same_owner":       {ZH: "已由该员工负责", EN: "already owns this enquiry"},
		"enquiry.not_desk_staff":   {ZH: "该员工不是本小区的客服、管家或主管", EN: "is not customer service, a butler or a supervisor of this community"},
		"enquiry.referred_to":      {ZH: "转交其他部门时请写明负责人或部门", EN: "is required when the enquiry is referred: name the owner or department"},
		"enquiry.on_the_spot":      {ZH: "当场答复的咨询无需回访", EN: "was answered on the spot; no callback is owed"},
		"enquiry.not_asker":        {ZH: "提问人不是该户成员", EN: "is not a member of this household"},
		"enquiry.promised_past":    {ZH: "承诺答复时间不能早于现在", EN: "must not be in the past"},
		"enquiry.faq_not_found":    {ZH: "常见问题不存在", EN: "FAQ entry not found"},
		"enquiry.faq_other_estate": {ZH: "常见问题不属于该小区", EN: "belongs to another community"},
	})
	lifecycle.Declare("enquiries")
	mongo.Declare(mongo.Indexes{Collection: "enquiries", Models: []mgo.IndexModel{
		// The staff list, newest first, with its filters.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "ownerStaffId", Value: 1}, {Key: "sortKey", Value: 1}}},
		// Overdue: the task list per community and the escalation sweep.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "nextDeadline", Value: 1}}},
		{Keys: bson.D{{Key: "nextDeadline", Value: 1}, {Key: "escalatedAt", Value: 1}}},
		// A resident's own, and their household's.
		{Keys: bson.D{{Key: "askerId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
		// KPIs and the questions asked most often without an FAQ entry.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}
