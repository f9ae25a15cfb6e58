// Package tasks is the butler's task list (管家待办): one list per butler of
// what is owed to the households in their care. Some tasks are written down
// when something happens (a congratulation visit after a move-in, the move-in
// callback a week later); the others are read live from where they are owed
// (repair and service-order callbacks, follow-ups promised on a visit), so the
// list can never disagree with the records it points at.
package tasks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Kind is what a task is.
type Kind string

// Kinds of task.
const (
	RepairCallback       Kind = "REPAIR_CALLBACK"        // 报修回访
	ServiceOrderCallback Kind = "SERVICE_ORDER_CALLBACK" // 有偿服务回访
	VisitFollowUp        Kind = "VISIT_FOLLOW_UP"        // 走访承诺的跟进
	CongratulationVisit  Kind = "CONGRATULATION_VISIT"   // 入住登门祝贺
	MoveInCallback       Kind = "MOVE_IN_CALLBACK"       // 入住回访
	EnquiryOverdue       Kind = "ENQUIRY_OVERDUE"        // 咨询超时未答复
	FeeReminderCall      Kind = "FEE_REMINDER_CALL"      // 催缴电话或上门
	MaintenanceOverdue   Kind = "MAINTENANCE_OVERDUE"    // 超期未保养 (maintenance.go)
	HandoverDefect       Kind = "HANDOVER_DEFECT"        // 承接查验整改 (maintenance.go)
)

// written are the kinds stored here; the others are completed where they
// are owed (recording the callback, closing the follow-up).
var written = []Kind{CongratulationVisit, MoveInCallback}

// Task is one thing a butler owes.
type Task struct {
	ID          string     `bson:"_id"` // the writer's key; "<kind>:<subject>" for live ones
	Kind        Kind       `bson:"kind"`
	CommunityID string     `bson:"communityId"`
	BuildingID  string     `bson:"buildingId"`
	HouseholdID string     `bson:"householdId"`
	SubjectID   string     `bson:"subjectId,omitempty"` // repair, order or visit id
	Title       string     `bson:"title"`
	DueAt       time.Time  `bson:"dueAt"`
	CreatedAt   time.Time  `bson:"createdAt"`
	DoneAt      *time.Time `bson:"doneAt,omitempty"`
	DoneBy      string     `bson:"doneBy,omitempty"`
	Note        string     `bson:"note,omitempty"`
	// StaffID is who owes a live task by name (the 首问 owner of a repair,
	// the butler who promised a follow-up), besides the household's butler.
	StaffID string `bson:"-"`
	// PersonID is the resident a live task calls (who reported the repair,
	// booked the order or asked the question): the list shows when they
	// prefer to be called.
	PersonID string `bson:"-"`
	// Team: a live task owed by every member of these roles in its
	// community (overdue maintenance by its supervisors, a defect by its
	// engineers), besides StaffID by name.
	Team    []access.Role `bson:"-"`
	Overdue bool          `bson:"-"`
}

var (
	ErrNotFound      = apperr.New(apperr.NotFound, "tasks.not_found")
	ErrDone          = apperr.New(apperr.Conflict, "tasks.done")
	ErrCompleteThere = apperr.New(apperr.BadUserInput, "tasks.complete_there")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"tasks.not_found":      {ZH: "待办不存在", EN: "No such task"},
		"tasks.done":           {ZH: "该待办已完成", EN: "This task is already done"},
		"tasks.complete_there": {ZH: "请在对应的报修、服务单或走访记录上办理，办理后待办自动消失", EN: "Complete this where it is owed (the repair, order or visit); it then leaves the list"},
	})
	mongo.Declare(mongo.Indexes{Collection: "butler_tasks", Models: []mgo.IndexModel{
		// A butler's open list: the community's open tasks in their buildings.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "doneAt", Value: 1}, {Key: "dueAt", Value: 1}}},
		// Reminders: open tasks come due and not yet announced.
		{Keys: bson.D{{Key: "doneAt", Value: 1}, {Key: "remindedAt", Value: 1}, {Key: "dueAt", Value: 1}}},
	}})
}

// Source reads live tasks owed in one community.
type Source interface {
	Owed(ctx context.Context, communityID string, limit int) ([]*Task, error)
}

// Households finds households for scoping.
type Households interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
}

// Staff finds a butler whose list a supervisor opens.
type Staff interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
}

// Service keeps and assembles the lists.
type Service struct {
	col        *mgo.Collection
	households Households
	staff      Staff
	sources    []Source
	now        func() time.Time
}

// NewService makes the service; sources are read live on every list.
func NewService(db *mongo.DB, households Households, st Staff, now func() time.Time, sources ...Source) *Service {
	return &Service{col: db.Collection("butler_tasks"), households: households, staff: st, sources: sources, now: now}
}

// AddSource adds a live source (wiring order lets later services register).
func (s *Service) AddSource(src Source) { s.sources = append(s.sources, src) }

// AddButlerTask writes a task down once: key names it, and a second call
// with the same key (another server, a retried tick) changes nothing.
func (s *Service) AddButlerTask(ctx context.Context, key, kind, communityID, householdID, title string, due time.Time) error {
	if !slices.Contains(written, Kind(kind)) {
		return fmt.Errorf("tasks: kind %q is not written down", kind)
	}
	hs, err := s.households.ByIDs(ctx, []string{householdID})
	if err != nil {
		return err
	}
	h := hs[householdID]
	if h == nil || h.CommunityID != communityID {
		return fmt.Errorf("tasks: household %s not in community %s", householdID, communityID)
	}
	t := Task{ID: key, Kind: Kind(kind), CommunityID: communityID, BuildingID: h.BuildingID, HouseholdID: householdID,
		Title: title, DueAt: due.UTC(), CreatedAt: s.now().UTC()}
	if _, err := s.col.InsertOne(ctx, t); err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("add butler task %s: %w", key, err)
	}
	return nil
}

// List is one page of a butler's list, with the overdue count of the whole
// list (the page's Total is the whole list's size).
type List struct {
	page.Page[*Task]
	Overdue int
}

// perSource bounds what one community's source contributes to one list.
const perSource = 500

// Key is a task's place on the list and its cursor: due time, then id, as
// text whose byte order is that order (fixed-width milliseconds shifted to
// stay positive). The list is merged in Go from several sources, so only a
// key made of the task's own fields keeps a cursor valid between requests.
func Key(t *Task) string {
	return fmt.Sprintf("%019d|%s", t.DueAt.UnixMilli()+1<<62, t.ID)
}

// For returns one page of the open tasks of staff member butlerID ("" for
// the caller), earliest due first, with the totals. Staff open their own
// list (a butler's is mostly owed to households; a supervisor's and an
// engineer's to their team); a supervisor opens the list of a staff member
// of a community they supervise. Staff of other communities get NOT_FOUND.
func (s *Service) For(ctx context.Context, c *access.Caller, butlerID string, p page.Request) (*List, error) {
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	sc, err := s.scope(ctx, c, butlerID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var all []*Task
	for _, community := range sc.communities {
		cur, err := s.col.Find(ctx, bson.D{{Key: "communityId", Value: community}, {Key: "doneAt", Value: nil}},
			options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(perSource))
		if err != nil {
			return nil, fmt.Errorf("butler tasks: %w", err)
		}
		var stored []*Task
		if err := cur.All(ctx, &stored); err != nil {
			return nil, fmt.Errorf("butler tasks: %w", err)
		}
		all = append(all, stored...)
		for _, src := range s.sources {
			live, err := src.Owed(ctx, community, perSource)
			if err != nil {
				return nil, err
			}
			all = append(all, live...)
		}
	}
	mine, err := s.inScope(ctx, sc, all)
	if err != nil {
		return nil, err
	}
	keys := make(map[*Task]string, len(mine))
	for _, t := range mine {
		keys[t] = Key(t)
	}
	sort.Slice(mine, func(i, j int) bool { return keys[mine[i]] < keys[mine[j]] })
	out := &List{}
	from := 0
	for i, t := range mine {
		t.Overdue = now.After(t.DueAt)
		if t.Overdue {
			out.Overdue++
		}
		if keys[t] < p.After {
			from = i + 1
		}
	}
	out.Page = page.Trim(mine[from:], p, func(t *Task) string { return keys[t] })
	out.Total = len(mine)
	return out, nil
}

// scope is whose list, and what it covers.
type scope struct {
	staffID     string
	roles       []access.Role
	communities []string
	buildings   []string
	households  []string
}

func (s *Service) scope(ctx context.Context, c *access.Caller, butlerID string) (*scope, error) {
	// Every staff member has a list (inspections owe to cleaners and
	// inspectors too); households are a butler's or the front desk's care.
	if butlerID == "" || butlerID == c.ID {
		sc := &scope{staffID: c.ID, roles: c.Roles, communities: c.Communities}
		if c.Has(access.Butler, access.CustomerService) {
			sc.buildings, sc.households = c.Buildings, c.Households
		}
		return sc, nil
	}
	if err := validate.ID("butlerId", butlerID); err != nil {
		return nil, err
	}
	b, err := s.staff.Get(ctx, butlerID)
	if err != nil {
		return nil, ErrNotFound
	}
	var shared []string
	for _, id := range b.CommunityIDs {
		if c.SupervisesIn(id) {
			shared = append(shared, id)
		}
	}
	if len(shared) == 0 {
		// Not a butler of any community the caller supervises: as if absent.
		return nil, ErrNotFound
	}
	sc := &scope{staffID: b.ID, roles: b.Roles, communities: shared}
	if slices.Contains(b.Roles, access.Butler) || slices.Contains(b.Roles, access.CustomerService) {
		sc.buildings, sc.households = b.BuildingIDs, b.HouseholdIDs
	}
	return sc, nil
}

// inScope keeps the tasks of households in the butler's care, and live ones
// owed by the butler by name.
func (s *Service) inScope(ctx context.Context, sc *scope, all []*Task) ([]*Task, error) {
	var missing []string
	for _, t := range all {
		if t.BuildingID == "" && t.HouseholdID != "" {
			missing = append(missing, t.HouseholdID)
		}
	}
	if len(missing) > 0 {
		hs, err := s.households.ByIDs(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if h := hs[t.HouseholdID]; t.BuildingID == "" && h != nil {
				t.BuildingID = h.BuildingID
			}
		}
	}
	var out []*Task
	for _, t := range all {
		if (t.Kind == RepairCallback || t.Kind == EnquiryOverdue) && t.StaffID != "" {
			// The callback belongs to the request's owner (首问责任制): only
			// they (or a supervisor) may record it, so only their list owes it.
			if t.StaffID == sc.staffID {
				out = append(out, t)
			}
			continue
		}
		inTeam := slices.ContainsFunc(t.Team, func(r access.Role) bool { return slices.Contains(sc.roles, r) })
		if (t.StaffID != "" && t.StaffID == sc.staffID) || inTeam || slices.Contains(sc.buildings, t.BuildingID) || slices.Contains(sc.households, t.HouseholdID) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Complete marks a written task done. The household's butler and the
// community's supervisors may; live tasks are completed where they are owed.
func (s *Service) Complete(ctx context.Context, c *access.Caller, id, note string) (*Task, error) {
	note, err := validate.Text("note", note, false, 500)
	if err != nil {
		return nil, err
	}
	var t Task
	if err := s.col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&t); err != nil {
		if err == mgo.ErrNoDocuments {
			if isLive(id) && c.IsStaff() {
				return nil, ErrCompleteThere
			}
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("butler task %s: %w", id, err)
	}
	ref := access.HouseholdRef{ID: t.HouseholdID, CommunityID: t.CommunityID, BuildingID: t.BuildingID}
	if !c.ButlerOf(ref) && !c.SupervisesIn(t.CommunityID) {
		if c.WorksIn(t.CommunityID) {
			return nil, apperr.ErrForbidden
		}
		return nil, ErrNotFound
	}
	if t.DoneAt != nil {
		return nil, ErrDone
	}
	now := s.now().UTC()
	res, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "doneAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "doneAt", Value: now}, {Key: "doneBy", Value: c.ID}, {Key: "note", Value: note}}}})
	if err != nil {
		return nil, fmt.Errorf("complete butler task %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrDone
	}
	t.DoneAt, t.DoneBy, t.Note = &now, c.ID, note
	return &t, nil
}

func isLive(id string) bool {
	for _, k := range []Kind{RepairCallback, ServiceOrderCallback, VisitFollowUp, EnquiryOverdue, MaintenanceOverdue, HandoverDefect, CorrectiveFix, InspectionRecheck, InspectionDue, CommitteeAction} {
		if strings.HasPrefix(id, string(k)+":") {
			return true
		}
	}
	return false
}
