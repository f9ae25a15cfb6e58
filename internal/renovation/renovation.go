// Package renovation owns renovation applications (装修申请): an owner applies
// with the contractor, the workers, the period, the scope and the documents
// checklist; a supervisor approves it or returns it with reasons (a returned
// application is corrected and resubmitted); staff inspect the works and log
// violations with photos; the owner may ask for more time; and when the
// works are completed the company gives the household a free home cleaning.
// One document per application, moved only by guarded lifecycle steps.
package renovation

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Status of a renovation.
type Status string

const (
	Submitted  Status = "SUBMITTED"   // waits for a supervisor's review
	Returned   Status = "RETURNED"    // sent back with reasons; the owner corrects and resubmits
	Approved   Status = "APPROVED"    // may start on the start date
	InProgress Status = "IN_PROGRESS" // works under way
	Completed  Status = "COMPLETED"   // accepted as finished by staff
)

// Statuses in lifecycle order.
var Statuses = []Status{Submitted, Returned, Approved, InProgress, Completed}

// Machine is every legal step; "" as a target keeps the state.
//
// An approved renovation becomes IN_PROGRESS in two ways: the scheduler
// starts it when its start date arrives (community time), and an inspection
// starts it if the scheduler has not yet — an inspector on site is evidence
// that works are under way (including works begun early, which the
// inspection may record as a violation), and refusing the inspection because
// a minute tick had not run yet would lose the record.
var Machine = lifecycle.Machine[Status]{
	"approve":           {From: []Status{Submitted}, To: Approved},
	"return":            {From: []Status{Submitted}, To: Returned},
	"resubmit":          {From: []Status{Returned}, To: Submitted},
	"start":             {From: []Status{Approved}, To: InProgress},
	"inspect":           {From: []Status{Approved, InProgress}, To: InProgress},
	"complete":          {From: []Status{InProgress}, To: Completed},
	"request_extension": {From: []Status{Approved, InProgress}, To: ""},
	"decide_extension":  {From: []Status{Approved, InProgress}, To: ""},
	// The free cleaning order is recorded once the orders service made it.
	"cleaning_ordered": {From: []Status{Completed}, To: ""},
}

// ScopeTag classifies the works, for review and inspection planning.
type ScopeTag string

// ScopeTags owners choose from.
var ScopeTags = []ScopeTag{"PLUMBING_ELECTRICAL", "WALLS", "WATERPROOFING", "KITCHEN_BATH", "FLOORING", "CEILING", "DOORS_WINDOWS", "OTHER"}

// wetWorks need the waterproofing test confirmation (闭水试验) before approval.
var wetWorks = []ScopeTag{"WATERPROOFING", "KITCHEN_BATH"}

// Result of an inspection.
type Result string

const (
	OK        Result = "OK"
	Violation Result = "VIOLATION"
)

// ViolationType classifies what an inspection found.
type ViolationType string

// ViolationTypes inspectors choose from.
var ViolationTypes = []ViolationType{"OUTSIDE_HOURS", "STRUCTURE", "FIRE_SAFETY", "WATERPROOFING", "DEBRIS", "NOISE", "FACADE", "OUT_OF_SCOPE", "OTHER"}

// Company is the contractor.
type Company struct {
	Name      string `bson:"name"`
	Contact   string `bson:"contact,omitempty"`
	Phone     string `bson:"phone"`
	LicenseNo string `bson:"licenseNo,omitempty"`
}

// Worker is one person on site. Phones and ID-card numbers are personal
// data: only the household and staff of the community read them, and they
// never go into events or notices.
type Worker struct {
	Name     string `bson:"name"`
	Phone    string `bson:"phone,omitempty"`
	IDCardNo string `bson:"idCardNo,omitempty"`
}

// Document is one item of the checklist: provided or not, with an optional
// photo of the signed paper.
type Document struct {
	Provided bool   `bson:"provided"`
	PhotoID  string `bson:"photoId,omitempty"`
}

// Documents is the checklist.
type Documents struct {
	Agreement         Document `bson:"agreement"`         // 装修管理协议
	FireSafetyPledge  Document `bson:"fireSafetyPledge"`  // 消防安全承诺书
	WaterproofingTest Document `bson:"waterproofingTest"` // 闭水试验确认
}

// Review is a supervisor's decision on one submission.
type Review struct {
	Approved   bool      `bson:"approved"`
	Reasons    []string  `bson:"reasons"`
	Note       string    `bson:"note,omitempty"`
	ReviewerID string    `bson:"reviewerId"`
	At         time.Time `bson:"at"`
}

// Inspection is one visit by staff.
type Inspection struct {
	ID            string        `bson:"id"`
	At            time.Time     `bson:"at"`
	InspectorID   string        `bson:"inspectorId"`
	Result        Result        `bson:"result"`
	ViolationType ViolationType `bson:"violationType,omitempty"`
	Description   string        `bson:"description,omitempty"`
	Photos        []string      `bson:"photos"`
	RecordedAt    time.Time     `bson:"recordedAt"`
}

// Extension status.
const (
	ExtensionPending  = "PENDING"
	ExtensionApproved = "APPROVED"
	ExtensionRefused  = "REFUSED"
)

// Extension is an owner's request for a later end date.
type Extension struct {
	ID              string     `bson:"id"`
	NewEndDate      string     `bson:"newEndDate"`
	PreviousEndDate string     `bson:"previousEndDate"`
	Reason          string     `bson:"reason"`
	Status          string     `bson:"status"`
	RequestedBy     string     `bson:"requestedBy"`
	RequestedAt     time.Time  `bson:"requestedAt"`
	DecidedBy       string     `bson:"decidedBy,omitempty"`
	DecidedAt       *time.Time `bson:"decidedAt,omitempty"`
	Note            string     `bson:"note,omitempty"`
}

// Renovation is one application with everything that happens to it.
type Renovation struct {
	ID          string       `bson:"_id"`
	CommunityID string       `bson:"communityId"`
	HouseholdID string       `bson:"householdId"`
	BuildingID  string       `bson:"buildingId"`
	ApplicantID string       `bson:"applicantId"`
	Company     Company      `bson:"company"`
	Workers     []Worker     `bson:"workers"`
	StartDate   string       `bson:"startDate"` // YYYY-MM-DD, community time
	EndDate     string       `bson:"endDate"`   // inclusive; moved by approved extensions
	Scope       string       `bson:"scope"`
	ScopeTags   []ScopeTag   `bson:"scopeTags"`
	Documents   Documents    `bson:"documents"`
	Status      Status       `bson:"status"`
	Version     int          `bson:"version"`
	Reviews     []Review     `bson:"reviews"`
	Inspections []Inspection `bson:"inspections"`
	Violations  int          `bson:"violations"`
	Extensions  []Extension  `bson:"extensions"`
	// CleaningPending is set on completion and cleared once the free
	// cleaning order exists: the scheduler retries until it does (the
	// orders service is idempotent by source, so a retry makes no second order).
	CleaningPending bool              `bson:"cleaningPending"`
	CleaningOrderID string            `bson:"cleaningOrderId,omitempty"`
	StartedAt       *time.Time        `bson:"startedAt,omitempty"`
	CompletedAt     *time.Time        `bson:"completedAt,omitempty"`
	SubmittedAt     time.Time         `bson:"submittedAt"`
	UpdatedAt       time.Time         `bson:"updatedAt"`
	Timeline        []lifecycle.Entry `bson:"timeline"`
	SortKey         string            `bson:"sortKey"` // newest first
}

// PendingExtension is the extension waiting for a decision, if any.
func (r *Renovation) PendingExtension() (int, *Extension) {
	for i := range r.Extensions {
		if r.Extensions[i].Status == ExtensionPending {
			return i, &r.Extensions[i]
		}
	}
	return -1, nil
}

// CleaningSource is the source the free cleaning order is made for: the
// orders service never makes two orders for one source.
func CleaningSource(id string) string { return "renovation:" + id }

var (
	ErrNotFound           = apperr.New(apperr.NotFound, "renovation.not_found")
	ErrOwnerOnly          = apperr.New(apperr.Forbidden, "renovation.owner_only")
	ErrDocumentsMissing   = apperr.New(apperr.Conflict, "renovation.documents_missing")
	ErrExtensionPending   = apperr.New(apperr.Conflict, "renovation.extension_pending")
	ErrNoPendingExtension = apperr.New(apperr.Conflict, "renovation.no_pending_extension")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"renovation.not_found":            {ZH: "装修申请不存在", EN: "Renovation not found"},
		"renovation.owner_only":           {ZH: "只有业主本人可以办理装修申请", EN: "Only an owner of the household may do this"},
		"renovation.documents_missing":    {ZH: "资料不全，不能批准：%s", EN: "Documents missing, cannot approve: %s"},
		"renovation.extension_pending":    {ZH: "已有待审批的延期申请", EN: "An extension request is already waiting for a decision"},
		"renovation.no_pending_extension": {ZH: "没有待审批的延期申请", EN: "There is no extension request to decide"},
		"renovation.bad_period":           {ZH: "施工期无效：开始日期不能早于今天，结束日期不能早于开始日期，工期不超过 %d 天", EN: "is not a valid period: start today or later, end on or after the start, at most %d days"},
		"renovation.extension_not_later":  {ZH: "延期后的结束日期应晚于当前结束日期（%s），且总工期不超过 %d 天", EN: "must be after the current end date (%s) and within %d days of the start"},
		"renovation.bad_id_card":          {ZH: "身份证号码无效", EN: "is not a valid ID-card number"},
		"renovation.photo_not_provided":   {ZH: "已上传照片的资料应标记为已提供", EN: "a document with a photo must be marked provided"},
		"renovation.reasons_required":     {ZH: "退回时请说明原因", EN: "give at least one reason for returning it"},
		"renovation.violation_details":    {ZH: "发现违规时请选择违规类型并描述；合格时不填违规信息", EN: "a violation needs its type and description; an OK inspection has neither"},
		"renovation.future_inspection":    {ZH: "巡查时间不能晚于现在", EN: "cannot be in the future"},
	})
	lifecycle.Declare("renovations")
	mongo.Declare(mongo.Indexes{Collection: "renovations", Models: []mgo.IndexModel{
		// Staff lists: a community's renovations, newest first, by status.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		// A household's own renovations.
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The scheduler: approved ones whose start date came, completed ones
		// still waiting for their cleaning order.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "startDate", Value: 1}}},
		{Keys: bson.D{{Key: "cleaningPending", Value: 1}, {Key: "status", Value: 1}, {Key: "completedAt", Value: 1}}},
	}})
}
