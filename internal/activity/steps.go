package activity

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/validate"
)

// Update changes a draft or published event before it starts. The capacity
// of a published event cannot drop below the places taken (the places
// above the new capacity are closed first, see shrink); a larger capacity
// moves waiting households up. Households signed up are told when the time
// or the place of a published event changes.
func (s *Service) Update(ctx context.Context, c *access.Caller, id string, in Input) (*Event, error) {
	ev, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(editable, ev.Status) {
		return nil, lifecycle.ErrIllegal.WithArgs(string(ev.Status))
	}
	now := s.now().UTC()
	if !now.Before(ev.StartsAt) {
		return nil, ErrStarted.WithArgs(ev.local(ev.StartsAt))
	}
	old := *ev
	changed, err := s.apply(ctx, ev, in, now, false)
	if err != nil {
		return nil, err
	}
	if slices.Contains(changed, "startsAt") {
		ev.Reminded = false // the reminder follows the new start
	}
	undo := func() {}
	if ev.Published && ev.Capacity < old.Capacity {
		if undo, err = s.shrink(ctx, &old, ev.Capacity, now); err != nil {
			return nil, err
		}
	}
	if ev.Published && ev.Capacity > old.Capacity {
		if err := s.grow(ctx, &old, ev.Capacity); err != nil {
			return nil, err
		}
	}
	if ev.PosterID, err = s.savePoster(ctx, c, ev, in.Poster); err != nil {
		undo()
		return nil, err
	}
	if in.Poster != nil {
		changed = append(changed, "poster")
	}
	entry := lifecycle.Entry{At: now, Action: "edit", From: string(ev.Status), To: string(ev.Status), ActorID: c.ID, ActorKind: string(c.Kind),
		Data: map[string]any{"changed": changed}}
	var out Event
	if err := s.steps.Apply(ctx, ev.ID, old.Version, entry, eventSet(ev), &out); err != nil {
		undo()
		if ev.PosterID != old.PosterID {
			s.files.DeleteAll(ctx, nonEmpty(ev.PosterID))
		}
		return nil, err
	}
	if out.PosterID != old.PosterID {
		s.files.DeleteAll(ctx, nonEmpty(old.PosterID))
	}
	if out.Published && out.Capacity > old.Capacity {
		s.promote(ctx, out.ID, "")
	}
	if out.Published && (slices.Contains(changed, "startsAt") || slices.Contains(changed, "endsAt") || slices.Contains(changed, "place")) {
		if err := s.tellChanged(context.WithoutCancel(ctx), &out); err != nil {
			s.log.WarnContext(ctx, "event change notice", "event", out.ID, "err", err)
		}
	}
	s.publish(ctx, c, "updated", out.CommunityID, "", out.ID, map[string]any{"version": out.Version, "status": string(out.Status),
		"summary": out.Title, "changed": changed})
	return s.decorated(ctx, c, &out)
}

// Publish opens a draft for sign-ups and tells the residents of its
// buildings (owners, family and tenants) once, in batches. The fan-out runs
// in the request; if it is cut short, Tick completes it (the engine's key
// keeps every person at one notice).
func (s *Service) Publish(ctx context.Context, c *access.Caller, id string) (*Event, error) {
	ev, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	to, err := Machine.Next("publish", ev.Status)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if !now.Before(ev.SignUpDeadline) {
		return nil, ErrDeadlinePassed.WithArgs(ev.local(ev.SignUpDeadline))
	}
	entry := lifecycle.Entry{At: now, Action: "publish", From: string(ev.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	var out Event
	set := bson.D{{Key: "published", Value: true}, {Key: "publishedAt", Value: now}, {Key: "announced", Value: false}}
	if err := s.steps.Apply(ctx, ev.ID, ev.Version, entry, set, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, "published", out.CommunityID, "", out.ID, map[string]any{"version": out.Version, "status": string(out.Status), "summary": out.Title})
	// A client that goes away does not cut the fan-out short.
	if err := s.announce(context.WithoutCancel(ctx), &out); err != nil {
		s.log.WarnContext(ctx, "new event fan-out incomplete; Tick resumes it", "event", out.ID, "err", err)
	}
	return s.decorated(ctx, c, &out)
}

// Cancel calls an event off, with a reason the signed-up households are
// told (confirmed and waiting alike).
func (s *Service) Cancel(ctx context.Context, c *access.Caller, id, reason string) (*Event, error) {
	reason, err := validate.Text("reason", reason, true, MaxReason)
	if err != nil {
		return nil, err
	}
	ev, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	to, err := Machine.Next("cancel", ev.StatusAt(now))
	if err != nil {
		return nil, err
	}
	entry := lifecycle.Entry{At: now, Action: "cancel", From: string(ev.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: reason}
	var out Event
	set := bson.D{{Key: "cancelReason", Value: reason}, {Key: "announced", Value: !ev.Published}}
	if err := s.steps.Apply(ctx, ev.ID, ev.Version, entry, set, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, "cancelled", out.CommunityID, "", out.ID, map[string]any{"version": out.Version, "status": string(out.Status), "summary": out.Title})
	if out.Published {
		if err := s.announce(context.WithoutCancel(ctx), &out); err != nil {
			s.log.WarnContext(ctx, "event cancelled notice incomplete; Tick resumes it", "event", out.ID, "err", err)
		}
	}
	return s.decorated(ctx, c, &out)
}
