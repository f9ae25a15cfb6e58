package repair

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Households is what repairs need from the register.
type Households interface {
	intake.Households
	intake.PersonMembers
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
}

// StaffDirectory is what repairs need to know about staff.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Service runs the repair loop.
type Service struct {
	col        *mgo.Collection
	deadlines  *mgo.Collection
	steps      *lifecycle.Store
	households Households
	places     Places
	staff      StaffDirectory
	files      *files.Store
	bus        Publisher
	log        *slog.Logger
	now        func() time.Time
}

// NewService makes the service.
func NewService(db *mongo.DB, households Households, staffDir StaffDirectory, fs *files.Store, bus Publisher, log *slog.Logger, now func() time.Time) *Service {
	return &Service{
		col: db.Collection("repair_requests"), deadlines: db.Collection("repair_deadlines"),
		steps: lifecycle.NewStore(db, "repair_requests", now), households: households, staff: staffDir,
		files: fs, bus: bus, log: log, now: now,
	}
}

// Handles reports staff who receive and follow requests: butlers (customer
// service) and supervisors of the community, and admins.
func handles(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor)
}

// canSee: the household's members, the community's butlers and supervisors,
// engineers who were ever dispatched to it, and the staff member who filed
// it for the household (FileForHousehold) while they work there.
func canSee(c *access.Caller, r *Request) bool {
	if _, ok := c.RoleIn(r.HouseholdID); ok {
		return true
	}
	if handles(c, r.CommunityID) {
		return true
	}
	if r.FiledByStaffID != "" && r.FiledByStaffID == c.ID && c.WorksIn(r.CommunityID) {
		return true
	}
	if c.StaffIn(r.CommunityID, access.Engineer) && slices.Contains(r.EngineerHistory, c.ID) {
		return true
	}
	// Residents follow a public-area fault through the public view
	// (PublicList), never this one: it carries notes and staff contacts.
	return false
}

// Get returns a request the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Request, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	r, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(c, r) {
		return nil, ErrNotFound
	}
	return r, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Request, error) {
	return mongo.FindByID[Request](ctx, s.col, id, ErrNotFound)
}

// Load reads a request without an access check; callers apply Visible. A
// live event's request is loaded once and shown to each subscriber who may
// see it.
func (s *Service) Load(ctx context.Context, id string) (*Request, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	return s.byID(ctx, id)
}

// Visible is Get's rule for a request already loaded.
func (s *Service) Visible(c *access.Caller, r *Request) error {
	if !canSee(c, r) {
		return ErrNotFound
	}
	return nil
}

// SubmitInput is an owner's report, or anyone's report of a fault in a
// public area (PublicArea instead of HouseholdID: exactly one of the two).
type SubmitInput struct {
	HouseholdID   string
	PublicArea    *PublicAreaInput
	Category      Category
	Description   string
	InHome        bool
	Place         string
	Urgency       Urgency
	PreferredFrom *time.Time
	PreferredTo   *time.Time
	Photos        []files.Upload
	// Intake names the channel and, for staff filing on a resident's
	// behalf, the member who asked (package intake decides who may).
	Intake *intake.Input

	public *PublicArea // the validated PublicArea, for create
}

// Submit records a fault reported by a member of the household, or filed on
// a member's behalf by front-desk staff, butlers or supervisors (the member
// is then its reporter as if they had filed it), or a fault in a public area
// reported by anyone on site (staff of the community) or a resident of the
// community.
func (s *Service) Submit(ctx context.Context, c *access.Caller, in SubmitInput) (*Request, error) {
	switch {
	case in.PublicArea != nil && in.HouseholdID != "":
		return nil, ErrHouseholdOrArea.WithField("input.publicArea")
	case in.PublicArea == nil && in.HouseholdID == "":
		return nil, ErrHouseholdOrArea.WithField("input.householdId")
	case in.PublicArea != nil:
		return s.submitPublic(ctx, c, in)
	}
	h, f, err := intake.Resolve(ctx, s.households, c, in.HouseholdID, in.Intake, s.now())
	if err != nil {
		return nil, err
	}
	fl := filing{person: f.PersonID, intake: f.Record, data: f.TimelineData()}
	if f.ByStaff() {
		fl.staffID = c.ID
	}
	return s.create(ctx, c, h, in, fl)
}

// filing says who put a request on record when it was not a member of the
// household: staff on the household's behalf (FileForHousehold), with the id
// derived from the source so the same source never files twice.
type filing struct {
	id, staffID, source string
	// person is the member the request is for when staff file it through
	// the intake: its reporter; intake and data record how it came in.
	person string
	intake *intake.Record
	data   map[string]any
}

// create validates a report for household h and stores it: the one path
// every request is submitted by, whoever files it.
func (s *Service) create(ctx context.Context, c *access.Caller, h *household.Household, in SubmitInput, f filing) (*Request, error) {
	if !slices.Contains(Categories, in.Category) {
		return nil, apperr.Invalid("input.category", "input.bad_value")
	}
	if in.Urgency == "" {
		in.Urgency = Normal
	}
	if !slices.Contains(Urgencies, in.Urgency) {
		return nil, apperr.Invalid("input.urgency", "input.bad_value")
	}
	desc, err := validate.Text("input.description", in.Description, true, 1000)
	if err != nil {
		return nil, err
	}
	place, err := validate.Text("input.place", in.Place, !in.InHome, 100)
	if err != nil {
		if !in.InHome && place == "" {
			return nil, apperr.Invalid("input.place", "repair.place_required")
		}
		return nil, err
	}
	if (in.PreferredFrom == nil) != (in.PreferredTo == nil) || (in.PreferredFrom != nil && !in.PreferredTo.After(*in.PreferredFrom)) {
		return nil, apperr.Invalid("input.preferredWindow", "repair.bad_window")
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	now := s.now().UTC()
	dl, err := s.deadlinesFor(ctx, h.CommunityID, in.Urgency)
	if err != nil {
		return nil, err
	}
	id, reporter := mongo.NewID(), c.ID
	if f.staffID != "" {
		id, reporter = f.id, "" // the reporter is a resident; staff are recorded as the filer
	}
	if f.person != "" {
		reporter = f.person
	}
	if id == "" {
		id = mongo.NewID()
	}
	r := &Request{
		ID: id, CommunityID: h.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID, ReporterID: reporter,
		FiledByStaffID: f.staffID, Source: f.source, Intake: f.intake,
		Category: in.Category, Description: desc, Location: Location{InHome: in.InHome, Place: place}, Public: in.public, Urgency: in.Urgency,
		PreferredFrom: in.PreferredFrom, PreferredTo: in.PreferredTo, Status: Submitted, Round: 1,
		WorkOrders: []WorkOrder{}, Acceptances: []Acceptance{}, Callbacks: []Callback{}, EngineerHistory: []string{},
		Deadlines:   Deadlines{RespondBy: now.Add(dl.Respond), ArriveBy: now.Add(dl.Arrive), FinishBy: now.Add(dl.Finish)},
		SubmittedAt: now, UpdatedAt: now,
	}
	r.NextDeadline = &r.Deadlines.RespondBy
	r.SortKey = page.NewestFirst(now, r.ID)
	if r.Photos, err = s.savePhotos(ctx, c, r, "input.photos", in.Photos); err != nil {
		return nil, err
	}
	r.Timeline = []lifecycle.Entry{{At: now, Action: "submit", From: "", To: string(Submitted), ActorID: c.ID, ActorKind: string(c.Kind), Data: f.data}}
	if _, err := s.col.InsertOne(ctx, r); err != nil {
		s.dropFiles(ctx, r.Photos)
		if f.source != "" && mongo.IsDuplicate(err) {
			return s.filedFrom(ctx, h.ID, f) // a retry of the same source: the request already filed
		}
		return nil, fmt.Errorf("insert repair request: %w", err)
	}
	s.publish(ctx, c, r, "submit", "")
	return r, nil
}

// savePhotos stores images for request r; all or none: a bad photo removes
// the ones already stored.
func (s *Service) savePhotos(ctx context.Context, c *access.Caller, r *Request, field string, ups []files.Upload) ([]string, error) {
	return s.files.SaveImages(ctx, field, ups, files.Meta{Purpose: FilePurpose, SubjectID: r.ID, CommunityID: r.CommunityID, UploadedBy: c.ID})
}

func (s *Service) dropFiles(ctx context.Context, ids []string) { s.files.DeleteAll(ctx, ids) }

// FilePurpose marks photos and signatures of repair requests.
const FilePurpose = "repair"

// MayReadFile: a request's photos and signatures are for those who may see it.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose {
		return false, nil
	}
	r, err := s.byID(ctx, m.SubjectID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if canSee(c, r) {
		return true, nil
	}
	return s.mayReadReportedPhoto(ctx, c, r, m)
}

// MayReadFiles is MayReadFile's rule for a request in hand: the API issues
// signed URLs of its photos and signatures only when it holds.
func MayReadFiles(c *access.Caller, r *Request) bool { return canSee(c, r) }

// publish tells everyone listening what just happened: who did what, the new
// state, and whose request it is. A failed publish is logged: the step
// itself is stored.
func (s *Service) publish(ctx context.Context, c *access.Caller, r *Request, action, from string) {
	if s.bus == nil {
		return
	}
	data := map[string]any{
		"action": action, "status": string(r.Status), "from": from, "round": r.Round,
		"reporterId": r.ReporterID, "ownerStaffId": r.OwnerStaffID, "engineerId": r.EngineerID,
		"urgency": string(r.Urgency), "category": string(r.Category), "version": r.Version, "summary": summary(r.Description),
	}
	err := s.bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "repair." + action, CommunityID: r.CommunityID, HouseholdID: r.HouseholdID, SubjectID: r.ID, ActorID: c.ID, Data: data,
	})
	if err != nil && s.log != nil {
		s.log.WarnContext(ctx, "publish repair event", "request", r.ID, "action", action, "err", err)
	}
}

var (
	mgoErrNoDocuments = mgo.ErrNoDocuments
	optUpsert         = options.UpdateOne().SetUpsert(true)
)

// summary is the short description notices quote.
func summary(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}
