package graph

import (
	"context"
	"log/slog"

	"qinqing/graph/model"
	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/events"
)

// Household events go on the event spine so every server process's
// subscribers hear them. Publishing happens after the change is stored; a
// failed publish is logged, not returned: the change itself succeeded.
func (r *Resolver) publish(ctx context.Context, c *access.Caller, h *household.Household, typ string) {
	r.publishIDs(ctx, c, h.ID, h.CommunityID, typ)
}

func (r *Resolver) publishIDs(ctx context.Context, c *access.Caller, householdID, communityID, typ string) {
	if r.Svc.Events == nil {
		return
	}
	err := r.Svc.Events.Publish(context.WithoutCancel(ctx), events.Event{Type: typ, HouseholdID: householdID, CommunityID: communityID, SubjectID: householdID, ActorID: c.ID})
	if err != nil {
		slog.WarnContext(ctx, "publish event", "type", typ, "err", err)
	}
}

func (r *Resolver) publishPerson(ctx context.Context, c *access.Caller, personID, typ string) {
	hs, err := r.Svc.Households.HouseholdsOfPerson(ctx, personID)
	if err != nil {
		slog.WarnContext(ctx, "publish event", "type", typ, "err", err)
		return
	}
	for _, h := range hs {
		r.publish(ctx, c, h, typ)
	}
}

// householdEvents streams a household's events to one subscriber. The access
// check is repeated for every event against the connection's kept caller
// (in memory; re-resolved once per connection on access.changed), so a
// member removed mid-subscription, or a staff member moved to another
// community, stops hearing about it.
func (r *Resolver) householdEvents(ctx context.Context, id string) (<-chan *model.HouseholdEvent, error) {
	return stream(ctx, r.Svc.Events, func(e *events.Event) bool { return e.HouseholdID == id }, func(e *events.Event) (*model.HouseholdEvent, bool) {
		fresh, err := liveCaller(ctx)
		if err != nil {
			return nil, false
		}
		h, err := eventPayload(&r.payloads, e, "household:"+id, func() (*household.Household, error) {
			return r.Svc.Households.Load(context.WithoutCancel(ctx), id)
		})
		if err != nil || r.Svc.Households.Visible(fresh, h) != nil {
			return nil, false
		}
		return &model.HouseholdEvent{HouseholdID: id, Type: enumOf(e.Type, model.HouseholdEventTypeOther), At: e.At, Household: h}, true
	}), nil
}

// publishAccessChanged tells every server that subject's roles, scopes or
// memberships changed, so open websockets re-resolve their kept caller. It
// is published before the event describing the change, so a subscriber
// never sees that event on the old decision.
func (r *Resolver) publishAccessChanged(ctx context.Context, actorID, subjectID string) {
	r.publishControl(ctx, events.Event{Type: events.TypeAccessChanged, SubjectID: subjectID, ActorID: actorID})
}

func (r *Resolver) publishControl(ctx context.Context, e events.Event) {
	if r.Svc.Events == nil || e.SubjectID == "" {
		return
	}
	if err := r.Svc.Events.Publish(context.WithoutCancel(ctx), e); err != nil {
		slog.WarnContext(ctx, "publish event", "type", e.Type, "err", err)
	}
}
