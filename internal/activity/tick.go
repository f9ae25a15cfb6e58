package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
)

// system is the actor of the scheduler's steps.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:activity", Roles: []access.Role{access.Admin}}

const (
	// tickBatch bounds the events one Tick takes on per kind of work.
	tickBatch = 100
	// resumeAfter leaves a fresh fan-out to the request that started it.
	resumeAfter = time.Minute
)

// Tick is the events' scheduler, called from every server's schedules loop.
// It completes fan-outs cut short (the "new event" and cancellation
// notices), reminds confirmed households the evening before, ends events
// that are over and asks their participants for feedback, and walks waiting
// lists whose walker died. Each is once however many servers tick: notices
// are keyed in the engine and marked on the event, the end is a guarded
// lifecycle step only one server wins, and promotion holds a lock.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	now = now.UTC()
	return errors.Join(s.resume(ctx, now), s.remind(ctx, now), s.end(ctx, now), s.askFeedback(ctx, now), s.walkMarked(ctx))
}

func (s *Service) due(ctx context.Context, q bson.D) ([]*Event, error) {
	cur, err := s.events.Find(ctx, q, options.Find().SetLimit(tickBatch).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("events due: %w", err)
	}
	var out []*Event
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("events due: %w", err)
	}
	return out, nil
}

// resume completes fan-outs left unfinished for a minute.
func (s *Service) resume(ctx context.Context, now time.Time) error {
	evs, err := s.due(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Published, Cancelled}}}},
		{Key: "announced", Value: false}, {Key: "updatedAt", Value: bson.D{{Key: "$lte", Value: now.Add(-resumeAfter)}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, ev := range evs {
		errs = append(errs, s.announce(ctx, ev))
	}
	return errors.Join(errs...)
}

// remind tells confirmed households about tomorrow's event, once, from
// RemindTime the evening before. An event that began before any server got
// to it is marked without a message: a reminder after the fact helps nobody.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	evs, err := s.due(ctx, bson.D{{Key: "status", Value: Published}, {Key: "reminded", Value: false},
		{Key: "remindAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, ev := range evs {
		if now.Before(ev.StartsAt) {
			msg := message(ev, fmt.Sprintf("remind:%d", ev.StartsAt.Unix()), "reminder", "明日活动「"+ev.Title+"」",
				fmt.Sprintf("您家报名的活动将于 %s 在%s举行，请准时参加，入场时出示签到码。如不能参加，请提前取消报名，把名额留给其他住户。", ev.when(), ev.Place))
			if err := s.tellSignedUp(ctx, ev, []SignUpStatus{Confirmed}, msg); err != nil {
				errs = append(errs, err)
				continue // not marked: the next tick tries again, the key keeps it once
			}
		}
		// The filter names the start it was sent for: a start moved
		// meanwhile keeps its own reminder due.
		_, err := s.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: ev.ID}, {Key: "startsAt", Value: ev.StartsAt}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "reminded", Value: true}}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark event %s reminded: %w", ev.ID, err))
		}
	}
	return errors.Join(errs...)
}

// end moves events that are over to ENDED.
func (s *Service) end(ctx context.Context, now time.Time) error {
	evs, err := s.due(ctx, bson.D{{Key: "status", Value: Published}, {Key: "endsAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, ev := range evs {
		entry := lifecycle.Entry{At: now, Action: "end", From: string(Published), To: string(Ended), ActorID: system.ID, ActorKind: string(system.Kind)}
		var out Event
		if err := s.steps.Apply(ctx, ev.ID, ev.Version, entry, nil, &out); err != nil {
			if !errors.Is(err, lifecycle.ErrStale) {
				errs = append(errs, fmt.Errorf("end event %s: %w", ev.ID, err))
			}
			continue // another server ended it
		}
		s.publish(ctx, nil, "ended", out.CommunityID, "", out.ID, map[string]any{"version": out.Version, "status": string(out.Status), "summary": out.Title})
	}
	return errors.Join(errs...)
}

// askFeedback asks the households that came to an ended event for their
// feedback, once.
func (s *Service) askFeedback(ctx context.Context, now time.Time) error {
	evs, err := s.due(ctx, bson.D{{Key: "status", Value: Ended}, {Key: "feedbackAsked", Value: false}})
	if err != nil {
		return err
	}
	var errs []error
	for _, ev := range evs {
		if now.Before(ev.EndsAt.Add(FeedbackWindow)) {
			msg := message(ev, "feedback", "feedback", "活动评价「"+ev.Title+"」",
				"感谢您家参加本次活动！请花一分钟为活动打分、留下意见或照片，帮助我们把社区活动办得更好。")
			if err := s.tellSignedUp(ctx, ev, []SignUpStatus{Confirmed}, msg, true); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		_, err := s.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: ev.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "feedbackAsked", Value: true}}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark event %s feedback asked: %w", ev.ID, err))
		}
	}
	return errors.Join(errs...)
}

// walkMarked walks the waiting lists still marked for promotion (a walker
// died, or failed): promote holds the event's lock, so servers ticking
// together walk each list once.
func (s *Service) walkMarked(ctx context.Context) error {
	cur, err := s.locks.Find(ctx, bson.D{{Key: "kind", Value: "rerun"}}, options.Find().SetLimit(tickBatch))
	if err != nil {
		return fmt.Errorf("marked events: %w", err)
	}
	var marks []lockDoc
	if err := cur.All(ctx, &marks); err != nil {
		return fmt.Errorf("marked events: %w", err)
	}
	for _, m := range marks {
		s.promote(ctx, m.EventID, "")
	}
	return nil
}
