package graph

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/events"
)

var notifyKinds = []notify.Kind{notify.FestivalGreeting, notify.BirthdayGreeting, notify.RepairProgress, notify.ServiceOrderUpdate,
	notify.ProjectProgress, notify.Announcement, notify.EmergencyNotice, notify.EventReminder, notify.SurveyInvitation,
	notify.CallbackPromptOwner, notify.CallbackDue}

// notificationFeed streams new entries of the caller's own inbox: the
// engine publishes which recipients got something new; each subscriber
// loads only its own newest entries.
func (r *Resolver) notificationFeed(ctx context.Context, c *access.Caller) (<-chan *notify.Notification, error) {
	in, cancel := r.Svc.Events.Subscribe(func(e events.Event) bool {
		if e.Type != "notification.created" {
			return false
		}
		return containsID(e.Data["recipients"], c.ID)
	}, events.DefaultBuffer)
	out := make(chan *notify.Notification, 8)
	// Entries stored from this moment on are new to this subscriber (a
	// second of slack for clocks of different servers).
	start := r.Svc.Now().Add(-time.Second)
	go func() {
		defer close(out)
		defer cancel()
		seen := map[string]bool{}
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-in:
				if !ok {
					return
				}
				// The connection's kept decision, in memory: a revoked or
				// expired session hears nothing more.
				if _, err := liveCaller(ctx); err != nil {
					return
				}
				latest, err := r.Svc.Notify.Latest(ctx, c.ID, 20)
				if err != nil {
					return
				}
				slices.Reverse(latest) // oldest of the new ones first
				for _, n := range latest {
					if seen[n.ID] || n.CreatedAt.Before(start) {
						continue
					}
					seen[n.ID] = true
					select {
					case out <- n:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return out, nil
}

// containsID reports whether an event's recipient list names id.
func containsID(v any, id string) bool {
	switch l := v.(type) {
	case []string:
		return slices.Contains(l, id)
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok && s == id {
				return true
			}
		}
	case bson.A:
		for _, x := range l {
			if s, ok := x.(string); ok && s == id {
				return true
			}
		}
	}
	return false
}
