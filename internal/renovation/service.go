package renovation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Households is what renovations need from the register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	Scope(ctx context.Context, c *access.Caller, communityID, householdID string) (bson.D, bool, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// CleaningOrders makes the free home cleaning given when a renovation is
// completed. The orders service implements it; it is idempotent by source.
type CleaningOrders interface {
	CreateFreeCleaning(ctx context.Context, householdID, source, note string) (orderID string, err error)
}

// Config wires a Service. Cleaning may be nil until the orders service is
// wired: completed renovations then wait with their cleaning order pending.
type Config struct {
	DB         *mongo.DB
	Households Households
	Files      *files.Store
	Bus        Publisher
	Sender     Sender
	Cleaning   CleaningOrders
	// Zone is a community's time zone: dates are community dates.
	Zone func(communityID string) *time.Location
	Log  *slog.Logger
	Now  func() time.Time
}

// Service runs renovations.
type Service struct {
	col        *mgo.Collection
	steps      *lifecycle.Store
	households Households
	files      *files.Store
	bus        Publisher
	sender     Sender
	cleaning   CleaningOrders
	zone       func(string) *time.Location
	log        *slog.Logger
	now        func() time.Time
	tickMu     sync.Mutex
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	zone := cfg.Zone
	if zone == nil {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		zone = func(string) *time.Location { return sh }
	}
	return &Service{
		col: cfg.DB.Collection("renovations"), steps: lifecycle.NewStore(cfg.DB, "renovations", cfg.Now),
		households: cfg.Households, files: cfg.Files, bus: cfg.Bus, sender: cfg.Sender, cleaning: cfg.Cleaning,
		zone: zone, log: cfg.Log, now: cfg.Now,
	}
}

// canSee: the household's members and staff of the community. The same
// rule guards the workers' personal data (see MayReadWorkers).
func canSee(c *access.Caller, r *Renovation) bool {
	if _, ok := c.RoleIn(r.HouseholdID); ok {
		return true
	}
	return c.WorksIn(r.CommunityID)
}

// MayReadWorkers: workers' names, phones and ID-card numbers are for the
// applicant household and staff of the community only. The API asks this
// again on the field, so no future list or feed that carries renovations can
// leak them.
func MayReadWorkers(c *access.Caller, r *Renovation) bool { return canSee(c, r) }

// MayReadFiles is MayReadFile's rule for a renovation in hand: the API
// issues signed URLs of its documents and inspection photos only when it holds.
func MayReadFiles(c *access.Caller, r *Renovation) bool { return canSee(c, r) }

// Get returns a renovation the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Renovation, error) {
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

func (s *Service) byID(ctx context.Context, id string) (*Renovation, error) {
	return mongo.FindByID[Renovation](ctx, s.col, id, ErrNotFound)
}

// ownerOf checks the caller is an owner of the household: applications and
// extensions commit the household, which family and tenants may not.
// Outsiders get NOT_FOUND (the household's existence is not revealed).
func ownerOf(c *access.Caller, householdID string) error {
	role, ok := c.RoleIn(householdID)
	switch {
	case !ok && c.IsPerson():
		return household.ErrNotFound
	case !ok:
		return apperr.ErrForbidden // staff do not apply for residents
	case role != access.Owner:
		return ErrOwnerOnly
	}
	return nil
}

// Apply records an owner's application for their household.
func (s *Service) Apply(ctx context.Context, c *access.Caller, householdID string, in Application) (*Renovation, error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	if err := ownerOf(c, householdID); err != nil {
		return nil, err
	}
	h, err := s.households.Get(ctx, c, householdID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	app, err := checkApplication(in, s.today(h.CommunityID))
	if err != nil {
		return nil, err
	}
	r := &Renovation{
		ID: mongo.NewID(), CommunityID: h.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID, ApplicantID: c.ID,
		Status: Submitted, Reviews: []Review{}, Inspections: []Inspection{}, Extensions: []Extension{},
		SubmittedAt: now, UpdatedAt: now,
	}
	app.applyTo(r)
	r.SortKey = page.NewestFirst(now, r.ID)
	if r.Documents, err = s.saveDocuments(ctx, c, r, in.Documents, Documents{}); err != nil {
		return nil, err
	}
	r.Timeline = []lifecycle.Entry{{At: now, Action: "apply", From: "", To: string(Submitted), ActorID: c.ID, ActorKind: string(c.Kind)}}
	if _, err := s.col.InsertOne(ctx, r); err != nil {
		s.files.DeleteAll(ctx, newPhotos(r.Documents, Documents{}))
		return nil, fmt.Errorf("insert renovation: %w", err)
	}
	s.publish(ctx, c, r, "apply", "")
	return r, nil
}

// FilePurpose marks document and inspection photos of renovations.
const FilePurpose = "renovation"

// MayReadFile: a renovation's photos are for those who may see it.
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
	return canSee(c, r), nil
}

func (s *Service) meta(c *access.Caller, r *Renovation) files.Meta {
	return files.Meta{Purpose: FilePurpose, SubjectID: r.ID, CommunityID: r.CommunityID, UploadedBy: c.ID}
}

// saveDocuments stores the checklist's new photos, all or none; a document
// without a new photo keeps its previous one while it stays provided.
func (s *Service) saveDocuments(ctx context.Context, c *access.Caller, r *Renovation, in DocumentsInput, prev Documents) (Documents, error) {
	out := Documents{}
	type slot struct {
		field string
		in    DocumentInput
		prev  Document
		out   *Document
	}
	slots := []slot{
		{"input.documents.agreement", in.Agreement, prev.Agreement, &out.Agreement},
		{"input.documents.fireSafetyPledge", in.FireSafetyPledge, prev.FireSafetyPledge, &out.FireSafetyPledge},
		{"input.documents.waterproofingTest", in.WaterproofingTest, prev.WaterproofingTest, &out.WaterproofingTest},
	}
	var saved []string
	for _, sl := range slots {
		*sl.out = Document{Provided: sl.in.Provided}
		if sl.in.Provided && sl.prev.Provided {
			sl.out.PhotoID = sl.prev.PhotoID
		}
		if sl.in.Photo == nil {
			continue
		}
		f, err := s.files.SaveImage(ctx, sl.field+".photo", sl.in.Photo.Filename, sl.in.Photo.Content, s.meta(c, r))
		if err != nil {
			s.files.DeleteAll(ctx, saved)
			return Documents{}, err
		}
		saved = append(saved, f.ID)
		sl.out.PhotoID = f.ID
	}
	return out, nil
}

// newPhotos are the photo ids of docs that prev did not have.
func newPhotos(docs, prev Documents) []string {
	var out []string
	for _, p := range [][2]string{
		{docs.Agreement.PhotoID, prev.Agreement.PhotoID},
		{docs.FireSafetyPledge.PhotoID, prev.FireSafetyPledge.PhotoID},
		{docs.WaterproofingTest.PhotoID, prev.WaterproofingTest.PhotoID},
	} {
		if p[0] != "" && p[0] != p[1] {
			out = append(out, p[0])
		}
	}
	return out
}

// publish tells listeners what just happened. Workers' data never goes on
// the spine. A failed publish is logged: the step itself is stored.
func (s *Service) publish(ctx context.Context, c *access.Caller, r *Renovation, action, from string) {
	if s.bus == nil {
		return
	}
	err := s.bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "renovation." + action, CommunityID: r.CommunityID, HouseholdID: r.HouseholdID, SubjectID: r.ID, ActorID: c.ID,
		Data: map[string]any{"action": action, "status": string(r.Status), "from": from, "version": r.Version, "summary": summary(r.Scope)},
	})
	if err != nil && s.log != nil {
		s.log.WarnContext(ctx, "publish renovation event", "renovation", r.ID, "action", action, "err", err)
	}
}

// summary is the short scope text notices and events quote.
func summary(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}

// today is the community's current date.
func (s *Service) today(communityID string) string {
	return s.now().In(s.zone(communityID)).Format(time.DateOnly)
}
