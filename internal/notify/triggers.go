package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
)

// Members finds who lives in a household.
type Members interface {
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Triggers turns domain events of every source into messages. Every server
// process runs them on the same events; the message keys make the result
// once.
type Triggers struct {
	engine  *Engine
	bus     *events.Bus
	members Members
	sources map[string]*Source // by event type prefix
	hours   ContactHours       // nil: callback notices name no hours
	log     *slog.Logger
}

// WithContactHours lets callback notices say when the resident prefers to
// be called.
func (t *Triggers) WithContactHours(h ContactHours) *Triggers {
	t.hours = h
	return t
}

// NewTriggers wires the event-driven messages for sources.
func NewTriggers(engine *Engine, bus *events.Bus, members Members, sources []Source, log *slog.Logger) *Triggers {
	t := &Triggers{engine: engine, bus: bus, members: members, sources: map[string]*Source{}, log: log}
	for i := range sources {
		t.sources[sources[i].Name] = &sources[i]
	}
	return t
}

// source is the source of an event type, if any.
func (t *Triggers) source(eventType string) (*Source, string, bool) {
	name, action, ok := strings.Cut(eventType, ".")
	if !ok {
		return nil, "", false
	}
	s, ok := t.sources[name]
	return s, action, ok
}

// Run listens until ctx ends. A dropped subscription (the buffer overflowed)
// is reopened; messages of events missed while no server ran are not sent.
func (t *Triggers) Run(ctx context.Context) {
	for ctx.Err() == nil {
		ch, cancel := t.bus.Subscribe(func(e events.Event) bool { _, _, ok := t.source(e.Type); return ok }, 4096)
		for e := range ch {
			if err := t.handle(ctx, e); err != nil && t.log != nil {
				t.log.Warn("notification trigger", "event", e.Type, "subject", e.SubjectID, "err", err)
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (t *Triggers) handle(ctx context.Context, e events.Event) error {
	src, action, ok := t.source(e.Type)
	if !ok {
		return nil
	}
	if e.HouseholdID == "" || src.Personal {
		return t.toReporter(ctx, src, action, e)
	}
	if action == src.SignOff {
		return t.callbackDue(ctx, src, e)
	}
	step, ok := src.Steps[action]
	if !ok {
		return nil
	}
	ms, err := t.members.MembershipsByHouseholds(ctx, []string{e.HouseholdID})
	if err != nil {
		return err
	}
	var rs []Recipient
	for _, m := range ms[e.HouseholdID] {
		if m.Role == access.Owner || m.Role == access.Family || m.PersonID == str(e.Data["reporterId"]) {
			rs = append(rs, Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: e.CommunityID})
		}
	}
	return t.progress(ctx, src, step, e, rs)
}

// toReporter handles a job with no household (a public-area fault) or a
// personal one (a complaint): its progress goes to the resident who
// reported it, and nobody else; one staff filed for no resident, or an
// anonymous complaint, has nobody named to tell. The sign-off still owes the owning
// staff member a callback to that resident.
func (t *Triggers) toReporter(ctx context.Context, src *Source, action string, e events.Event) error {
	reporter := str(e.Data["reporterId"])
	if reporter == "" {
		return nil
	}
	if action == src.SignOff {
		if err := t.callbackDue(ctx, src, e); err != nil {
			return err
		}
	}
	step, ok := src.ReporterSteps[action]
	if !ok {
		return nil
	}
	return t.progress(ctx, src, step, e, []Recipient{{Kind: auth.KindPerson, ID: reporter, CommunityID: e.CommunityID}})
}

// progress sends a job's progress notice to rs.
func (t *Triggers) progress(ctx context.Context, src *Source, step StepText, e events.Event, rs []Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	_, err := t.engine.Send(ctx, Message{
		Kind: src.Progress, Key: fmt.Sprintf("%s:%s:v%v", src.Name, e.SubjectID, e.Data["version"]), Recipients: rs,
		Vars: src.vars(step, str(e.Data["summary"])),
		Data: map[string]string{src.IDKey: e.SubjectID, "status": str(e.Data["status"])}, At: e.At,
	})
	return err
}

// callbackDue tells the staff member who owns a signed-off job that the
// owner is waiting for a callback.
func (t *Triggers) callbackDue(ctx context.Context, src *Source, e events.Event) error {
	owner := str(e.Data["ownerStaffId"])
	if owner == "" {
		return nil
	}
	hours := ""
	if resident := str(e.Data["reporterId"]); resident != "" && t.hours != nil {
		// One lookup per sign-off. Without the hours the reminder still
		// goes: the butler can ask the archive.
		hs, err := t.hours.ContactHoursOf(ctx, []string{resident})
		if err != nil && t.log != nil {
			t.log.Warn("contact hours for a callback", "subject", e.SubjectID, "err", err)
		}
		hours = hs[resident]
	}
	_, err := t.engine.Send(ctx, Message{
		Kind: CallbackDue, Key: fmt.Sprintf("%s:%s:callback-due:v%v", src.Name, e.SubjectID, e.Data["version"]),
		Recipients: []Recipient{{Kind: auth.KindStaff, ID: owner, CommunityID: e.CommunityID}},
		Vars:       src.promptVars(str(e.Data["summary"]), str(e.Data["label"]), false, hours),
		Data:       map[string]string{src.IDKey: e.SubjectID}, At: e.At,
	})
	return err
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
