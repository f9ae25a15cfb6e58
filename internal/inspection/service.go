package inspection

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/staff"
)

// StaffDirectory is what inspections need to know about staff: who a task
// may be given to, and which supervisors hear of an escalation.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Notifier sends notices (the notification engine).
type Notifier interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Service keeps checklists, inspections and corrective tasks.
type Service struct {
	templates *mgo.Collection
	schedules *mgo.Collection
	records   *mgo.Collection
	tasks     *mgo.Collection
	steps     *lifecycle.Store
	staff     StaffDirectory
	files     *files.Store
	notifier  Notifier
	defects   Defects
	log       *slog.Logger
	now       func() time.Time
	// zone is each community's time zone: its days, weeks and months
	// (schedules, score buckets) and the times notices name.
	zone func(communityID string) *time.Location
}

// WithZone has the service keep each community's calendar in its own time
// zone (the app's shared lookup); without it, UTC+8.
func (s *Service) WithZone(zone func(communityID string) *time.Location) *Service {
	s.zone = zone
	return s
}

func (s *Service) loc(communityID string) *time.Location {
	if s.zone != nil {
		if l := s.zone(communityID); l != nil {
			return l
		}
	}
	return cst
}

// NewService makes the service.
func NewService(db *mongo.DB, st StaffDirectory, fs *files.Store, n Notifier, log *slog.Logger, now func() time.Time) *Service {
	return &Service{
		templates: db.Collection("inspection_templates"), schedules: db.Collection("inspection_schedules"),
		records: db.Collection("inspections"), tasks: db.Collection("inspection_tasks"),
		steps: lifecycle.NewStore(db, "inspection_tasks", now),
		staff: st, files: fs, notifier: n, log: log, now: now,
	}
}

func checkArea(field string, a Area) error {
	if !slices.Contains(Areas, a) {
		return apperr.Invalid(field, "input.bad_value")
	}
	return nil
}

func (s *Service) mustManage(c *access.Caller, communityID string) error {
	if !manages(c, communityID) {
		// Other communities' staff, and residents, learn nothing of it.
		if !c.IsStaff() || !slices.Contains(c.Communities, communityID) {
			return ErrNotFound
		}
		return ErrForbidden
	}
	return nil
}

// FilePurpose marks photos of inspections and re-checks.
const FilePurpose = "inspection"

// MayReadFile: an inspection's photos are for the community's managers; a
// task's (its re-check photos and the failed item's) also for those the task
// is given to.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose {
		return false, nil
	}
	if manages(c, m.CommunityID) {
		return true, nil
	}
	// A failed item's photos belong to the inspection; its task's
	// assignees see them too.
	cur, err := s.tasks.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id", Value: m.SubjectID}}, bson.D{{Key: "inspectionId", Value: m.SubjectID}},
	}}}, options.Find().SetLimit(MaxItems))
	if err != nil {
		return false, fmt.Errorf("tasks of file subject %s: %w", m.SubjectID, err)
	}
	var ts []*Task
	if err := cur.All(ctx, &ts); err != nil {
		return false, fmt.Errorf("tasks of file subject %s: %w", m.SubjectID, err)
	}
	return slices.ContainsFunc(ts, func(t *Task) bool { return seesTask(c, t) }), nil
}
