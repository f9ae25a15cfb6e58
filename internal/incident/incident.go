// Package incident keeps the security incidents of a community (安全事件):
// a fire alarm, a water leak, an injury, a theft, a dispute. Each records
// when and where it happened, who reported it and who was told, what was
// done (an append-only log of actions), whether police or the fire service
// were called, which residents were involved, and its closure. Reports come
// from guards' phones, possibly offline: occurredAt is the phone's time and
// an idempotency key makes a retried upload record once.
//
// Residents involved and health details (an injury) fall under the care
// archive's rule (archive.MayReadSensitive): who they are is shown, and
// audited on the archive's log, only to the roles the archive allows; the
// others see how many residents were involved. An incident may publish an
// EMERGENCY announcement to its buildings (internal/announce) and file a
// public-area repair (internal/repair); it links to both.
package incident

import (
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Type is what kind of incident it was.
type Type string

const (
	FireAlarm Type = "FIRE_ALARM" // 火警
	WaterLeak Type = "WATER_LEAK" // 漏水
	Injury    Type = "INJURY"     // 人员受伤
	Theft     Type = "THEFT"      // 盗窃
	Dispute   Type = "DISPUTE"    // 纠纷
	Other     Type = "OTHER"
)

// Types are the kinds of incident.
var Types = []Type{FireAlarm, WaterLeak, Injury, Theft, Dispute, Other}

// Status is where an incident stands.
type Status string

const (
	Open   Status = "OPEN"
	Closed Status = "CLOSED"
)

// Machine is the incident's lifecycle. Steps that keep it OPEN (an action,
// an announcement, a repair) still go through it, so each is version-guarded
// and on the timeline with its actor.
var Machine = lifecycle.Machine[Status]{
	"record_action": {From: []Status{Open}, To: Open},
	"announce":      {From: []Status{Open}, To: Open},
	"file_repair":   {From: []Status{Open}, To: Open},
	"close":         {From: []Status{Open}, To: Closed},
}

// ReporterKind says who reported an incident.
type ReporterKind string

const (
	ByStaff    ReporterKind = "STAFF"    // a staff member of the community
	ByResident ReporterKind = "RESIDENT" // a resident of the community
	ByCaller   ReporterKind = "CALLER"   // anyone else, named with a phone
)

// Reporter is who reported it.
type Reporter struct {
	Kind     ReporterKind `bson:"kind"`
	StaffID  string       `bson:"staffId,omitempty"`
	PersonID string       `bson:"personId,omitempty"`
	Name     string       `bson:"name,omitempty"`
	Phone    string       `bson:"phone,omitempty"`
}

// Action is one thing done about the incident, by whom and when.
type Action struct {
	At         time.Time `bson:"at"`
	Text       string    `bson:"text"`
	ActorID    string    `bson:"actorId"`
	RecordedAt time.Time `bson:"recordedAt"`
}

// Resident is a resident involved: sensitive under the archive's rule.
type Resident struct {
	PersonID    string `bson:"personId,omitempty"`
	HouseholdID string `bson:"householdId"`
	BuildingID  string `bson:"buildingId"`
}

// Incident is one incident of a community.
type Incident struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Type        Type      `bson:"type"`
	OccurredAt  time.Time `bson:"occurredAt"`
	BuildingIDs []string  `bson:"buildingIds"`
	Location    string    `bson:"location"`
	Description string    `bson:"description"`
	Reporter    Reporter  `bson:"reporter"`
	// NotifiedStaffIDs and NotifiedParties are who was told: staff of the
	// community, and named parties (物业经理, 业主, 居委会).
	NotifiedStaffIDs    []string   `bson:"notifiedStaffIds"`
	NotifiedParties     []string   `bson:"notifiedParties"`
	Actions             []Action   `bson:"actions"`
	PoliceCalledAt      *time.Time `bson:"policeCalledAt,omitempty"`
	FireServiceCalledAt *time.Time `bson:"fireServiceCalledAt,omitempty"`
	// Residents and HealthDetails are read only through ResidentsFor and
	// HealthFor, which apply the archive's rule.
	Residents     []Resident `bson:"residents"`
	HealthDetails string     `bson:"healthDetails,omitempty"`
	// StaffIDs are the staff who may see it without leading: who recorded
	// it, the staff reporter, the staff notified (a guard's own list).
	StaffIDs        []string   `bson:"staffIds"`
	RecordedBy      string     `bson:"recordedBy"`
	IdempotencyKey  string     `bson:"idempotencyKey"`
	RecordedAt      time.Time  `bson:"recordedAt"`
	AnnouncementID  string     `bson:"announcementId,omitempty"`
	RepairRequestID string     `bson:"repairRequestId,omitempty"`
	Status          Status     `bson:"status"`
	ClosedAt        *time.Time `bson:"closedAt,omitempty"`
	ClosedBy        string     `bson:"closedBy,omitempty"`
	ClosingSummary  string     `bson:"closingSummary,omitempty"`
	// CloseSeconds is occurredAt→closedAt, kept at closing so the KPI sums
	// it in the database.
	CloseSeconds int64             `bson:"closeSeconds"`
	Version      int               `bson:"version"`
	Timeline     []lifecycle.Entry `bson:"timeline"`
	SortKey      string            `bson:"sortKey"`
	UpdatedAt    time.Time         `bson:"updatedAt"`
}

// Limits of a record.
const (
	// MaxSkew and MaxAge bound occurredAt and an action's time (ESTATE.md,
	// offline records).
	MaxSkew       = validate.OfflineSkew
	MaxAge        = validate.OfflineAge
	MaxActions    = 100
	MaxResidents  = 20
	MaxNotified   = 20
	MaxBuildings  = 20
	MaxText       = 500
	MaxSummary    = 1000
	MaxPartyChars = 20
)

var (
	ErrNotFound     = apperr.New(apperr.NotFound, "incident.not_found")
	ErrAnnounced    = apperr.New(apperr.Conflict, "incident.announced")
	ErrRepairFiled  = apperr.New(apperr.Conflict, "incident.repair_filed")
	ErrTooMany      = apperr.New(apperr.Conflict, "incident.too_many_actions")
	ErrKeyReused    = apperr.New(apperr.BadUserInput, "incident.key_reused")
	ErrNotAnnounced = apperr.New(apperr.Forbidden, "incident.may_not_announce")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"incident.not_found":        {ZH: "安全事件不存在", EN: "Incident not found"},
		"incident.announced":        {ZH: "该事件已发布过紧急通知", EN: "This incident has already published an emergency announcement"},
		"incident.repair_filed":     {ZH: "该事件已提交过公共区域报修", EN: "This incident has already filed a public-area repair"},
		"incident.too_many_actions": {ZH: "该事件的处置记录已达上限", EN: "This incident has reached the limit of recorded actions"},
		"incident.key_reused":       {ZH: "该幂等键已用于另一起事件", EN: "was already used for another incident"},
		"incident.may_not_announce": {ZH: "紧急通知由秩序维护主管或小区主管发布", EN: "Emergency announcements are published by security supervisors and supervisors"},
		"incident.before_occurred":  {ZH: "时间不能早于事件发生时间", EN: "must not be before the incident occurred"},
		"incident.one_reporter":     {ZH: "请按报告人类型填写：员工、住户或来电人（姓名和电话）", EN: "must name a staff member, a resident, or a caller with name and phone, as its kind says"},
		"incident.not_staff":        {ZH: "不是本小区的员工", EN: "is not staff of this community"},
		"incident.not_resident":     {ZH: "不是本小区的住户", EN: "is not a resident of this community"},
		"incident.not_member":       {ZH: "该人员不是此房屋的成员", EN: "is not a member of that household"},
	})
	mongo.Declare(mongo.Indexes{Collection: "incidents", Models: []mgo.IndexModel{
		// A retried upload records once.
		{Keys: bson.D{{Key: "recordedBy", Value: 1}, {Key: "idempotencyKey", Value: 1}}, Options: options.Index().SetUnique(true)},
		// The leads' list, by type, by status; a guard's own; newest first.
		// A window is a range of sortKey (newest first by occurredAt).
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "type", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "staffIds", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The KPI's window.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "occurredAt", Value: 1}}},
	}})
	lifecycle.Declare("incidents")
}

// MayReport: guards, security supervisors, supervisors and customer service
// of the community.
func MayReport(c *access.Caller, communityID string) bool {
	return c.StaffIn(communityID, access.Security, access.SecuritySupervisor, access.Supervisor, access.CustomerService)
}

// Leads see and close every incident of the community: its security
// supervisors and supervisors (ESTATE.md).
func Leads(c *access.Caller, communityID string) bool {
	return c.StaffIn(communityID, access.SecuritySupervisor) || c.SupervisesIn(communityID)
}

// Sees: the leads, and staff of the community who reported it or were told.
func Sees(c *access.Caller, x *Incident) bool {
	return Leads(c, x.CommunityID) || (c.WorksIn(x.CommunityID) && slices.Contains(x.StaffIDs, c.ID))
}
