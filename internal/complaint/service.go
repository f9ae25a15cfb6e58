package complaint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/intake"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Households is what complaints need from the register.
type Households interface {
	intake.Households
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// StaffDirectory is what complaints need to know about staff: who a
// complaint may be handed over to, and whom it may name.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
}

// Service runs the complaint loop.
type Service struct {
	staff      StaffDirectory
	col        *mgo.Collection
	steps      *lifecycle.Store
	households Households
	files      *files.Store
	bus        Publisher
	log        *slog.Logger
	now        func() time.Time
}

// NewService makes the service.
func NewService(db *mongo.DB, households Households, fs *files.Store, bus Publisher, log *slog.Logger, now func() time.Time) *Service {
	return &Service{
		col: db.Collection("complaints"), steps: lifecycle.NewStore(db, "complaints", now),
		households: households, files: fs, bus: bus, log: log, now: now,
	}
}

// WithStaff gives the service the staff directory hand-overs check their
// target against.
func (s *Service) WithStaff(d StaffDirectory) *Service {
	s.staff = d
	return s
}

// handles reports staff who receive and follow complaints: butlers and
// supervisors of the community, and admins. Engineers, security and cleaners
// never see complaints (some are about them).
func handles(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor)
}

// canSee: the complainant's household, and the community's handlers.
func canSee(c *access.Caller, x *Complaint) bool {
	if _, ok := c.RoleIn(x.HouseholdID); ok {
		return true
	}
	// The front-desk staff member who filed it follows what became of it.
	if x.Intake != nil && x.Intake.FiledBy == c.ID && c.WorksIn(x.CommunityID) {
		return true
	}
	return handles(c, x.CommunityID)
}

// Identity is who made complaint x, as far as c may know: the complainant
// and their household, or visible=false when c may not learn them. Anyone
// who may see a named complaint sees who made it; an anonymous complaint's
// maker is known only to their own household and to the supervisors of the
// community — not to butlers, not to admins.
func Identity(c *access.Caller, x *Complaint) (complainantID, householdID string, visible bool) {
	if !identityVisible(c, x) || x.ComplainantID == "" {
		return "", "", false
	}
	return x.ComplainantID, x.HouseholdID, true
}

func identityVisible(c *access.Caller, x *Complaint) bool {
	if !canSee(c, x) {
		return false
	}
	if !x.Anonymous {
		return true
	}
	if _, ok := c.RoleIn(x.HouseholdID); ok {
		return true
	}
	return c.SupervisesIn(x.CommunityID)
}

// redact returns x as c may see it: without the staff it concerns for
// anyone but the community's staff (see hideConcerns), and for a caller who may not learn who made
// an anonymous complaint, a copy without the complainant, household and
// building, and with the complainant's own timeline steps unattributed. So
// no field of a returned complaint can leak the identity, whatever reads it.
func redact(c *access.Caller, x *Complaint) *Complaint {
	return hideConcerns(c, hideIdentity(c, x))
}

func hideIdentity(c *access.Caller, x *Complaint) *Complaint {
	if identityVisible(c, x) {
		return x
	}
	y := *x
	y.ComplainantID, y.HouseholdID, y.BuildingID = "", "", ""
	y.Timeline = make([]lifecycle.Entry, len(x.Timeline))
	for i, e := range x.Timeline {
		if e.ActorKind == string(auth.KindPerson) {
			e.ActorID = ""
		}
		y.Timeline[i] = e
	}
	return &y
}

// Get returns a complaint the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Complaint, error) {
	x, err := s.get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return redact(c, x), nil
}

// get is Get without redaction, for the steps.
func (s *Service) get(ctx context.Context, c *access.Caller, id string) (*Complaint, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(c, x) {
		return nil, ErrNotFound
	}
	return x, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Complaint, error) {
	return mongo.FindByID[Complaint](ctx, s.col, id, ErrNotFound)
}

// Overdue reports whether x waits for acknowledgement past its deadline, by
// the service's clock.
func (s *Service) Overdue(x *Complaint) bool { return x.Overdue(s.now()) }

// SubmitInput is a resident's complaint.
type SubmitInput struct {
	HouseholdID string
	Category    Category
	Severity    Severity // NORMAL when empty
	Description string
	Anonymous   bool
	Photos      []files.Upload
	// Intake names the channel and, for staff filing on a resident's
	// behalf, the member who complains (package intake decides who may).
	Intake *intake.Input
}

// Submit records a complaint made by a member of the household.
func (s *Service) Submit(ctx context.Context, c *access.Caller, in SubmitInput) (*Complaint, error) {
	h, f, err := intake.Resolve(ctx, s.households, c, in.HouseholdID, in.Intake, s.now())
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Categories, in.Category) {
		return nil, apperr.Invalid("input.category", "input.bad_value")
	}
	if in.Severity == "" {
		in.Severity = Normal
	}
	if !slices.Contains(Severities, in.Severity) {
		return nil, apperr.Invalid("input.severity", "input.bad_value")
	}
	desc, err := validate.Text("input.description", in.Description, true, 1000)
	if err != nil {
		return nil, err
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	now := s.now().UTC()
	x := &Complaint{
		ID: mongo.NewID(), CommunityID: h.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID, ComplainantID: f.PersonID, Intake: f.Record,
		Category: in.Category, Severity: in.Severity, Description: desc, Anonymous: in.Anonymous,
		Status: Received, Round: 1, Replies: []Reply{}, Callbacks: []Callback{},
		RespondBy: now.Add(ResponseTime[in.Severity]), SubmittedAt: now, UpdatedAt: now,
	}
	x.NextDeadline = &x.RespondBy
	x.SortKey = page.NewestFirst(now, x.ID)
	if x.Photos, err = s.savePhotos(ctx, c, x, "input.photos", in.Photos); err != nil {
		return nil, err
	}
	x.Timeline = []lifecycle.Entry{{At: now, Action: "submit", From: "", To: string(Received), ActorID: c.ID, ActorKind: string(c.Kind), Data: f.TimelineData()}}
	if _, err := s.col.InsertOne(ctx, x); err != nil {
		s.dropFiles(ctx, x.Photos)
		return nil, fmt.Errorf("insert complaint: %w", err)
	}
	s.publish(ctx, c, x, "submit", "")
	return x, nil
}

// FilePurpose marks photos of complaints.
const FilePurpose = "complaint"

// savePhotos stores images for complaint x; all or none: a bad photo
// removes the ones already stored.
func (s *Service) savePhotos(ctx context.Context, c *access.Caller, x *Complaint, field string, ups []files.Upload) ([]string, error) {
	return s.files.SaveImages(ctx, field, ups, files.Meta{Purpose: FilePurpose, SubjectID: x.ID, CommunityID: x.CommunityID, UploadedBy: c.ID})
}

func (s *Service) dropFiles(ctx context.Context, ids []string) { s.files.DeleteAll(ctx, ids) }

// MayReadFile: a complaint's photos are for those who may see it.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose {
		return false, nil
	}
	x, err := s.byID(ctx, m.SubjectID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return canSee(c, x), nil
}

// MayReadFiles is MayReadFile's rule for a complaint in hand: the API
// issues signed URLs of its photos only when it holds.
func MayReadFiles(c *access.Caller, x *Complaint) bool { return canSee(c, x) }

// publish tells everyone listening what just happened. An anonymous
// complaint's event names neither the complainant nor the household: staff
// can follow a household's events, and must not learn from them who
// complained. A failed publish is logged: the step itself is stored.
func (s *Service) publish(ctx context.Context, c *access.Caller, x *Complaint, action, from string) {
	if s.bus == nil {
		return
	}
	data := map[string]any{
		"action": action, "status": string(x.Status), "from": from, "round": x.Round,
		"handlerStaffId": x.HandlerStaffID, "category": string(x.Category), "severity": string(x.Severity),
		"anonymous": x.Anonymous, "version": x.Version,
	}
	e := events.Event{Type: "complaint." + action, CommunityID: x.CommunityID, SubjectID: x.ID, ActorID: c.ID, Data: data}
	if !x.Anonymous {
		// What the complainant's progress notices need (notify.Source): who
		// to tell and what to quote. The description stays out of anonymous
		// events too: it may say who wrote it.
		data["complainantId"], data["reporterId"], data["summary"] = x.ComplainantID, x.ComplainantID, notify.Summary(x.Description)
		e.HouseholdID = x.HouseholdID
	} else if c.IsPerson() {
		e.ActorID = "" // the complainant's own steps (submit, withdraw)
	}
	if err := s.bus.Publish(context.WithoutCancel(ctx), e); err != nil && s.log != nil {
		s.log.WarnContext(ctx, "publish complaint event", "complaint", x.ID, "action", action, "err", err)
	}
}
