package graph

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/events"
)

var notifyKinds = []notify.Kind{notify.FestivalGreeting, notify.BirthdayGreeting, notify.RepairProgress, notify.ServiceOrderUpdate,
	notify.ProjectProgress, notify.Announcement, notify.EmergencyNotice, notify.EventReminder, notify.SurveyInvitation,
	notify.CallbackPromptOwner, notify.CallbackDue, notify.FinanceStatementPublished, notify.FeeBillIssued}

// notificationFeed streams new entries of the caller's own inbox. The
// engine publishes one event per chunk of recipients it wrote to; this
// process loads the chunk's entries once (one query, whatever the number of
// subscribers who hear it) and each subscriber takes its own.
func (r *Resolver) notificationFeed(ctx context.Context, c *access.Caller) (<-chan *notify.Notification, error) {
	filter := func(e *events.Event) bool {
		return e.Type == "notification.created" && r.inboxRecipients.has(e, c.ID)
	}
	return stream(ctx, r.Svc.Events, filter, func(e *events.Event) (*notify.Notification, bool) {
		// The connection's kept decision, in memory: a revoked or expired
		// session hears nothing more.
		if _, err := liveCaller(ctx); err != nil {
			return nil, false
		}
		created, err := eventPayload(&r.payloads, e, "inbox", func() (map[string]*notify.Notification, error) {
			// A batch of messages (SendEach) names its entries, whose keys differ.
			if ids := stringList(e.Data["notifications"]); len(ids) > 0 {
				return r.Svc.Notify.CreatedByIDs(context.WithoutCancel(ctx), ids)
			}
			return r.Svc.Notify.Created(context.WithoutCancel(ctx), e.SubjectID, stringList(e.Data["recipients"]))
		})
		if err != nil {
			return nil, false
		}
		n := created[c.ID]
		if n == nil || n.VisibleAt.After(r.Svc.Now()) {
			return nil, true // scheduled for later: it is in the inbox then
		}
		return n, true
	}), nil
}

// recipientSets answers "does this event name this recipient" for every
// subscriber of the process from one set per event: the bus asks each
// subscriber's filter in turn for one event before the next, so keeping the
// last event's set turns N subscribers × 500 names into one pass.
type recipientSets struct {
	mu  sync.Mutex
	id  bson.ObjectID
	set map[string]struct{}
}

func (s *recipientSets) has(e *events.Event, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil || s.id != e.ID {
		list := stringList(e.Data["recipients"])
		s.id, s.set = e.ID, make(map[string]struct{}, len(list))
		for _, r := range list {
			s.set[r] = struct{}{}
		}
	}
	_, ok := s.set[id]
	return ok
}

// stringList reads a list of strings from an event's Data, as stored on the spine.
func stringList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		return stringsOf(l)
	case bson.A:
		return stringsOf(l)
	}
	return nil
}

func stringsOf(l []any) []string {
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
