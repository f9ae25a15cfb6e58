// Package facility owns the shared equipment of a community (lifts, water
// pumps, fire systems, generators, gates, CCTV, lighting), the maintenance
// plans that keep it running, and the work orders the plans raise on
// schedule. Work that disturbs residents (water or power off, a lift out of
// service, noise) is held to the community's work windows (零干扰: the hours
// when most residents are out) unless it is an emergency.
package facility

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Kind of equipment.
type Kind string

const (
	Lift       Kind = "LIFT"
	WaterPump  Kind = "WATER_PUMP"
	FireSystem Kind = "FIRE_SYSTEM"
	Generator  Kind = "GENERATOR"
	AccessGate Kind = "ACCESS_GATE"
	CCTV       Kind = "CCTV"
	Lighting   Kind = "LIGHTING"
	// PestControl is a pest-control point (消杀/四害防治点: bait station,
	// trap); its plans are the estate's 消杀 rounds.
	PestControl Kind = "PEST_CONTROL"
	OtherKind   Kind = "OTHER"
)

// Kinds lists the valid kinds.
var Kinds = []Kind{Lift, WaterPump, FireSystem, Generator, AccessGate, CCTV, Lighting, PestControl, OtherKind}

// Disturbance is what a piece of work takes from residents while it lasts.
type Disturbance string

const (
	WaterOff Disturbance = "WATER_OFF"
	PowerOff Disturbance = "POWER_OFF"
	LiftOut  Disturbance = "LIFT_OUT"
	Noise    Disturbance = "NOISE"
)

// Disturbances lists the valid disturbances.
var Disturbances = []Disturbance{WaterOff, PowerOff, LiftOut, Noise}

// Unit of a plan's interval.
type Unit string

const (
	Days   Unit = "DAY"
	Weeks  Unit = "WEEK"
	Months Unit = "MONTH"
)

// Equipment is one registered item of shared equipment.
type Equipment struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	Kind        Kind   `bson:"kind"`
	Name        string `bson:"name"`
	// Where it stands: a building, or a public area named in words
	// (地下车库, 水泵房); at least one of the two.
	BuildingID string `bson:"buildingId,omitempty"`
	Area       string `bson:"area,omitempty"`
	Supplier   string `bson:"supplier,omitempty"`
	// Dates are YYYY-MM-DD, community time.
	InstallDate   string `bson:"installDate,omitempty"`
	WarrantyUntil string `bson:"warrantyUntil,omitempty"`
	// Serves are the buildings whose residents lose something while it is
	// worked on: they, and only they, are told of outages.
	Serves    []string  `bson:"serves"`
	CreatedBy string    `bson:"createdBy"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	SortKey   string    `bson:"sortKey"`
}

// Plan is a maintenance plan of one item: every Every Units from Start, a
// work order with the checklist.
type Plan struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	EquipmentID string `bson:"equipmentId"`
	Title       string `bson:"title"`
	Every       int    `bson:"every"`
	Unit        Unit   `bson:"unit"`
	// Start is the first due date; NextDue the next date not yet raised.
	Start     string        `bson:"start"`
	NextDue   string        `bson:"nextDue"`
	Checklist []string      `bson:"checklist"`
	Disturbs  []Disturbance `bson:"disturbs"`
	// Minutes is how long the work takes (and residents go without).
	Minutes   int       `bson:"minutes"`
	Active    bool      `bson:"active"`
	UpdatedBy string    `bson:"updatedBy"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	SortKey   string    `bson:"sortKey"`
}

// Disturbing reports whether the plan's work takes something from residents.
func (p *Plan) Disturbing() bool { return len(p.Disturbs) > 0 }

// dueAfter is the due date following date.
func (p *Plan) dueAfter(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	switch p.Unit {
	case Weeks:
		t = t.AddDate(0, 0, 7*p.Every)
	case Months:
		t = addMonths(t, p.Every)
	default:
		t = t.AddDate(0, 0, p.Every)
	}
	return t.Format(time.DateOnly)
}

// addMonths keeps the day of the month, clamped to the month's last day
// (a lift serviced on the 31st is next due on 30 April, not 1 May).
func addMonths(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(t.Day(), last)-1)
}

// Status of a work order.
type Status string

const (
	Open Status = "OPEN"
	Done Status = "DONE"
)

// Machine: an open order is (re)scheduled any number of times, then done.
var Machine = lifecycle.Machine[Status]{
	"schedule": {From: []Status{Open}, To: Open},
	"complete": {From: []Status{Open}, To: Done},
}

// CheckResult is one checklist step as done.
type CheckResult struct {
	Step string `bson:"step"`
	OK   bool   `bson:"ok"`
	Note string `bson:"note,omitempty"`
}

// OrderKind is what raised a work order.
type OrderKind string

const (
	// Planned orders are raised by a maintenance plan on its due dates.
	Planned OrderKind = "PLANNED"
	// DefectFix orders fix a defect the handover inspection (承接查验)
	// found in a new community's shared parts (defect.go).
	DefectFix OrderKind = "DEFECT"
)

// Order is one maintenance work order.
type Order struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	// Kind is "" on orders raised before kinds existed: Planned.
	Kind        OrderKind `bson:"kind,omitempty"`
	PlanID      string    `bson:"planId,omitempty"`
	EquipmentID string    `bson:"equipmentId,omitempty"`
	// A defect order's finding, and who must fix it (a staff member, or
	// the engineers as a team).
	Defect          *Defect     `bson:"defect,omitempty"`
	AssigneeStaffID string      `bson:"assigneeStaffId,omitempty"`
	AssigneeTeam    access.Role `bson:"assigneeTeam,omitempty"`
	Title           string      `bson:"title"`
	// DueDate is the plan's date (YYYY-MM-DD, community time): an open
	// order past it is overdue.
	DueDate   string        `bson:"dueDate"`
	Checklist []string      `bson:"checklist"`
	Disturbs  []Disturbance `bson:"disturbs"`
	Minutes   int           `bson:"minutes"`
	Serves    []string      `bson:"serves"`
	Emergency bool          `bson:"emergency"`
	// ScheduledAt is when the work starts; disturbing work only inside a
	// work window unless Emergency.
	ScheduledAt *time.Time `bson:"scheduledAt,omitempty"`
	// NoticeDueAt is when the outage notice goes out (ScheduledAt less the
	// community's lead time); cleared once sent.
	NoticeDueAt    *time.Time        `bson:"noticeDueAt,omitempty"`
	NoticedAt      *time.Time        `bson:"noticedAt,omitempty"`
	RestoredDue    bool              `bson:"restoredDue"`
	Status         Status            `bson:"status"`
	Version        int               `bson:"version"`
	Results        []CheckResult     `bson:"results,omitempty"`
	Photos         []string          `bson:"photos,omitempty"`
	DoneAt         *time.Time        `bson:"doneAt,omitempty"`
	DoneBy         string            `bson:"doneBy,omitempty"`
	IdempotencyKey string            `bson:"idempotencyKey,omitempty"`
	CreatedAt      time.Time         `bson:"createdAt"`
	UpdatedAt      time.Time         `bson:"updatedAt"`
	Timeline       []lifecycle.Entry `bson:"timeline"`
	SortKey        string            `bson:"sortKey"` // due date then id
}

// Disturbing reports whether the work takes something from residents.
func (o *Order) Disturbing() bool { return len(o.Disturbs) > 0 }

// KindOf is the order's kind, Planned for orders stored before kinds.
func (o *Order) KindOf() OrderKind {
	if o.Kind == "" {
		return Planned
	}
	return o.Kind
}

// orderID is derived from the plan and the due date, so every server that
// raises the same due order inserts the same _id and only one succeeds.
func orderID(planID, due string) string { return "mo:" + planID + ":" + due }

var (
	ErrNotFound       = apperr.New(apperr.NotFound, "facility.not_found")
	ErrOutsideWindows = apperr.New(apperr.Conflict, "facility.outside_windows")
	ErrKeyUsed        = apperr.New(apperr.Conflict, "facility.key_used")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"facility.not_found":        {ZH: "设备、计划或工单不存在", EN: "Equipment, plan or work order not found"},
		"facility.outside_windows":  {ZH: "影响住户的作业只能安排在施工时段内（%s），紧急情况除外", EN: "Work that disturbs residents may only be planned within the work windows (%s) unless it is an emergency"},
		"facility.key_used":         {ZH: "该提交编号已用于其他工单", EN: "This idempotency key was already used for another work order"},
		"facility.bad_kind":         {ZH: "设备类型无效", EN: "is not a valid equipment kind"},
		"facility.no_location":      {ZH: "请填写所在楼栋或公共区域", EN: "needs a building or a public area"},
		"facility.bad_date":         {ZH: "日期格式应为 YYYY-MM-DD", EN: "must be a date (YYYY-MM-DD)"},
		"facility.bad_building":     {ZH: "楼栋不属于本小区", EN: "is not a building of this community"},
		"facility.bad_interval":     {ZH: "周期应为 1–%d 天、周或月", EN: "must be 1-%d days, weeks or months"},
		"facility.bad_disturbance":  {ZH: "影响类型无效", EN: "is not a valid disturbance"},
		"facility.bad_minutes":      {ZH: "作业时长应为 1–%d 分钟", EN: "must be 1-%d minutes"},
		"facility.bad_checklist":    {ZH: "检查项应为 1–%d 项，每项不超过 %d 字", EN: "must have 1-%d steps of at most %d characters"},
		"facility.bad_results":      {ZH: "须逐项填写检查结果，与工单检查项一致", EN: "must give one result for each step of the order's checklist"},
		"facility.bad_key":          {ZH: "提交编号应为 8–64 个字符", EN: "must be 8-64 characters"},
		"facility.windows_count":    {ZH: "施工时段应为 1–%d 段", EN: "must be 1-%d windows"},
		"facility.bad_time":         {ZH: "时间格式应为 HH:MM（00:00–23:59）", EN: "must be a time HH:MM (00:00-23:59)"},
		"facility.end_before_start": {ZH: "结束时间须晚于开始时间", EN: "must be after the start"},
		"facility.no_days":          {ZH: "请至少选择一天", EN: "must name at least one weekday"},
		"facility.bad_day":          {ZH: "星期应为 1（周一）至 7（周日）", EN: "must be weekdays 1 (Monday) to 7 (Sunday)"},
		"facility.windows_overlap":  {ZH: "第 %d 段与第 %d 段施工时段在同一天重叠", EN: "windows %d and %d overlap on a day"},
		"facility.past":             {ZH: "开始时间已过", EN: "is in the past"},
		"facility.bad_lead":         {ZH: "提前通知时间应为 1–%d 小时", EN: "must be 1-%d hours"},
	})
	lifecycle.Declare("maintenance_orders")
	mongo.Declare(
		mongo.Indexes{Collection: "equipment", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "kind", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
		mongo.Indexes{Collection: "maintenance_plans", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "equipmentId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// The scheduler: active plans by next due date.
			{Keys: bson.D{{Key: "active", Value: 1}, {Key: "nextDue", Value: 1}}},
		}},
		mongo.Indexes{Collection: "maintenance_orders", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Open (and overdue: open, due before today) in a community.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			// One kind of order (handover defects), open or not.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "kind", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "equipmentId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// The notice sweeps.
			{Keys: bson.D{{Key: "noticeDueAt", Value: 1}}},
			{Keys: bson.D{{Key: "restoredDue", Value: 1}}},
		}},
		// Completion keys by _id: a retried upload finds its order; by
		// claim time for the prune (pruneKeys).
		mongo.Indexes{Collection: "maintenance_keys", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "at", Value: 1}}},
		}},
		// Work window settings by community _id.
		mongo.Indexes{Collection: "facility_settings"},
	)
}
