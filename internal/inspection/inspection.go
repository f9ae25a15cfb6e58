// Package inspection owns quality inspections (品质检查): checklist templates
// per area, versioned so an inspection keeps the items it was done against;
// inspections recorded on a phone, possibly offline and uploaded later; and
// the corrective task every failed item becomes, re-checked until it passes
// and escalated to the community's supervisors when a re-check fails.
package inspection

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

// Area is a part of the estate a checklist covers.
type Area string

const (
	Lobby          Area = "LOBBY"
	Corridor       Area = "CORRIDOR"
	LiftCar        Area = "LIFT_CAR"
	Stairs         Area = "STAIRS"
	PublicToilet   Area = "PUBLIC_TOILET"
	BasementGarage Area = "BASEMENT_GARAGE"
	Roof           Area = "ROOF"
	Garden         Area = "GARDEN"
	SecurityPost   Area = "SECURITY_POST"
	FrontDesk      Area = "FRONT_DESK"
	// Handover is the handover inspection of a new community's shared
	// areas (承接查验): its own checklist, its defects corrective tasks.
	Handover Area = "HANDOVER"
)

// Areas in display order.
var Areas = []Area{Lobby, Corridor, LiftCar, Stairs, PublicToilet, BasementGarage, Roof, Garden, SecurityPost, FrontDesk, Handover}

// Teams are the staff roles a corrective task may be given to as a team: a
// team task is on the list of every member of the role in the community.
var Teams = []access.Role{access.Cleaner, access.Security, access.Engineer, access.CustomerService}

// TeamRoles are the staff roles whose members make up team.
func TeamRoles(team access.Role) []access.Role { return teamRoles(team) }

// teamRoles is who belongs to a team: the front desk (客服组) is butlers and
// customer service together.
func teamRoles(team access.Role) []access.Role {
	if team == access.CustomerService {
		return []access.Role{access.CustomerService, access.Butler}
	}
	return []access.Role{team}
}

// DefaultTeam is who answers for an area's failed items when the inspector
// names nobody: the cleaners for the shared areas they clean.
func DefaultTeam(a Area) access.Role {
	switch a {
	case SecurityPost:
		return access.Security
	case FrontDesk:
		return access.CustomerService
	case Handover:
		return access.Engineer
	}
	return access.Cleaner
}

// Item is one line of a checklist: what to look at and the standard it must
// meet. Seq numbers it within its template version (from 1).
type Item struct {
	Seq      int    `bson:"seq"`
	Text     string `bson:"text"`
	Standard string `bson:"standard"`
}

// Template is one version of a community's checklist for an area. Every
// version is kept (an inspection names the version it used); Current marks
// the one new inspections use. Version 1 of every area is the built-in
// default (Defaults) and is never stored: a community's first edit is 2.
type Template struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Area        Area      `bson:"area"`
	Name        string    `bson:"name"`
	Version     int       `bson:"version"`
	Current     bool      `bson:"current"`
	Items       []Item    `bson:"items"`
	CreatedBy   string    `bson:"createdBy,omitempty"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// Frequency of a scheduled inspection.
type Frequency string

const (
	Daily   Frequency = "DAILY"
	Weekly  Frequency = "WEEKLY"
	Monthly Frequency = "MONTHLY"
	Once    Frequency = "ONCE"
)

// Frequencies a schedule may have.
var Frequencies = []Frequency{Daily, Weekly, Monthly, Once}

// Schedule says an area is to be inspected every day, week or month, or
// once on a date, by its assignee (an inspector or supervisor of the
// community): each period is an occurrence (due.go) on the assignee's task
// list until an inspection is recorded against the schedule within it.
type Schedule struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Area        Area      `bson:"area"`
	Frequency   Frequency `bson:"frequency"`
	On          string    `bson:"on,omitempty"` // the date (YYYY-MM-DD) of a ONCE schedule
	Note        string    `bson:"note,omitempty"`
	AssigneeID  string    `bson:"assigneeId"`
	// ResponsibleStaffID is the staff member in charge of the area (the
	// lobby's cleaner): inspections done for the schedule inherit it.
	ResponsibleStaffID string    `bson:"responsibleStaffId,omitempty"`
	CreatedBy          string    `bson:"createdBy"`
	CreatedAt          time.Time `bson:"createdAt"`
	SortKey            string    `bson:"sortKey"`
	// EndedAt is when the schedule was stopped; it owes nothing after it.
	EndedAt *time.Time `bson:"endedAt,omitempty"`
	EndedBy string     `bson:"endedBy,omitempty"`
}

// Result is one item's outcome, with the item's text and standard as the
// template version had them.
type Result struct {
	Item   `bson:",inline"`
	Passed bool     `bson:"passed"`
	Note   string   `bson:"note,omitempty"`
	Photos []string `bson:"photos"`
	// A failed item's corrective task, whom it is for and by when: kept
	// here too so a retried upload can finish a task write that failed.
	TaskID          string      `bson:"taskId,omitempty"`
	AssigneeStaffID string      `bson:"assigneeStaffId,omitempty"`
	AssigneeTeam    access.Role `bson:"assigneeTeam,omitempty"`
	Deadline        *time.Time  `bson:"deadline,omitempty"`
	// WorkOrderID: a failed handover item is a facility work order, not
	// a corrective task (handover.go).
	WorkOrderID string `bson:"workOrderId,omitempty"`
	// Who answers for the item in scores (scores.go), fixed when recorded:
	// the team and staff member its task is given to, or for a passed item
	// the area's team and the inspection's responsible staff member.
	Team    access.Role `bson:"team,omitempty"`
	StaffID string      `bson:"staffId,omitempty"`
}

// Inspection is one inspection of an area as recorded. DoneAt is when it was
// done (the phone's time, bounded); RecordedAt when the server got it.
type Inspection struct {
	ID              string `bson:"_id"`
	CommunityID     string `bson:"communityId"`
	Area            Area   `bson:"area"`
	Location        string `bson:"location,omitempty"` // which lobby, which floor
	TemplateVersion int    `bson:"templateVersion"`
	ScheduleID      string `bson:"scheduleId,omitempty"`
	InspectorID     string `bson:"inspectorId"`
	// ResponsibleStaffID is the staff member in charge of the area, when
	// named: failed items without an assignee become their tasks.
	ResponsibleStaffID string    `bson:"responsibleStaffId,omitempty"`
	DoneAt             time.Time `bson:"doneAt"`
	RecordedAt         time.Time `bson:"recordedAt"`
	// Week and Month are the first days (YYYY-MM-DD, company time) of the
	// week (Monday) and month DoneAt falls in: the score buckets, grouped
	// by in the database.
	Week  string `bson:"week"`
	Month string `bson:"month"`
	// IdempotencyKey is the client's key, scoped to the inspector so one
	// phone's key cannot collide with another's (unique index).
	IdempotencyKey string   `bson:"idempotencyKey"`
	Note           string   `bson:"note,omitempty"`
	Results        []Result `bson:"results"`
	Passed         int      `bson:"passed"`
	Total          int      `bson:"total"`
	SortKey        string   `bson:"sortKey"` // newest done first
}

// TaskStatus of a corrective task.
type TaskStatus string

const (
	Open      TaskStatus = "OPEN"
	Escalated TaskStatus = "ESCALATED" // a re-check failed; supervisors told
	Closed    TaskStatus = "CLOSED"    // a re-check passed
)

// TaskStatuses in order.
var TaskStatuses = []TaskStatus{Open, Escalated, Closed}

// Machine is every legal step of a corrective task. A failed re-check of an
// escalated task escalates it again, with another deadline.
var Machine = lifecycle.Machine[TaskStatus]{
	"recheck_pass": {From: []TaskStatus{Open, Escalated}, To: Closed},
	"recheck_fail": {From: []TaskStatus{Open, Escalated}, To: Escalated},
}

// Recheck is one re-check of a corrective task.
type Recheck struct {
	At      time.Time `bson:"at"`
	StaffID string    `bson:"staffId"`
	Passed  bool      `bson:"passed"`
	Note    string    `bson:"note,omitempty"`
	Photos  []string  `bson:"photos"`
}

// Task is the corrective task (整改) of one failed item: for a staff member
// or a team of the community, by a deadline.
type Task struct {
	ID              string            `bson:"_id"`
	CommunityID     string            `bson:"communityId"`
	InspectionID    string            `bson:"inspectionId"`
	InspectorID     string            `bson:"inspectorId,omitempty"` // who found it: their list owes the re-check
	Area            Area              `bson:"area"`
	Location        string            `bson:"location,omitempty"`
	Item            Item              `bson:"item"`
	FailNote        string            `bson:"failNote,omitempty"`
	FailPhotos      []string          `bson:"failPhotos"` // the inspection's photos of the failure
	AssigneeStaffID string            `bson:"assigneeStaffId,omitempty"`
	AssigneeTeam    access.Role       `bson:"assigneeTeam,omitempty"`
	Deadline        time.Time         `bson:"deadline"`
	Status          TaskStatus        `bson:"status"`
	Version         int               `bson:"version"`
	Escalations     int               `bson:"escalations"`
	Rechecks        []Recheck         `bson:"rechecks"`
	Timeline        []lifecycle.Entry `bson:"timeline"`
	CreatedAt       time.Time         `bson:"createdAt"`
	UpdatedAt       time.Time         `bson:"updatedAt"`
	SortKey         string            `bson:"sortKey"` // newest first
}

// Overdue reports an unclosed task past its deadline.
func (t *Task) Overdue(now time.Time) bool { return t.Status != Closed && now.After(t.Deadline) }

// Bounds of offline records (see ESTATE.md): a phone's clock may run a few
// minutes fast, and an upload older than a week is not an inspection record
// anyone can vouch for.
const (
	MaxSkew       = validate.OfflineSkew
	MaxAge        = validate.OfflineAge
	DefaultFixIn  = 24 * time.Hour // a corrective task's deadline when none is given
	MaxItems      = 50
	MaxFixWindow  = 30 * 24 * time.Hour
	EscalateFixIn = 24 * time.Hour // the new deadline after a failed re-check, when none is given
)

var (
	ErrNotFound         = apperr.New(apperr.NotFound, "inspection.not_found")
	ErrTaskNotFound     = apperr.New(apperr.NotFound, "inspection.task_not_found")
	ErrForbidden        = apperr.New(apperr.Forbidden, "inspection.forbidden")
	ErrTemplateConflict = apperr.New(apperr.Conflict, "inspection.template_changed")
	ErrScheduleNotFound = apperr.New(apperr.NotFound, "inspection.schedule_not_found")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"inspection.not_found":          {ZH: "检查记录不存在", EN: "Inspection not found"},
		"inspection.task_not_found":     {ZH: "整改任务不存在", EN: "Corrective task not found"},
		"inspection.forbidden":          {ZH: "只有本小区的品质专员或主管可以执行此操作", EN: "Only the community's inspectors and supervisors may do this"},
		"inspection.template_changed":   {ZH: "检查表已被他人修改（当前版本 %v），请刷新后重试", EN: "The checklist was changed meanwhile (now version %v); reload and try again"},
		"inspection.no_version":         {ZH: "该区域没有此版本的检查表", EN: "is not a version of this area's checklist"},
		"inspection.no_item":            {ZH: "检查表中没有第 %v 项", EN: "names item %v, which the checklist does not have"},
		"inspection.item_twice":         {ZH: "第 %v 项重复", EN: "names item %v twice"},
		"inspection.items_missing":      {ZH: "请逐项检查：共 %v 项，只填写了 %v 项", EN: "must cover every item: %v items, %v given"},
		"inspection.not_assignee":       {ZH: "该员工不在本小区工作", EN: "does not work in this community"},
		"inspection.one_assignee":       {ZH: "请指定一名员工或一个班组，不能同时指定", EN: "give a staff member or a team, not both"},
		"inspection.bad_team":           {ZH: "班组应为保洁、秩序维护、工程或客服", EN: "must be CLEANER, SECURITY, ENGINEER or CUSTOMER_SERVICE"},
		"inspection.bad_deadline":       {ZH: "整改期限应在 30 天之内的将来", EN: "must be in the future, within 30 days"},
		"inspection.date_required":      {ZH: "单次检查请填写日期", EN: "is required for a one-off inspection"},
		"inspection.date_only_once":     {ZH: "只有单次检查需要日期", EN: "is only for a one-off inspection"},
		"inspection.not_inspector":      {ZH: "该员工不是本小区的品质专员或主管", EN: "is not an inspector or supervisor of this community"},
		"inspection.bad_window":         {ZH: "时间段无效：结束须晚于开始，且不超过 %v 天", EN: "must be after from, at most %v days later"},
		"inspection.schedule_not_found": {ZH: "检查计划不存在", EN: "Inspection schedule not found"},
		"inspection.schedule_ended":     {ZH: "该检查计划已于 %v 停止，之后完成的检查不能计入该计划", EN: "names a schedule ended at %v; an inspection done after that cannot count for it"},
		"inspection.own_score_only":     {ZH: "只能查看本人的检查得分", EN: "Staff may see only their own inspection score"},
	})
	lifecycle.Declare("inspection_tasks")
	mongo.Declare(
		mongo.Indexes{Collection: "inspection_templates", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "area", Value: 1}, {Key: "version", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "current", Value: 1}, {Key: "area", Value: 1}}},
		}},
		mongo.Indexes{Collection: "inspection_schedules", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
		mongo.Indexes{Collection: "inspections", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "idempotencyKey", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "area", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "doneAt", Value: 1}}},
			// Occurrences done (due.go): a community's scheduled inspections over a window.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "scheduleId", Value: 1}, {Key: "doneAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "inspection_tasks", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "area", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "assigneeStaffId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "assigneeTeam", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "inspectionId", Value: 1}}},
			// Open tasks by deadline, for the staff task lists.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "deadline", Value: 1}}},
		}},
	)
}

// manages: inspectors and supervisors of the community keep its checklists
// and record its inspections.
func manages(c *access.Caller, communityID string) bool {
	return c.IsStaff() && slices.Contains(c.Communities, communityID) && c.Has(access.Inspector, access.Supervisor)
}

// Manages is manages for the API.
func Manages(c *access.Caller, communityID string) bool { return manages(c, communityID) }

// MayReadInspectionFiles: an inspection's photos are for the community's
// inspectors and supervisors.
func MayReadInspectionFiles(c *access.Caller, x *Inspection) bool { return manages(c, x.CommunityID) }

// MayReadTaskFiles: a task's photos are for whoever sees the task.
func MayReadTaskFiles(c *access.Caller, t *Task) bool { return seesTask(c, t) }

// seesTask: managers, the assignee, and members of the assigned team.
func seesTask(c *access.Caller, t *Task) bool {
	if manages(c, t.CommunityID) {
		return true
	}
	if !c.IsStaff() || !slices.Contains(c.Communities, t.CommunityID) {
		return false
	}
	if t.AssigneeStaffID != "" {
		return t.AssigneeStaffID == c.ID
	}
	return c.Has(teamRoles(t.AssigneeTeam)...)
}
