package facility

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// system is the actor of the scheduler's steps.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:facility", Roles: []access.Role{access.Admin}}

// tickBatch bounds the plans one Tick raises orders for; the rest wait for
// the next tick (a minute later).
const tickBatch = 200

// raiseAheadDays is how long before its due date an order is raised: the
// engineers see coming work, and the outage notice (at most
// MaxNoticeHours ahead) can go out in time.
const raiseAheadDays = MaxNoticeHours/24 + 1

// maxCatchUp bounds the due dates one plan raises in one run: a plan whose
// start lies far back raises its missed orders over a few ticks, not all at
// once.
const maxCatchUp = 12

// Tick raises the work orders coming due and sends the outage notices
// whose time has come. Any number of servers may run
// it at once: an order's _id is derived from its plan and due date, so the
// second insert fails as a duplicate, and the plan's next due date moves on
// only from the value it was read with.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	// The horizon, anywhere within UTC+14h, is at most this date.
	latest := now.UTC().Add(14*time.Hour).AddDate(0, 0, raiseAheadDays).Format(time.DateOnly)
	cur, err := s.plans.Find(ctx, bson.D{{Key: "active", Value: true}, {Key: "nextDue", Value: bson.D{{Key: "$lte", Value: latest}}}},
		options.Find().SetLimit(tickBatch).SetSort(bson.D{{Key: "nextDue", Value: 1}}))
	if err != nil {
		return fmt.Errorf("due maintenance plans: %w", err)
	}
	var ps []*Plan
	if err := cur.All(ctx, &ps); err != nil {
		return fmt.Errorf("due maintenance plans: %w", err)
	}
	var errs []error
	settings := map[string]*Settings{}
	for _, p := range ps {
		horizon := now.In(s.cfg.Zone(p.CommunityID)).AddDate(0, 0, raiseAheadDays).Format(time.DateOnly)
		if p.NextDue > horizon {
			continue
		}
		st := settings[p.CommunityID]
		if st == nil {
			if st, err = s.WorkSettings(ctx, p.CommunityID); err != nil {
				errs = append(errs, err)
				continue
			}
			settings[p.CommunityID] = st
		}
		if err := s.raise(ctx, p, horizon, st, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, s.sweepNotices(ctx, now), s.pruneKeys(ctx, now))...)
}

// raise creates the orders of p due up to horizon, then moves its next due
// date on.
func (s *Service) raise(ctx context.Context, p *Plan, horizon string, st *Settings, now time.Time) error {
	eq, err := mongo.FindByID[Equipment](ctx, s.equipment, p.EquipmentID, ErrNotFound)
	if err != nil {
		return fmt.Errorf("equipment of plan %s: %w", p.ID, err)
	}
	due := p.NextDue
	for i := 0; i < maxCatchUp && due <= horizon; i++ {
		if err := s.insertOrder(ctx, p, eq, due, st, now); err != nil {
			return err
		}
		due = p.dueAfter(due)
	}
	_, err = s.plans.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "nextDue", Value: p.NextDue}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "nextDue", Value: due}}}})
	if err != nil {
		return fmt.Errorf("advance plan %s: %w", p.ID, err)
	}
	return nil
}

func (s *Service) insertOrder(ctx context.Context, p *Plan, eq *Equipment, due string, st *Settings, now time.Time) error {
	id := orderID(p.ID, due)
	o := &Order{ID: id, CommunityID: p.CommunityID, Kind: Planned, PlanID: p.ID, EquipmentID: p.EquipmentID, Title: p.Title, DueDate: due,
		Checklist: p.Checklist, Disturbs: p.Disturbs, Minutes: p.Minutes, Serves: eq.Serves, Status: Open,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), SortKey: due + "|" + id,
		Timeline: []lifecycle.Entry{{At: now.UTC(), Action: "raise", To: string(Open), ActorID: system.ID, ActorKind: string(system.Kind)}}}
	if o.Disturbing() {
		// Into the first window from the due date on, or from now for an
		// order raised late.
		loc := s.cfg.Zone(p.CommunityID)
		from, _ := time.ParseInLocation(time.DateOnly, due, loc)
		if from.Before(now) {
			from = now
		}
		at := NextWindow(st.Windows, from, o.duration(), loc).UTC()
		o.ScheduledAt = &at
		o.NoticeDueAt = noticeDue(at, st)
	}
	if _, err := s.orders.InsertOne(ctx, o); err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("raise maintenance order %s: %w", id, err)
	}
	return nil
}

func (o *Order) duration() time.Duration { return time.Duration(o.Minutes) * time.Minute }

func noticeDue(at time.Time, st *Settings) *time.Time {
	t := at.Add(-time.Duration(st.NoticeHours) * time.Hour)
	return &t
}

// ScheduleOrder plans an open order to start at at. Disturbing work
// outside the community's windows is refused, naming them, unless it is
// an emergency (which also goes out of the windows' notice lead: residents
// are told at once).
func (s *Service) ScheduleOrder(ctx context.Context, c *access.Caller, id string, at time.Time, emergency bool, note string) (*Order, error) {
	o, err := s.GetOrder(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !manages(c, o.CommunityID) {
		return nil, ErrNotFound
	}
	st, err := s.WorkSettings(ctx, o.CommunityID)
	if err != nil {
		return nil, err
	}
	if at.Before(s.cfg.Now()) {
		return nil, apperr.Invalid("input.at", "facility.past")
	}
	set := bson.D{{Key: "scheduledAt", Value: at.UTC()}, {Key: "emergency", Value: emergency}}
	if o.Disturbing() {
		if !emergency && !Fits(st.Windows, at, o.duration(), s.cfg.Zone(o.CommunityID)) {
			return nil, ErrOutsideWindows.WithArgs(Describe(st.Windows))
		}
		due := noticeDue(at.UTC(), st)
		if emergency || due.Before(s.cfg.Now()) {
			now := s.cfg.Now().UTC()
			due = &now
		}
		// A rescheduled order is announced again for its new time.
		set = append(set, bson.E{Key: "noticeDueAt", Value: due}, bson.E{Key: "noticedAt", Value: nil})
	}
	entry := lifecycle.Entry{Action: "schedule", From: string(Open), To: string(Open), ActorID: c.ID, ActorKind: string(c.Kind), Note: note,
		Data: map[string]any{"at": at.UTC(), "emergency": emergency}}
	var out Order
	if err := s.steps.Apply(ctx, o.ID, o.Version, entry, set, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOrder loads an order the caller may see.
func (s *Service) GetOrder(ctx context.Context, c *access.Caller, id string) (*Order, error) {
	o, err := mongo.FindByID[Order](ctx, s.orders, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !seesOrder(c, o) {
		return nil, ErrNotFound
	}
	return o, nil
}

// OrderFilter narrows a community's work orders.
type OrderFilter struct {
	CommunityID string
	Status      Status
	// Overdue: open orders due before today (community time).
	Overdue bool
	// Kind: only planned orders, or only defects ("": both).
	Kind OrderKind
}

// ListOrders is one page of a community's work orders by due date.
func (s *Service) ListOrders(ctx context.Context, c *access.Caller, f OrderFilter, p page.Request) (page.Page[*Order], error) {
	if !sees(c, f.CommunityID) {
		return page.Page[*Order]{}, ErrNotFound
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	switch {
	case f.Overdue:
		q = append(q, bson.E{Key: "status", Value: Open},
			// In $and: a page cursor adds its own bound on sortKey.
			bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "sortKey", Value: bson.D{{Key: "$lt", Value: s.today(f.CommunityID)}}}}}})
	case f.Status != "":
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	switch f.Kind {
	case DefectFix:
		q = append(q, bson.E{Key: "kind", Value: DefectFix})
	case Planned: // and those stored before kinds
		q = append(q, bson.E{Key: "kind", Value: bson.D{{Key: "$in", Value: bson.A{Planned, nil}}}})
	}
	return mongo.FindPage(ctx, s.orders, q, p, mongo.PageQuery{Omit: []string{"timeline"}}, func(o *Order) string { return o.SortKey })
}

// Overdue reports an open order past its due date, community time.
func (s *Service) Overdue(o *Order) bool {
	return o.Status == Open && o.DueDate < s.today(o.CommunityID)
}

// OrdersByIDs loads orders by id (the API's loader); access is the
// caller's business (SeesOrder).
func (s *Service) OrdersByIDs(ctx context.Context, ids []string) (map[string]*Order, error) {
	return mongo.ByIDs(ctx, s.orders, ids, func(o *Order) string { return o.ID })
}

// SeesOrder is the rule GetOrder applies, for an order in hand.
func SeesOrder(c *access.Caller, o *Order) bool { return seesOrder(c, o) }
