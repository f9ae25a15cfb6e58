package moving

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
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/intake"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Households is what moves need from the register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	Scope(ctx context.Context, c *access.Caller, communityID, householdID string) (bson.D, bool, error)
}

// Buildings names buildings in notices.
type Buildings interface {
	BuildingsByIDs(ctx context.Context, ids []string) (map[string]*community.Building, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// ButlerTasks is the butler's task list (internal/tasks implements it); it is
// idempotent by key.
type ButlerTasks interface {
	AddButlerTask(ctx context.Context, key, kind, communityID, householdID, title string, due time.Time) error
}

// Config wires a Service. Tasks may be nil until the task list is wired:
// moves in then keep their tasks pending, and get them once it is.
type Config struct {
	DB         *mongo.DB
	Households Households
	Buildings  Buildings
	Bus        Publisher
	Sender     Sender
	Tasks      ButlerTasks
	Zone       func(communityID string) *time.Location
	Log        *slog.Logger
	Now        func() time.Time
}

// Service runs move bookings.
type Service struct {
	col, cells *mgo.Collection
	steps      *lifecycle.Store
	cfg        Config
	tickMu     sync.Mutex
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Zone == nil {
		sh, _ := time.LoadLocation(community.DefaultTimeZone)
		cfg.Zone = func(string) *time.Location { return sh }
	}
	return &Service{col: cfg.DB.Collection("move_bookings"), cells: cfg.DB.Collection("move_lift_cells"),
		steps: lifecycle.NewStore(cfg.DB, "move_bookings", cfg.Now), cfg: cfg}
}

func canSee(c *access.Caller, b *Booking) bool {
	if _, ok := c.RoleIn(b.HouseholdID); ok {
		return true
	}
	return c.WorksIn(b.CommunityID)
}

// Get returns a booking the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Booking, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	b, err := mongo.FindByID[Booking](ctx, s.col, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !canSee(c, b) {
		return nil, ErrNotFound
	}
	return b, nil
}

// BookInput is a household's request for the lift.
type BookInput struct {
	HouseholdID string
	Date        string
	From, To    string // HH:MM
	Lift        string
	LargeItems  []string
	Direction   Direction
	Note        string
	// Intake names the channel and, for staff booking on a resident's
	// behalf, the member who asked (package intake decides who may).
	Intake *intake.Input
}

// Book reserves the household's building's lift. Any member may book (tenants
// move in and out as often as owners); front-desk staff, butlers and
// supervisors book for a member who asks, under the same rules.
func (s *Service) Book(ctx context.Context, c *access.Caller, in BookInput) (*Booking, error) {
	h, f, err := intake.Resolve(ctx, s.cfg.Households, c, in.HouseholdID, in.Intake, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if in.Direction != MoveIn && in.Direction != MoveOut {
		return nil, apperr.Invalid("input.direction", "input.bad_value")
	}
	lift, err := validate.Text("input.lift", in.Lift, true, 20)
	if err != nil {
		return nil, err
	}
	items, err := validate.List("input.largeItems", in.LargeItems, 30, 50)
	if err != nil {
		return nil, err
	}
	note, err := validate.Text("input.note", in.Note, false, 200)
	if err != nil {
		return nil, err
	}
	loc := s.cfg.Zone(h.CommunityID)
	now := s.cfg.Now()
	today := now.In(loc).Format(time.DateOnly)
	d, err := time.Parse(time.DateOnly, in.Date)
	if err != nil || in.Date < today || d.Sub(mustDate(today)) > MaxDaysAhead*24*time.Hour {
		return nil, apperr.Invalid("input.date", "moving.bad_date", MaxDaysAhead)
	}
	from, ok1 := minutes(in.From)
	to, ok2 := minutes(in.To)
	if !ok1 || !ok2 || from%CellMinutes != 0 || to%CellMinutes != 0 || from < EarliestStart || to > LatestEnd || to <= from || to-from > MaxWindow {
		return nil, apperr.Invalid("input.window", "moving.bad_window")
	}
	b := &Booking{
		ID: mongo.NewID(), CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID, BookedBy: f.PersonID, Intake: f.Record,
		Date: in.Date, From: in.From, To: in.To, Lift: lift, LiftKey: liftKey(lift), LargeItems: items, Direction: in.Direction,
		Note: note, Status: Booked, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	if !b.Start(loc).After(now) {
		return nil, apperr.Invalid("input.from", "moving.past_window")
	}
	b.Cells = cellIDs(b.BuildingID, b.LiftKey, b.Date, from, to)
	b.SortKey = b.Date + "|" + b.From + "|" + b.ID
	b.Timeline = []lifecycle.Entry{{At: b.CreatedAt, Action: "book", To: string(Booked), ActorID: c.ID, ActorKind: string(c.Kind), Data: f.TimelineData()}}
	if err := s.claim(ctx, b); err != nil {
		return nil, err
	}
	if _, err := s.col.InsertOne(ctx, b); err != nil {
		s.release(ctx, b)
		return nil, fmt.Errorf("insert move booking: %w", err)
	}
	s.publish(ctx, c, b, "book")
	return b, nil
}

func mustDate(d string) time.Time {
	t, _ := time.Parse(time.DateOnly, d)
	return t
}

// abandonedAfter is how long a claim may exist without its booking before
// another booking may take the cell: its writer died between claim and insert.
const abandonedAfter = time.Minute

// claim takes every cell of b's window with one ordered insert (atomic per
// cell on MongoDB and FerretDB alike, stopping at the first taken cell), or
// none: on a taken cell it releases its own and reports the holder's window.
// A cell left behind by a cancelled booking, or by a booking whose writer
// died before storing it, is freed and the claim tried again.
func (s *Service) claim(ctx context.Context, b *Booking) error {
	docs := make([]any, len(b.Cells))
	for i, id := range b.Cells {
		docs[i] = cell{ID: id, BookingID: b.ID, Date: b.Date, From: b.From, To: b.To, ClaimedAt: b.CreatedAt}
	}
	for attempt := 0; attempt < 3; attempt++ {
		_, err := s.cells.InsertMany(ctx, docs)
		if err == nil {
			return nil
		}
		s.release(ctx, b)
		var bwe mgo.BulkWriteException
		if !mongo.IsDuplicate(err) || !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 {
			return fmt.Errorf("claim lift cells: %w", err)
		}
		taken := b.Cells[bwe.WriteErrors[0].Index]
		holder, err := mongo.FindByID[cell](ctx, s.cells, taken, ErrNotFound)
		if errors.Is(err, ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return err
		}
		if !s.abandoned(ctx, holder) {
			return ErrLiftTaken.WithArgs(holder.Date, holder.From, holder.To).WithField("input.window")
		}
		_, _ = s.cells.DeleteOne(ctx, bson.D{{Key: "_id", Value: holder.ID}, {Key: "bookingId", Value: holder.BookingID}})
	}
	return ErrLiftTaken.WithArgs(b.Date, b.From, b.To).WithField("input.window")
}

// abandoned: the holder's booking was cancelled (its release was cut short)
// or never stored although its claim is old.
func (s *Service) abandoned(ctx context.Context, holder *cell) bool {
	b, err := mongo.FindByID[Booking](ctx, s.col, holder.BookingID, ErrNotFound)
	if errors.Is(err, ErrNotFound) {
		return s.cfg.Now().Sub(holder.ClaimedAt) > abandonedAfter
	}
	return err == nil && b.Status == Cancelled
}

// release frees b's cells; only those b holds.
func (s *Service) release(ctx context.Context, b *Booking) {
	_, err := s.cells.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: b.Cells}}}, {Key: "bookingId", Value: b.ID}})
	if err != nil {
		s.warn(ctx, "release lift cells", b.ID, err)
	}
}

// Cancel withdraws a booking before its window starts: the household, or a
// butler or supervisor of the community with a reason (a lift out of order).
func (s *Service) Cancel(ctx context.Context, c *access.Caller, id, reason string) (*Booking, error) {
	reason, err := validate.Text("reason", reason, false, 200)
	if err != nil {
		return nil, err
	}
	b, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	_, member := c.RoleIn(b.HouseholdID)
	staff := c.IsAdmin() || c.StaffIn(b.CommunityID, access.Butler, access.Supervisor)
	switch {
	case !member && !staff:
		return nil, apperr.ErrForbidden
	case !member && reason == "":
		return nil, apperr.Invalid("reason", "input.required")
	}
	to, err := Machine.Next("cancel", b.Status)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if !b.Start(s.cfg.Zone(b.CommunityID)).After(now) {
		return nil, ErrTooLate
	}
	var out Booking
	entry := lifecycle.Entry{At: now.UTC(), Action: "cancel", From: string(b.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: reason}
	if err := s.steps.Apply(ctx, b.ID, b.Version, entry, bson.D{{Key: "cancelReason", Value: reason}}, &out); err != nil {
		return nil, err
	}
	s.release(ctx, &out)
	s.publish(ctx, c, &out, "cancel")
	if !member {
		err := s.tell(ctx, &out, "cancel", &notice{"搬家预约已取消", "move booking cancelled",
			fmt.Sprintf("您 %s %s–%s 的搬家电梯预约已被物业取消：%s。请重新预约，给您带来不便敬请谅解。", out.Date, out.From, out.To, reason),
			fmt.Sprintf("Your lift booking on %s %s-%s was cancelled by the property office: %s. Please book again; sorry for the trouble.", out.Date, out.From, out.To, reason)})
		if err != nil {
			s.warn(ctx, "move cancelled notice", out.ID, err)
		}
	}
	return &out, nil
}

func (s *Service) publish(ctx context.Context, c *access.Caller, b *Booking, action string) {
	if s.cfg.Bus == nil {
		return
	}
	err := s.cfg.Bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "move." + action, CommunityID: b.CommunityID, HouseholdID: b.HouseholdID, SubjectID: b.ID, ActorID: c.ID,
		Data: map[string]any{"action": action, "status": string(b.Status), "version": b.Version, "date": b.Date,
			"summary": fmt.Sprintf("%s %s-%s", b.Date, b.From, b.To), "direction": string(b.Direction)},
	})
	if err != nil {
		s.warn(ctx, "publish move event", b.ID, err)
	}
}

func (s *Service) warn(ctx context.Context, what, id string, err error) {
	if s.cfg.Log != nil && !errors.Is(err, context.Canceled) {
		s.cfg.Log.WarnContext(ctx, what, "booking", id, "err", err)
	}
}

// isLostRace: another server moved the booking first.
func isLostRace(err error) bool {
	return errors.Is(err, lifecycle.ErrStale) || errors.Is(err, lifecycle.ErrIllegal)
}
