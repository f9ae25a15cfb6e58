package facility

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Buildings checks that served buildings belong to the community.
type Buildings interface {
	BuildingsByIDs(ctx context.Context, ids []string) (map[string]*community.Building, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Files stores completion photos (internal/platform/files).
type Files interface {
	SaveImages(ctx context.Context, field string, ups []files.Upload, m files.Meta) ([]string, error)
	DeleteAll(ctx context.Context, ids []string)
}

// Config wires a Service. Without Sender and Residents no notices go out.
type Config struct {
	DB        *mongo.DB
	Buildings Buildings
	Files     Files
	Sender    Sender
	Residents Residents
	Zone      func(communityID string) *time.Location
	Log       *slog.Logger
	Now       func() time.Time
}

// Service is the equipment register, the plans and their work orders.
type Service struct {
	cfg       Config
	equipment *mgo.Collection
	plans     *mgo.Collection
	orders    *mgo.Collection
	keys      *mgo.Collection
	settings  *mgo.Collection
	steps     *lifecycle.Store
	tickMu    sync.Mutex
}

// NewService builds the service.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Zone == nil {
		loc, _ := time.LoadLocation(community.DefaultTimeZone)
		cfg.Zone = func(string) *time.Location { return loc }
	}
	return &Service{cfg: cfg, equipment: cfg.DB.Collection("equipment"), plans: cfg.DB.Collection("maintenance_plans"),
		orders: cfg.DB.Collection("maintenance_orders"), keys: cfg.DB.Collection("maintenance_keys"),
		settings: cfg.DB.Collection("facility_settings"), steps: lifecycle.NewStore(cfg.DB, "maintenance_orders", cfg.Now)}
}

// Access: supervisors of a community manage its equipment, plans and
// windows; its engineers see them and complete work orders. Anyone else
// (another community included) is told the thing does not exist.
func manages(c *access.Caller, communityID string) bool { return c.SupervisesIn(communityID) }

func sees(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || c.StaffIn(communityID, access.Engineer)
}

// seesOrder: those who see the community's orders; for a defect order also
// whoever it is given to (a named staff member, or its team) and the
// community's inspectors, who found it and follow it up.
func seesOrder(c *access.Caller, o *Order) bool {
	return sees(c, o.CommunityID) || (o.AssigneeStaffID != "" && o.AssigneeStaffID == c.ID && c.WorksIn(o.CommunityID)) ||
		(o.AssigneeTeam != "" && c.StaffIn(o.CommunityID, o.AssigneeTeam)) || (o.Defect != nil && c.StaffIn(o.CommunityID, access.Inspector))
}

func (s *Service) today(communityID string) string {
	return s.cfg.Now().In(s.cfg.Zone(communityID)).Format(time.DateOnly)
}

// EquipmentInput registers an item.
type EquipmentInput struct {
	CommunityID   string
	Kind          Kind
	Name          string
	BuildingID    string
	Area          string
	Supplier      string
	InstallDate   string
	WarrantyUntil string
	Serves        []string
}

// maxServes bounds the buildings one item serves (a community's pumps may
// serve all of them).
const maxServes = 200

// RegisterEquipment adds an item to a community's register.
func (s *Service) RegisterEquipment(ctx context.Context, c *access.Caller, in EquipmentInput) (*Equipment, error) {
	if !manages(c, in.CommunityID) {
		return nil, ErrNotFound
	}
	if !slices.Contains(Kinds, in.Kind) {
		return nil, apperr.Invalid("input.kind", "facility.bad_kind")
	}
	var err error
	if in.Name, err = validate.Text("input.name", in.Name, true, 60); err != nil {
		return nil, err
	}
	if in.Area, err = validate.Text("input.area", in.Area, false, 60); err != nil {
		return nil, err
	}
	if in.Supplier, err = validate.Text("input.supplier", in.Supplier, false, 100); err != nil {
		return nil, err
	}
	if in.BuildingID == "" && in.Area == "" {
		return nil, apperr.Invalid("input.area", "facility.no_location")
	}
	for field, d := range map[string]string{"input.installDate": in.InstallDate, "input.warrantyUntil": in.WarrantyUntil} {
		if d != "" && !isDate(d) {
			return nil, apperr.Invalid(field, "facility.bad_date")
		}
	}
	if err := validate.IDs("input.serves", in.Serves, maxServes); err != nil {
		return nil, err
	}
	check := slices.Clone(in.Serves)
	if in.BuildingID != "" {
		if err := validate.ID("input.buildingId", in.BuildingID); err != nil {
			return nil, err
		}
		check = append(check, in.BuildingID)
	}
	if err := s.ownBuildings(ctx, in.CommunityID, check); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	id := mongo.NewID()
	e := &Equipment{ID: id, CommunityID: in.CommunityID, Kind: in.Kind, Name: in.Name, BuildingID: in.BuildingID, Area: in.Area,
		Supplier: in.Supplier, InstallDate: in.InstallDate, WarrantyUntil: in.WarrantyUntil, Serves: dedupe(in.Serves),
		CreatedBy: c.ID, CreatedAt: now, UpdatedAt: now, SortKey: id}
	if _, err := s.equipment.InsertOne(ctx, e); err != nil {
		return nil, fmt.Errorf("register equipment: %w", err)
	}
	return e, nil
}

// ownBuildings refuses a building of another community, naming the field.
func (s *Service) ownBuildings(ctx context.Context, communityID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	bs, err := s.cfg.Buildings.BuildingsByIDs(ctx, dedupe(ids))
	if err != nil {
		return fmt.Errorf("equipment buildings: %w", err)
	}
	for _, id := range ids {
		if b := bs[id]; b == nil || b.CommunityID != communityID {
			return apperr.Invalid("input.serves", "facility.bad_building")
		}
	}
	return nil
}

// EquipmentFilter narrows the register.
type EquipmentFilter struct {
	CommunityID string
	Kind        Kind
}

// ListEquipment is one page of a community's register, oldest first.
func (s *Service) ListEquipment(ctx context.Context, c *access.Caller, f EquipmentFilter, p page.Request) (page.Page[*Equipment], error) {
	if !sees(c, f.CommunityID) {
		return page.Page[*Equipment]{}, ErrNotFound
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.Kind != "" {
		q = append(q, bson.E{Key: "kind", Value: f.Kind})
	}
	return mongo.FindPage(ctx, s.equipment, q, p, mongo.PageQuery{}, func(e *Equipment) string { return e.SortKey })
}

// GetEquipment loads an item the caller may see.
func (s *Service) GetEquipment(ctx context.Context, c *access.Caller, id string) (*Equipment, error) {
	if !mongo.ValidID(id) {
		return nil, ErrNotFound
	}
	e, err := mongo.FindByID[Equipment](ctx, s.equipment, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !sees(c, e.CommunityID) {
		return nil, ErrNotFound
	}
	return e, nil
}

// EquipmentByIDs loads items by id (the API's loader); access is the
// caller's business.
func (s *Service) EquipmentByIDs(ctx context.Context, ids []string) (map[string]*Equipment, error) {
	return mongo.ByIDs(ctx, s.equipment, ids, func(e *Equipment) string { return e.ID })
}

func isDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

func dedupe(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) warn(ctx context.Context, what, id string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		s.cfg.Log.WarnContext(ctx, what+" failed", "id", id, "err", err)
	}
}
