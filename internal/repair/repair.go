// Package repair owns repair requests (报修) and their work orders (派工单):
// the loop the service is judged by, from the owner's report through
// dispatch, the engineer's visit, the owner's sign-off and the butler's
// callback (回访), round after round until the owner is satisfied.
package repair

import (
	"math"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Status of a repair request.
type Status string

const (
	Submitted  Status = "SUBMITTED"   // reported, nobody has taken it
	Taken      Status = "TAKEN"       // a staff member owns it (首问责任制); to be dispatched
	Dispatched Status = "DISPATCHED"  // a work order waits for the engineer
	Accepted   Status = "ACCEPTED"    // the engineer is on the way
	InProgress Status = "IN_PROGRESS" // on site
	Completed  Status = "COMPLETED"   // work done; waits for the owner's (public area: a supervisor's) sign-off
	Confirmed  Status = "CONFIRMED"   // signed off; waits for the callback
	Closed     Status = "CLOSED"      // called back, owner satisfied
	Cancelled  Status = "CANCELLED"
)

// Machine is every legal step. Reopening after an unsatisfied callback goes
// back to TAKEN: the owning staff member dispatches the next round.
var Machine = lifecycle.Machine[Status]{
	"cancel":    {From: []Status{Submitted, Taken, Dispatched}, To: Cancelled},
	"take":      {From: []Status{Submitted}, To: Taken},
	"hand_over": {From: []Status{Taken, Dispatched, Accepted, InProgress, Completed, Confirmed}, To: ""},
	"dispatch":  {From: []Status{Taken}, To: Dispatched},
	"accept":    {From: []Status{Dispatched}, To: Accepted},
	"decline":   {From: []Status{Dispatched}, To: Taken},
	"start":     {From: []Status{Accepted}, To: InProgress},
	"complete":  {From: []Status{InProgress}, To: Completed},
	"confirm":   {From: []Status{Completed}, To: Confirmed},
	// A staff-filed public-area fault has nobody to call back: the
	// supervisor's sign-off closes it.
	"sign_off_close":  {From: []Status{Completed}, To: Closed},
	"rate":            {From: []Status{Confirmed}, To: ""},
	"callback_closed": {From: []Status{Confirmed}, To: Closed},
	"callback_reopen": {From: []Status{Confirmed}, To: Taken},
}

// open states count toward an engineer's load and the queue's overdue filter.
var openStates = []Status{Submitted, Taken, Dispatched, Accepted, InProgress}

// Category of fault.
type Category string

// Categories owners choose from.
var Categories = []Category{"WATER", "ELECTRICITY", "GAS", "DOORS_WINDOWS", "WALLS", "APPLIANCES", "PUBLIC_AREA", "OTHER"}

// Urgency decides the deadlines.
type Urgency string

const (
	Low       Urgency = "LOW"
	Normal    Urgency = "NORMAL"
	Urgent    Urgency = "URGENT"
	Emergency Urgency = "EMERGENCY" // gas leak, burst pipe
)

// Urgencies in order.
var Urgencies = []Urgency{Low, Normal, Urgent, Emergency}

// Location of the fault: in the home or a public place of the community.
type Location struct {
	InHome bool   `bson:"inHome"`
	Place  string `bson:"place,omitempty"` // e.g. 3栋电梯厅 for public areas
}

// Material used on a job. Owner-supplied materials are recorded but never
// charged; company-supplied ones are charged at quantity x unit price.
type Material struct {
	Name          string  `bson:"name"`
	Quantity      float64 `bson:"quantity"`
	Unit          string  `bson:"unit,omitempty"`
	UnitPriceFen  int64   `bson:"unitPriceFen"`
	SuppliedByOwn bool    `bson:"suppliedByOwner"`
}

// WorkOrder is one dispatch of the request to an engineer.
type WorkOrder struct {
	ID            string     `bson:"id"`
	Round         int        `bson:"round"`
	EngineerID    string     `bson:"engineerId"`
	DispatchedBy  string     `bson:"dispatchedBy"`
	DispatchedAt  time.Time  `bson:"dispatchedAt"`
	Status        string     `bson:"status"` // PENDING ACCEPTED DECLINED STARTED COMPLETED
	DeclineReason string     `bson:"declineReason,omitempty"`
	AcceptedAt    *time.Time `bson:"acceptedAt,omitempty"`
	StartedAt     *time.Time `bson:"startedAt,omitempty"`
	CompletedAt   *time.Time `bson:"completedAt,omitempty"`
	BeforePhotos  []string   `bson:"beforePhotos"`
	AfterPhotos   []string   `bson:"afterPhotos"`
	Materials     []Material `bson:"materials"`
	Paid          bool       `bson:"paid"`
	LabourFeeFen  int64      `bson:"labourFeeFen"`
	Notes         string     `bson:"notes,omitempty"`
}

// Charges are what the owner pays for a work order: nothing for a free repair.
func (w *WorkOrder) Charges() (materials, labour int64) {
	if !w.Paid {
		return 0, 0
	}
	for _, m := range w.Materials {
		if !m.SuppliedByOwn {
			// Quantities have at most three decimals (1.5 米, 0.25 公斤): count
			// them in thousandths so money is integer arithmetic, rounded half up.
			milli := int64(math.Round(m.Quantity * 1000))
			materials += (m.UnitPriceFen*milli + 500) / 1000
		}
	}
	return materials, w.LabourFeeFen
}

// Acceptance is the owner's sign-off of a round.
type Acceptance struct {
	Round       int       `bson:"round"`
	PersonID    string    `bson:"personId"`          // the member who signed for a home
	StaffID     string    `bson:"staffId,omitempty"` // the supervisor who signed for a public area
	SignatureID string    `bson:"signatureId"`
	Rating      int       `bson:"rating"`
	Comment     string    `bson:"comment,omitempty"`
	At          time.Time `bson:"at"`
	// RecordedBy and Channel are set when staff recorded the sign-off on
	// the resident's behalf on site (ConfirmOnBehalf).
	RecordedBy string         `bson:"recordedBy,omitempty"`
	Channel    intake.Channel `bson:"channel,omitempty"`
}

// Callback is a butler's callback (回访) of a round.
type Callback struct {
	Round     int       `bson:"round"`
	StaffID   string    `bson:"staffId"`
	Satisfied bool      `bson:"satisfied"`
	Notes     string    `bson:"notes,omitempty"`
	At        time.Time `bson:"at"`
}

// Deadlines of a request, fixed when it is submitted.
type Deadlines struct {
	RespondBy time.Time `bson:"respondBy"`
	ArriveBy  time.Time `bson:"arriveBy"`
	FinishBy  time.Time `bson:"finishBy"`
}

// Request is a repair request with everything that changes with it: one
// document, so each step is one atomic write.
type Request struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	HouseholdID string `bson:"householdId"` // "" for a public-area fault (Public)
	BuildingID  string `bson:"buildingId"`
	ReporterID  string `bson:"reporterId"` // the resident who reported it; empty when staff filed it
	// FiledByStaffID is the staff member who filed it for the household
	// (FileForHousehold); Source is what it came from, e.g. a free-service
	// visit ("freeservice-visit:<id>:v<n>").
	FiledByStaffID  string            `bson:"filedBy,omitempty"`
	Source          string            `bson:"source,omitempty"`
	Category        Category          `bson:"category"`
	Description     string            `bson:"description"`
	Location        Location          `bson:"location"`
	Public          *PublicArea       `bson:"public,omitempty"` // a public-area fault: no household
	Urgency         Urgency           `bson:"urgency"`
	PreferredFrom   *time.Time        `bson:"preferredFrom,omitempty"`
	PreferredTo     *time.Time        `bson:"preferredTo,omitempty"`
	Photos          []string          `bson:"photos"`
	Status          Status            `bson:"status"`
	Version         int               `bson:"version"`
	Round           int               `bson:"round"`
	OwnerStaffID    string            `bson:"ownerStaffId,omitempty"` // 首问责任人
	EngineerID      string            `bson:"engineerId,omitempty"`   // of the current work order
	WorkOrders      []WorkOrder       `bson:"workOrders"`
	Acceptances     []Acceptance      `bson:"acceptances"`
	Callbacks       []Callback        `bson:"callbacks"`
	Deadlines       Deadlines         `bson:"deadlines"`
	NextDeadline    *time.Time        `bson:"nextDeadline,omitempty"` // of the current stage; nil when none runs
	EngineerHistory []string          `bson:"engineerHistory"`        // every engineer ever dispatched: they may see it
	Timeline        []lifecycle.Entry `bson:"timeline"`
	// ConfirmedAt and Rated describe the current round's sign-off, for the
	// reminders: ask an owner who signed without rating, remind the butler
	// whose callback is due.
	ConfirmedAt *time.Time `bson:"confirmedAt,omitempty"`
	Rated       bool       `bson:"rated"`
	SubmittedAt time.Time  `bson:"submittedAt"`
	UpdatedAt   time.Time  `bson:"updatedAt"`
	SortKey     string     `bson:"sortKey"` // newest first
	// PastDeadlines keeps the deadlines of every round an unsatisfied
	// callback reopened: the reopen gives the request fresh Deadlines, and
	// the KPIs still judge each earlier round against its own.
	PastDeadlines []RoundDeadlines `bson:"pastDeadlines,omitempty"`
	// Intake is how it came in: set when staff filed it on a resident's
	// behalf or the resident named a channel (see package intake).
	Intake *intake.Record `bson:"intake,omitempty"`
}

// Current is the work order of the current round, if dispatched.
func (r *Request) Current() *WorkOrder {
	if len(r.WorkOrders) == 0 {
		return nil
	}
	return &r.WorkOrders[len(r.WorkOrders)-1]
}

// Overdue reports whether the current stage's deadline has passed.
func (r *Request) Overdue(now time.Time) bool {
	return r.NextDeadline != nil && now.After(*r.NextDeadline)
}

// IsOpen reports a request still being worked on.
func (r *Request) IsOpen() bool { return slices.Contains(openStates, r.Status) }

var (
	ErrNotFound        = apperr.New(apperr.NotFound, "repair.not_found")
	ErrNotEngineer     = apperr.New(apperr.BadUserInput, "repair.not_engineer")
	ErrNotHandler      = apperr.New(apperr.BadUserInput, "repair.not_handler")
	ErrNotYourOrder    = apperr.New(apperr.Forbidden, "repair.not_your_order")
	ErrChargesWhenFree = apperr.New(apperr.BadUserInput, "repair.charges_when_free")
	// ErrNotOwner refuses a dispatch, callback or close by anyone but the
	// request's owner or a supervisor (首问责任制).
	ErrNotOwner = apperr.New(apperr.Forbidden, "repair.not_owner")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"repair.not_found":         {ZH: "报修单不存在", EN: "Repair request not found"},
		"repair.not_engineer":      {ZH: "该员工不是本小区的维修工程师", EN: "is not an engineer of this community"},
		"repair.not_handler":       {ZH: "该员工不是本小区的管家或主管", EN: "is not a butler or supervisor of this community"},
		"repair.not_your_order":    {ZH: "这不是派给您的工单", EN: "This work order is not assigned to you"},
		"repair.charges_when_free": {ZH: "无偿维修不能收取人工费", EN: "a free repair has no labour fee"},
		"repair.bad_window":        {ZH: "预约时间段无效", EN: "is not a valid time window"},
		"repair.place_required":    {ZH: "公共区域报修请填写具体位置", EN: "is required for a public-area fault"},
		"repair.bad_rating":        {ZH: "评分应为 1 到 5", EN: "must be between 1 and 5"},
		"repair.already_rated":     {ZH: "本轮维修已评分", EN: "This round is already rated"},
		"repair.bad_deadlines":     {ZH: "时限应为正数且依次不减（响应 ≤ 到场 ≤ 完成）", EN: "must be positive and respond ≤ arrive ≤ finish"},
		"repair.same_owner":        {ZH: "已由该员工负责", EN: "already owns this request"},
		"repair.not_owner":         {ZH: "该工单由首问责任人负责，请先转交", EN: "This request belongs to the staff member who took it (first-contact rule); have it handed over first"},
	})
	lifecycle.Declare("repair_requests")
	mongo.Declare(mongo.Indexes{Collection: "repair_requests", Models: []mgo.IndexModel{
		// The staff queue: community, newest first, with its filters.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "nextDeadline", Value: 1}}},
		// An engineer's own orders, and their open load.
		{Keys: bson.D{{Key: "engineerHistory", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "engineerId", Value: 1}, {Key: "status", Value: 1}}},
		// The owner's own requests.
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
		// Reminders: signed-off requests by sign-off time.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "confirmedAt", Value: 1}}},
	}}, mongo.Indexes{Collection: "repair_deadlines"})
}
