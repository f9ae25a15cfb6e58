package serviceorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/household"
	"qinqing/internal/intake"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Households is what orders need from the register.
type Households interface {
	intake.Households
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
}

// Catalog is what orders need from the price lists.
type Catalog interface {
	Item(ctx context.Context, id string) (*catalog.Item, error)
	FreeCleaning(ctx context.Context, communityID string) (*catalog.Item, error)
}

// StaffDirectory is what orders need to know about staff.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Sender is the notification engine (laundry discrepancies to supervisors;
// the household's progress notices come from the engine's triggers).
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Config wires a Service.
type Config struct {
	DB         *mongo.DB
	Households Households
	Catalog    Catalog
	Staff      StaffDirectory
	Sender     Sender    // may be nil: no discrepancy notices
	Bus        Publisher // may be nil: no events
	// Zones is a community's time zone: slots are local dates and times.
	Zones func(communityID string) *time.Location
	Log   *slog.Logger
	Now   func() time.Time
}

// Service runs service orders.
type Service struct {
	col   *mgo.Collection
	steps *lifecycle.Store
	cfg   Config
	now   func() time.Time
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Zones == nil {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		cfg.Zones = func(string) *time.Location { return sh }
	}
	return &Service{col: cfg.DB.Collection("service_orders"), steps: lifecycle.NewStore(cfg.DB, "service_orders", cfg.Now), cfg: cfg, now: cfg.Now}
}

// SystemActor is the actor of steps the company's systems take (a granted
// free cleaning): recorded as staff, since the company is acting.
const SystemActor = "system"

// handles reports staff who receive and follow orders: the community's
// butlers and supervisors, and admins (as for repairs).
func handles(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor)
}

// canSee: the household's members, the community's handlers, and staff of
// the community ever assigned to the order.
func canSee(c *access.Caller, o *Order) bool {
	if _, ok := c.RoleIn(o.HouseholdID); ok {
		return true
	}
	if handles(c, o.CommunityID) {
		return true
	}
	if o.Intake != nil && o.Intake.FiledBy == c.ID && c.WorksIn(o.CommunityID) {
		return true // the front-desk staff member who booked it follows it
	}
	return c.WorksIn(o.CommunityID) && slices.Contains(o.AssigneeHistory, c.ID)
}

// actsForHousehold: owners and family members act for their household;
// tenants see its orders but do not book or pay for the owner.
func actsForHousehold(c *access.Caller, householdID string) bool {
	r, ok := c.RoleIn(householdID)
	return ok && (r == access.Owner || r == access.Family)
}

// Get returns an order the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Order, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	o, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(c, o) {
		return nil, ErrNotFound
	}
	return o, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Order, error) {
	return mongo.FindByID[Order](ctx, s.col, id, ErrNotFound)
}

// SlotInput is a date and window the caller picked.
type SlotInput struct {
	Date, From, To string
}

// BookInput is an owner's booking.
type BookInput struct {
	HouseholdID string
	ItemID      string
	Slot        SlotInput
	Quantity    float64 // 0 on a per-visit item means one visit
	Laundry     []LaundryItem
	Notes       string
	// Intake names the channel and, for staff booking on a resident's
	// behalf, the owner or family member who asked.
	Intake *intake.Input
}

// Book places an order for the caller's own household on an active item of
// its community, copying the item's name, price and unit.
func (s *Service) Book(ctx context.Context, c *access.Caller, in BookInput) (*Order, error) {
	h, f, err := intake.Resolve(ctx, s.cfg.Households, c, in.HouseholdID, in.Intake, s.now())
	if err != nil {
		return nil, err
	}
	if err := validate.ID("input.itemId", in.ItemID); err != nil {
		return nil, err
	}
	// Owners and family book and pay; a tenant does not, whoever files.
	if f.Role != access.Owner && f.Role != access.Family {
		return nil, apperr.ErrForbidden
	}
	it, err := s.cfg.Catalog.Item(ctx, in.ItemID)
	if err != nil || it.CommunityID != h.CommunityID {
		if err == nil || errors.Is(err, catalog.ErrNotFound) {
			return nil, catalog.ErrNotFound.WithField("input.itemId")
		}
		return nil, err
	}
	if !it.IsActive() {
		return nil, apperr.Invalid("input.itemId", "serviceorder.item_retired")
	}
	slot, err := s.slot(h.CommunityID, "input.slot", in.Slot)
	if err != nil {
		return nil, err
	}
	if !it.Fits(slot.Start.In(s.cfg.Zones(h.CommunityID)), slot.From, slot.To) {
		return nil, apperr.Invalid("input.slot", "serviceorder.outside_windows")
	}
	if !slot.Start.After(s.now()) {
		return nil, apperr.Invalid("input.slot.date", "serviceorder.slot_past")
	}
	o := newOrder(h, Line{ItemID: it.ID, Name: it.Name, Category: it.Category, Unit: it.Unit, PriceFen: it.PriceFen, Free: it.Free}, s.now().UTC())
	o.BookedBy, o.Slot, o.Intake = f.PersonID, slot, f.Record
	if o.Notes, err = validate.Text("input.notes", in.Notes, false, 500); err != nil {
		return nil, err
	}
	if err := o.setQuantity(in.Quantity, in.Laundry, "input"); err != nil {
		return nil, err
	}
	o.Timeline = []lifecycle.Entry{{At: o.BookedAt, Action: "book", To: string(Booked), ActorID: c.ID, ActorKind: string(c.Kind), Data: f.TimelineData()}}
	if _, err := s.col.InsertOne(ctx, o); err != nil {
		return nil, fmt.Errorf("insert service order: %w", err)
	}
	s.publish(ctx, c.ID, o, "book", "")
	return o, nil
}

func newOrder(h *household.Household, line Line, now time.Time) *Order {
	o := &Order{
		ID: mongo.NewID(), CommunityID: h.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID, HouseholdLabel: h.Label,
		Line: line, Quantity: 1, Status: Booked, AssigneeHistory: []string{}, Extras: []Extra{},
		Payment: Payment{Status: Unpaid}, BookedAt: now, UpdatedAt: now,
	}
	if line.Free {
		o.Payment.Status = Free
	}
	o.SortKey = page.NewestFirst(now, o.ID)
	return o
}

// setQuantity fills the quantity (and a laundry order's item list): a
// laundry order priced per item counts its items; a per-visit item without
// a quantity is one visit.
func (o *Order) setQuantity(q float64, items []LaundryItem, prefix string) error {
	if o.IsLaundry() {
		list, err := cleanLaundry(prefix+".laundryItems", items, true)
		if err != nil {
			return err
		}
		o.Laundry = &Laundry{Items: list}
		if o.Line.Unit == catalog.PerItem {
			q = float64(o.Laundry.Count())
		}
	} else if len(items) > 0 {
		return ErrNotLaundry.WithField(prefix + ".laundryItems")
	}
	if q == 0 && (o.Line.Unit == catalog.PerVisit || o.IsLaundry()) {
		q = 1
	}
	unit := o.Line.PriceFen
	if o.Line.Free {
		unit = 0
	}
	field := prefix + ".quantity"
	if o.IsLaundry() && o.Line.Unit == catalog.PerItem {
		field = prefix + ".laundryItems" // the count is the quantity
	}
	milli, err := validate.Quantity(field, q, 10000, unit)
	if err != nil {
		return err
	}
	o.Quantity = float64(milli) / 1000
	return nil
}

// slot checks a picked slot and computes its instants in the community's zone.
func (s *Service) slot(communityID, field string, in SlotInput) (*Slot, error) {
	loc := s.cfg.Zones(communityID)
	day, err := time.ParseInLocation("2006-01-02", in.Date, loc)
	if err != nil {
		return nil, apperr.Invalid(field+".date", "input.bad_date")
	}
	if !catalog.ValidClock(in.From) {
		return nil, apperr.Invalid(field+".from", "catalog.bad_clock")
	}
	if !catalog.ValidClock(in.To) {
		return nil, apperr.Invalid(field+".to", "catalog.bad_clock")
	}
	if in.To <= in.From {
		return nil, apperr.Invalid(field+".to", "catalog.bad_window")
	}
	at := func(hhmm string) time.Time {
		t, _ := time.Parse("15:04", hhmm)
		return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, loc).UTC()
	}
	return &Slot{Date: in.Date, From: in.From, To: in.To, Start: at(in.From), End: at(in.To)}, nil
}

// freeCleaningID is the id of the order granted for source: deriving it
// from the source makes the insert itself the idempotency guard, on
// MongoDB and FerretDB alike (partial unique indexes are not available).
func freeCleaningID(source string) string {
	h := sha256.Sum256([]byte("free-cleaning|" + source))
	return hex.EncodeToString(h[:12])
}

// FreeCleaningLine is the line of a granted cleaning when the community's
// price list has no free home-cleaning item.
const FreeCleaningLine = "装修完工免费保洁"

// CreateFreeCleaning grants the household a free home-cleaning order (the
// company's gift when a renovation is completed). It is called by other
// services, not by people: no caller checks. The same source never creates
// two orders; a repeated call returns the first order's id. The order is
// BOOKED without a slot: staff agree the time with the owner on confirming.
func (s *Service) CreateFreeCleaning(ctx context.Context, householdID, source, note string) (orderID string, err error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return "", err
	}
	if source, err = validate.Text("source", source, true, 200); err != nil {
		return "", err
	}
	if note, err = validate.Text("note", note, false, 500); err != nil {
		return "", err
	}
	id := freeCleaningID(source)
	if existing, err := s.byID(ctx, id); err == nil {
		return existing.ID, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	hs, err := s.cfg.Households.ByIDs(ctx, []string{householdID})
	if err != nil {
		return "", err
	}
	h := hs[householdID]
	if h == nil {
		return "", household.ErrNotFound
	}
	line := Line{Name: FreeCleaningLine, Category: catalog.HomeCleaning, Unit: catalog.PerVisit, Free: true}
	it, err := s.cfg.Catalog.FreeCleaning(ctx, h.CommunityID)
	if err != nil {
		return "", err
	}
	if it != nil {
		line = Line{ItemID: it.ID, Name: it.Name, Category: it.Category, Unit: it.Unit, Free: true}
	}
	o := newOrder(h, line, s.now().UTC())
	o.ID, o.Source, o.Notes = id, source, note
	o.SortKey = page.NewestFirst(o.BookedAt, o.ID)
	o.Timeline = []lifecycle.Entry{{At: o.BookedAt, Action: "grant", To: string(Booked), ActorID: SystemActor, ActorKind: string(auth.KindStaff),
		Note: note, Data: map[string]any{"source": source}}}
	if _, err := s.col.InsertOne(ctx, o); err != nil {
		if mongo.IsDuplicate(err) {
			return id, nil // a concurrent call granted it first
		}
		return "", fmt.Errorf("insert free cleaning: %w", err)
	}
	s.publish(ctx, SystemActor, o, "grant", "")
	return o.ID, nil
}

// publish tells listeners what happened. The keys the notification
// triggers read are documented on notify.Source. A failed publish is
// logged: the step itself is stored.
func (s *Service) publish(ctx context.Context, actorID string, o *Order, action, from string) {
	if s.cfg.Bus == nil {
		return
	}
	data := map[string]any{
		"action": action, "status": string(o.Status), "from": from, "version": o.Version,
		"summary": notify.Summary(o.Line.Name), "label": o.HouseholdLabel, "category": string(o.Line.Category),
		"reporterId": o.BookedBy, "ownerStaffId": o.HandlerID, "assigneeId": o.AssigneeID,
	}
	if o.Laundry != nil && o.Laundry.Discrepancy {
		data["discrepancy"] = true
	}
	err := s.cfg.Bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "serviceorder." + action, CommunityID: o.CommunityID, HouseholdID: o.HouseholdID, SubjectID: o.ID, ActorID: actorID, Data: data,
	})
	if err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "publish service order event", "order", o.ID, "action", action, "err", err)
	}
}
