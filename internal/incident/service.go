package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/announce"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/repair"
	"qinqing/internal/staff"
)

// Places checks the buildings an incident names.
type Places interface {
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Households checks the residents an incident names.
type Households interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	MembershipsByPersons(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Staff checks the staff an incident names.
type Staff interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Announcer publishes the EMERGENCY announcement.
type Announcer interface {
	Publish(ctx context.Context, c *access.Caller, in announce.Input) (*announce.Announcement, error)
}

// Repairs files the public-area repair.
type Repairs interface {
	Submit(ctx context.Context, c *access.Caller, in repair.SubmitInput) (*repair.Request, error)
}

// Config wires the service.
type Config struct {
	DB            *mongo.DB
	Places        Places
	Households    Households
	Staff         Staff
	Announcements Announcer
	Repairs       Repairs
	Sender        Sender // nil: nobody is told of a report
	// Zone is a community's time zone, in which a notice gives the time.
	Zone func(communityID string) *time.Location
	Log  *slog.Logger
	Now  func() time.Time
}

// Service keeps incidents.
type Service struct {
	cfg   Config
	col   *mgo.Collection
	steps *lifecycle.Store
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg, col: cfg.DB.Collection("incidents"), steps: lifecycle.NewStore(cfg.DB, "incidents", cfg.Now)}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// ActionInput is one action as recorded.
type ActionInput struct {
	At   time.Time
	Text string
}

// ReporterInput is who reported it: Kind says which of the rest is given.
type ReporterInput struct {
	Kind     ReporterKind
	StaffID  string
	PersonID string
	Name     string
	Phone    string
}

// ResidentInput is a resident involved: a household of the community and,
// when known, the member.
type ResidentInput struct {
	HouseholdID string
	PersonID    string
}

// ReportInput is an incident as a phone uploads it.
type ReportInput struct {
	CommunityID         string
	Type                Type
	OccurredAt          time.Time
	BuildingIDs         []string
	Location            string
	Description         string
	Reporter            *ReporterInput // nil: the caller reported it
	NotifiedStaffIDs    []string
	NotifiedParties     []string
	Actions             []ActionInput
	PoliceCalledAt      *time.Time
	FireServiceCalledAt *time.Time
	Residents           []ResidentInput
	HealthDetails       string
	IdempotencyKey      string
}

// Report records an incident. Retried with the same key it returns the
// first record; a key the caller used for another community is refused.
func (s *Service) Report(ctx context.Context, c *access.Caller, in ReportInput) (*Incident, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !MayReport(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	key, err := validate.Text("input.idempotencyKey", in.IdempotencyKey, true, 64)
	if err != nil {
		return nil, err
	}
	if prev, err := s.byKey(ctx, c, key, in.CommunityID); prev != nil || err != nil {
		if err != nil {
			return nil, err
		}
		if err := s.notifyReported(ctx, prev); err != nil {
			return nil, err
		}
		return prev, nil
	}
	x, err := s.build(ctx, c, in)
	if err != nil {
		return nil, err
	}
	x.IdempotencyKey = key
	if _, err := s.col.InsertOne(ctx, x); err != nil {
		if mongo.IsDuplicate(err) {
			// The same upload racing itself: the other one recorded it.
			return s.byKey(ctx, c, key, in.CommunityID)
		}
		return nil, fmt.Errorf("insert incident: %w", err)
	}
	// A failed notice fails the upload, so the phone retries it: the
	// incident is recorded once and the notice, keyed by it, sent once.
	if err := s.notifyReported(ctx, x); err != nil {
		return nil, err
	}
	return x, nil
}

func (s *Service) byKey(ctx context.Context, c *access.Caller, key, communityID string) (*Incident, error) {
	var x Incident
	err := s.col.FindOne(ctx, bson.D{{Key: "recordedBy", Value: c.ID}, {Key: "idempotencyKey", Value: key}}).Decode(&x)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read incident by key: %w", err)
	}
	if x.CommunityID != communityID {
		return nil, ErrKeyReused.WithField("input.idempotencyKey")
	}
	return &x, nil
}

func (s *Service) build(ctx context.Context, c *access.Caller, in ReportInput) (*Incident, error) {
	now := s.now()
	if !slices.Contains(Types, in.Type) {
		return nil, apperr.Invalid("input.type", "input.bad_value")
	}
	occurred := in.OccurredAt.UTC()
	if err := s.checkTime("input.occurredAt", occurred, time.Time{}); err != nil {
		return nil, err
	}
	x := &Incident{ID: mongo.NewID(), CommunityID: in.CommunityID, Type: in.Type, OccurredAt: occurred, RecordedBy: c.ID,
		RecordedAt: now, Status: Open, UpdatedAt: now, Actions: []Action{}, Residents: []Resident{}}
	x.SortKey = page.NewestFirst(occurred, x.ID)
	var err error
	x.BuildingIDs = []string{}
	if len(in.BuildingIDs) > 0 {
		if x.BuildingIDs, err = s.cfg.Places.CheckBuildings(ctx, "input.buildingIds", in.CommunityID, in.BuildingIDs, MaxBuildings); err != nil {
			return nil, err
		}
	}
	if x.Location, err = validate.Text("input.location", in.Location, true, 100); err != nil {
		return nil, err
	}
	if x.Description, err = validate.Text("input.description", in.Description, true, MaxSummary); err != nil {
		return nil, err
	}
	if x.HealthDetails, err = validate.Text("input.healthDetails", in.HealthDetails, false, MaxText); err != nil {
		return nil, err
	}
	if x.Reporter, err = s.reporter(ctx, c, in.CommunityID, in.Reporter); err != nil {
		return nil, err
	}
	if x.NotifiedStaffIDs, err = s.staffOf(ctx, "input.notifiedStaffIds", in.CommunityID, in.NotifiedStaffIDs); err != nil {
		return nil, err
	}
	if x.NotifiedParties, err = validate.List("input.notifiedParties", in.NotifiedParties, MaxNotified, MaxPartyChars); err != nil {
		return nil, err
	}
	if x.Residents, err = s.residents(ctx, in.CommunityID, in.Residents); err != nil {
		return nil, err
	}
	if len(in.Actions) > MaxActions {
		return nil, apperr.Invalid("input.actions", "input.too_many", MaxActions)
	}
	for i, a := range in.Actions {
		act, err := s.action(fmt.Sprintf("input.actions.%d", i), c, a, occurred)
		if err != nil {
			return nil, err
		}
		x.Actions = append(x.Actions, act)
	}
	if x.PoliceCalledAt, err = s.calledAt("input.policeCalledAt", in.PoliceCalledAt, occurred); err != nil {
		return nil, err
	}
	if x.FireServiceCalledAt, err = s.calledAt("input.fireServiceCalledAt", in.FireServiceCalledAt, occurred); err != nil {
		return nil, err
	}
	x.StaffIDs = union([]string{c.ID, x.Reporter.StaffID}, x.NotifiedStaffIDs)
	x.Timeline = []lifecycle.Entry{{At: now, Action: "report", To: string(Open), ActorID: c.ID, ActorKind: string(c.Kind),
		Data: map[string]any{"idempotencyKey": in.IdempotencyKey}}}
	return x, nil
}

// checkTime bounds a phone's time: not ahead beyond the skew, not older
// than a week, not before notBefore (when the incident occurred).
func (s *Service) checkTime(field string, t, notBefore time.Time) error {
	now := s.now()
	if err := validate.Offline(field, t, now); err != nil {
		return err
	}
	switch {
	case t.Before(notBefore):
		return apperr.Invalid(field, "incident.before_occurred")
	}
	return nil
}

func (s *Service) action(field string, c *access.Caller, a ActionInput, occurred time.Time) (Action, error) {
	text, err := validate.Text(field+".text", a.Text, true, MaxText)
	if err != nil {
		return Action{}, err
	}
	at := a.At.UTC()
	if err := s.checkTime(field+".at", at, occurred); err != nil {
		return Action{}, err
	}
	return Action{At: at, Text: text, ActorID: c.ID, RecordedAt: s.now()}, nil
}

func (s *Service) calledAt(field string, t *time.Time, occurred time.Time) (*time.Time, error) {
	if t == nil {
		return nil, nil
	}
	u := t.UTC()
	if err := s.checkTime(field, u, occurred); err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *Service) reporter(ctx context.Context, c *access.Caller, communityID string, in *ReporterInput) (Reporter, error) {
	if in == nil {
		return Reporter{Kind: ByStaff, StaffID: c.ID}, nil
	}
	bad := apperr.Invalid("input.reporter", "incident.one_reporter")
	switch in.Kind {
	case ByStaff:
		if in.StaffID == "" || in.PersonID != "" || in.Name != "" || in.Phone != "" {
			return Reporter{}, bad
		}
		ids, err := s.staffOf(ctx, "input.reporter.staffId", communityID, []string{in.StaffID})
		if err != nil {
			return Reporter{}, err
		}
		return Reporter{Kind: ByStaff, StaffID: ids[0]}, nil
	case ByResident:
		if in.PersonID == "" || in.StaffID != "" || in.Name != "" || in.Phone != "" {
			return Reporter{}, bad
		}
		if err := validate.ID("input.reporter.personId", in.PersonID); err != nil {
			return Reporter{}, err
		}
		ms, err := s.cfg.Households.MembershipsByPersons(ctx, []string{in.PersonID})
		if err != nil {
			return Reporter{}, fmt.Errorf("incident reporter: %w", err)
		}
		if !slices.ContainsFunc(ms[in.PersonID], func(m *household.Membership) bool { return m.CommunityID == communityID }) {
			return Reporter{}, apperr.Invalid("input.reporter.personId", "incident.not_resident")
		}
		return Reporter{Kind: ByResident, PersonID: in.PersonID}, nil
	case ByCaller:
		if in.StaffID != "" || in.PersonID != "" {
			return Reporter{}, bad
		}
		name, err := validate.Text("input.reporter.name", in.Name, true, 40)
		if err != nil {
			return Reporter{}, err
		}
		// A caller may give a landline (居委会, a shop): not only mobiles.
		phone, err := validate.Text("input.reporter.phone", in.Phone, true, 20)
		if err != nil {
			return Reporter{}, err
		}
		return Reporter{Kind: ByCaller, Name: name, Phone: phone}, nil
	}
	return Reporter{}, apperr.Invalid("input.reporter.kind", "input.bad_value")
}

// staffOf checks ids are staff of the community, without repeats.
func (s *Service) staffOf(ctx context.Context, field, communityID string, ids []string) ([]string, error) {
	if err := validate.IDs(field, ids, MaxNotified); err != nil {
		return nil, err
	}
	out := union(nil, ids)
	if len(out) == 0 {
		return out, nil
	}
	found, err := s.cfg.Staff.ByIDs(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("incident staff: %w", err)
	}
	for _, id := range out {
		if st := found[id]; st == nil || !st.Active || !slices.Contains(st.CommunityIDs, communityID) {
			return nil, apperr.Invalid(field, "incident.not_staff")
		}
	}
	return out, nil
}

// residents checks each household is of the community and each person a
// member of it: two round trips for the lot.
func (s *Service) residents(ctx context.Context, communityID string, in []ResidentInput) ([]Resident, error) {
	if len(in) > MaxResidents {
		return nil, apperr.Invalid("input.residents", "input.too_many", MaxResidents)
	}
	out := []Resident{}
	if len(in) == 0 {
		return out, nil
	}
	ids := make([]string, len(in))
	for i, r := range in {
		if err := validate.ID(fmt.Sprintf("input.residents.%d.householdId", i), r.HouseholdID); err != nil {
			return nil, err
		}
		if r.PersonID != "" {
			if err := validate.ID(fmt.Sprintf("input.residents.%d.personId", i), r.PersonID); err != nil {
				return nil, err
			}
		}
		ids[i] = r.HouseholdID
	}
	hs, err := s.cfg.Households.ByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("incident households: %w", err)
	}
	ms, err := s.cfg.Households.MembershipsByHouseholds(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("incident members: %w", err)
	}
	for i, r := range in {
		h := hs[r.HouseholdID]
		if h == nil || h.CommunityID != communityID {
			return nil, apperr.Invalid(fmt.Sprintf("input.residents.%d.householdId", i), "common.not_found")
		}
		if r.PersonID != "" && !slices.ContainsFunc(ms[h.ID], func(m *household.Membership) bool { return m.PersonID == r.PersonID }) {
			return nil, apperr.Invalid(fmt.Sprintf("input.residents.%d.personId", i), "incident.not_member")
		}
		res := Resident{PersonID: r.PersonID, HouseholdID: h.ID, BuildingID: h.BuildingID}
		if !slices.Contains(out, res) {
			out = append(out, res)
		}
	}
	return out, nil
}

// union appends to a the ids of b not yet in it, skipping "".
func union(a, b []string) []string {
	out := []string{}
	for _, id := range append(append([]string{}, a...), b...) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Get loads an incident the caller may see; others get NOT_FOUND, so an id
// of another community tells nothing.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Incident, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Incident](ctx, s.col, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !Sees(c, x) {
		return nil, ErrNotFound
	}
	return x, nil
}
