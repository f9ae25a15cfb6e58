package moving

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
)

// system is the actor of the scheduler's steps.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:moving", Roles: []access.Role{access.Admin}}

// tickBatch bounds the bookings one Tick handles per kind of work.
const tickBatch = 200

// retryTasksAfter leaves a just-moved booking's tasks to the server that
// moved it before another retries them.
const retryTasksAfter = time.Minute

// Tick does what the calendar decides, in each community's time: the
// evening before a move the household is reminded; once the move date has
// passed the booking is marked moved and, for a move in, the butler gets the
// congratulation visit and the move-in callback. Every server calls it: the
// reminder is marked on the booking and keyed in the notification engine,
// the "moved" step is a guarded lifecycle step only one server wins, and
// only that server adds the tasks (the task list is idempotent by key, so
// even a retry after a crash adds nothing twice).
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	// One tick at a time per process; a caller waits, so a returned Tick
	// has done what was due at now.
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	return errors.Join(s.remind(ctx, now), s.markMoved(ctx, now), s.retryTasks(ctx, now))
}

func (s *Service) find(ctx context.Context, q bson.D) ([]*Booking, error) {
	cur, err := s.col.Find(ctx, q, options.Find().SetLimit(tickBatch).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("find move bookings: %w", err)
	}
	var out []*Booking
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find move bookings: %w", err)
	}
	return out, nil
}

// remind tells the household the day before, from ReminderTime.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	// Tomorrow, anywhere within UTC±14h, is between these dates.
	lo, hi := now.UTC().Format(time.DateOnly), now.UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	bs, err := s.find(ctx, bson.D{{Key: "status", Value: Booked}, {Key: "date", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lte", Value: hi}}},
		{Key: "remindedAt", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return err
	}
	for _, b := range bs {
		local := now.In(s.cfg.Zone(b.CommunityID))
		if b.Date != local.AddDate(0, 0, 1).Format(time.DateOnly) || local.Format("15:04") < ReminderTime {
			continue
		}
		where := b.Lift
		if bl, err := s.cfg.Buildings.BuildingsByIDs(ctx, []string{b.BuildingID}); err == nil && bl[b.BuildingID] != nil {
			where = bl[b.BuildingID].Name + " · " + b.Lift
		}
		if err := s.tell(ctx, b, "reminder", &notice{"明日搬家提醒", "moving tomorrow",
			fmt.Sprintf("您预约了明天（%s）%s–%s 搬家，电梯：%s。请提前做好准备，大件物品请妥善包装，感谢您的配合。", b.Date, b.From, b.To, where),
			fmt.Sprintf("Your move is tomorrow (%s), %s-%s, lift: %s. Please pack large items well. Thank you.", b.Date, b.From, b.To, where)}); err != nil {
			s.warn(ctx, "move reminder", b.ID, err)
			continue
		}
		_, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: b.ID}, {Key: "remindedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "remindedAt", Value: now.UTC()}}}})
		if err != nil {
			s.warn(ctx, "mark move reminded", b.ID, err)
		}
	}
	return nil
}

// markMoved closes bookings whose date has passed, and gives the butler the
// move-in tasks.
func (s *Service) markMoved(ctx context.Context, now time.Time) error {
	latest := now.UTC().Add(14 * time.Hour).Format(time.DateOnly)
	bs, err := s.find(ctx, bson.D{{Key: "status", Value: Booked}, {Key: "date", Value: bson.D{{Key: "$lt", Value: latest}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range bs {
		if b.Date >= now.In(s.cfg.Zone(b.CommunityID)).Format(time.DateOnly) {
			continue
		}
		var out Booking
		entry := lifecycle.Entry{At: now.UTC(), Action: "moved", From: string(Booked), To: string(Moved), ActorID: system.ID, ActorKind: string(system.Kind)}
		set := bson.D{{Key: "movedAt", Value: now.UTC()}, {Key: "tasksPending", Value: b.Direction == MoveIn}}
		if err := s.steps.Apply(ctx, b.ID, b.Version, entry, set, &out); err != nil {
			if !isLostRace(err) {
				errs = append(errs, fmt.Errorf("mark booking %s moved: %w", b.ID, err))
			}
			continue
		}
		s.release(ctx, &out) // nobody books the past: the claims are done with
		s.publish(ctx, system, &out, "moved")
		if out.TasksPending {
			s.addTasks(ctx, &out)
		}
	}
	return errors.Join(errs...)
}

// retryTasks gives the butler the tasks of moves in whose tasks failed or
// waited for the task list to be wired.
func (s *Service) retryTasks(ctx context.Context, now time.Time) error {
	if s.cfg.Tasks == nil {
		return nil
	}
	bs, err := s.find(ctx, bson.D{{Key: "tasksPending", Value: true}, {Key: "status", Value: Moved},
		{Key: "movedAt", Value: bson.D{{Key: "$lte", Value: now.UTC().Add(-retryTasksAfter)}}}})
	if err != nil {
		return err
	}
	for _, b := range bs {
		s.addTasks(ctx, b)
	}
	return nil
}

// TaskDue is when a move's task falls due: DueTime, days after the move
// date, community time.
func TaskDue(date string, days int, loc *time.Location) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly+" 15:04", date+" "+DueTime, loc)
	return t.AddDate(0, 0, days)
}

// addTasks asks the task list for the congratulation visit and the move-in
// callback, then clears the pending mark.
func (s *Service) addTasks(ctx context.Context, b *Booking) {
	if s.cfg.Tasks == nil {
		return
	}
	label := ""
	if hs, err := s.cfg.Households.ByIDs(ctx, []string{b.HouseholdID}); err == nil && hs[b.HouseholdID] != nil {
		label = hs[b.HouseholdID].Label
	}
	loc := s.cfg.Zone(b.CommunityID)
	for _, t := range []struct {
		key, kind, title string
		due              time.Time
	}{
		{"move:" + b.ID + ":congratulation", TaskCongratulation, "登门祝贺：" + label + " 乔迁新居（带上小礼品）", TaskDue(b.Date, CongratulationAfterDays, loc)},
		{"move:" + b.ID + ":callback", TaskCallback, "入住回访：" + label, TaskDue(b.Date, CallbackAfterDays, loc)},
	} {
		if err := s.cfg.Tasks.AddButlerTask(ctx, t.key, t.kind, b.CommunityID, b.HouseholdID, t.title, t.due); err != nil {
			s.warn(ctx, "add butler task", b.ID, err)
			return
		}
	}
	_, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: b.ID}, {Key: "tasksPending", Value: true}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "tasksPending", Value: false}}}})
	if err != nil {
		s.warn(ctx, "clear move tasks pending", b.ID, err)
	}
}

// notice is what a household is told, in both languages.
type notice struct{ status, statusEN, text, textEN string }

// tell sends a notice about b to the household's owners and family and to
// whoever booked it; keyed by booking and purpose, so it is sent once.
func (s *Service) tell(ctx context.Context, b *Booking, purpose string, n *notice) error {
	if s.cfg.Sender == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	ms, err := s.cfg.Households.MembershipsByHouseholds(ctx, []string{b.HouseholdID})
	if err != nil {
		return err
	}
	var rs []notify.Recipient
	for _, m := range ms[b.HouseholdID] {
		if m.Role == access.Owner || m.Role == access.Family || m.PersonID == b.BookedBy {
			rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: b.CommunityID})
		}
	}
	if len(rs) == 0 {
		return nil
	}
	_, err = s.cfg.Sender.Send(ctx, notify.Message{
		Kind: notify.ServiceOrderUpdate, Key: "move:" + b.ID + ":" + purpose, Recipients: rs,
		Vars: map[string]any{"statusText": n.status, "statusTextEN": n.statusEN, "text": n.text, "textEN": n.textEN},
		Data: map[string]string{"moveBookingId": b.ID, "status": string(b.Status)},
	})
	return err
}
