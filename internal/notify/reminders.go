package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/staff"
)

// Supervisors finds who to tell when a callback is overdue.
type Supervisors interface {
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// ReminderConfig sets the callback prompts' delays.
type ReminderConfig struct {
	RatePromptAfter  time.Duration // ask an owner who signed without rating (default 2h)
	CallbackDueAfter time.Duration // remind the owning staff member (default 24h)
	OverdueAfter     time.Duration // tell the supervisors too (default 72h)
}

// Reminders sends the callback prompts of every source. Every server ticks
// them; the keys (source, job, round, what) make each prompt once.
type Reminders struct {
	engine      *Engine
	sources     []Source
	supervisors Supervisors
	hours       ContactHours // nil: reminders name no hours
	cfg         ReminderConfig
	log         *slog.Logger
}

// NewReminders wires the prompts for the sources that list their waiting jobs.
func NewReminders(engine *Engine, sources []Source, supervisors Supervisors, cfg ReminderConfig, log *slog.Logger) *Reminders {
	if cfg.RatePromptAfter == 0 {
		cfg.RatePromptAfter = 2 * time.Hour
	}
	if cfg.CallbackDueAfter == 0 {
		cfg.CallbackDueAfter = 24 * time.Hour
	}
	if cfg.OverdueAfter == 0 {
		cfg.OverdueAfter = 72 * time.Hour
	}
	return &Reminders{engine: engine, sources: sources, supervisors: supervisors, cfg: cfg, log: log}
}

// WithContactHours lets the reminders say when each resident prefers to be
// called.
func (m *Reminders) WithContactHours(h ContactHours) *Reminders {
	m.hours = h
	return m
}

// Run ticks every interval until ctx ends.
func (m *Reminders) Run(ctx context.Context, interval time.Duration, now func() time.Time) {
	for {
		if err := m.Tick(ctx, now()); err != nil && ctx.Err() == nil && m.log != nil {
			m.log.Warn("callback reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Tick sends what is due at now, source by source. A failing source does
// not hold back the others; the first error is returned. The residents'
// contact hours are read once for the whole round (one $in), not per job.
func (m *Reminders) Tick(ctx context.Context, now time.Time) error {
	first := min(m.cfg.RatePromptAfter, m.cfg.CallbackDueAfter)
	var firstErr error
	fail := func(src *Source, err error) {
		if firstErr == nil {
			firstErr = fmt.Errorf("%s callbacks: %w", src.Name, err)
		}
	}
	type waiting struct {
		src *Source
		ws  []Awaiting
	}
	var round []waiting
	var residents []string
	seen := map[string]bool{}
	for i := range m.sources {
		src := &m.sources[i]
		if src.Awaiting == nil {
			continue
		}
		ws, err := src.Awaiting.AwaitingCallbackBefore(ctx, now.Add(-first), 1000)
		if err != nil {
			fail(src, err)
			continue
		}
		round = append(round, waiting{src, ws})
		for _, w := range ws {
			if id := w.resident(); id != "" && !seen[id] && now.Sub(w.SignedOffAt) >= m.cfg.CallbackDueAfter {
				seen[id] = true
				residents = append(residents, id)
			}
		}
	}
	hours := map[string]string{}
	if m.hours != nil && len(residents) > 0 {
		var err error
		if hours, err = m.hours.ContactHoursOf(ctx, residents); err != nil {
			// The reminders matter more than the hours they quote.
			hours = map[string]string{}
			if m.log != nil {
				m.log.Warn("contact hours for callback reminders", "err", err)
			}
		}
	}
	for _, r := range round {
		for _, w := range r.ws {
			if err := m.remind(ctx, r.src, w, now, hours[w.resident()]); err != nil {
				fail(r.src, err)
				break
			}
		}
	}
	return firstErr
}

// resident is who the callback calls: whoever reported or booked the job,
// else whoever signed it off.
func (w *Awaiting) resident() string {
	if w.ResidentID != "" {
		return w.ResidentID
	}
	return w.SignerID
}

func (m *Reminders) remind(ctx context.Context, src *Source, w Awaiting, now time.Time, hours string) error {
	waited := now.Sub(w.SignedOffAt)
	vars := src.promptVars(w.Summary, w.Label, false, hours)
	data := map[string]string{src.IDKey: w.ID}
	key := func(what string) string { return fmt.Sprintf("%s:%s:round%d:%s", src.Name, w.ID, w.Round, what) }
	if !w.Rated && waited >= m.cfg.RatePromptAfter && w.SignerID != "" {
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackPromptOwner, Key: key("rate-prompt"), Vars: vars, Data: data,
			Recipients: []Recipient{{Kind: auth.KindPerson, ID: w.SignerID, CommunityID: w.CommunityID}}}); err != nil {
			return err
		}
	}
	if waited >= m.cfg.CallbackDueAfter && w.StaffID != "" {
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackDue, Key: key("callback-due"), Vars: vars, Data: data,
			Recipients: []Recipient{{Kind: auth.KindStaff, ID: w.StaffID, CommunityID: w.CommunityID}}}); err != nil {
			return err
		}
	}
	if waited >= m.cfg.OverdueAfter {
		sups, err := m.supervisors.WithRole(ctx, w.CommunityID, access.Supervisor)
		if err != nil {
			return err
		}
		var rs []Recipient
		for _, s := range sups {
			rs = append(rs, Recipient{Kind: auth.KindStaff, ID: s.ID, CommunityID: w.CommunityID})
		}
		over := src.promptVars(w.Summary, w.Label, true, hours)
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackDue, Key: key("callback-overdue"), Vars: over, Data: data, Recipients: rs}); err != nil {
			return err
		}
	}
	return nil
}
