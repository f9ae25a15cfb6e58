package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/repair"
	"qinqing/internal/staff"
)

// SignedOff lists requests waiting for their callback.
type SignedOff interface {
	SignedOffBefore(ctx context.Context, t time.Time, limit int) ([]*repair.Request, error)
}

// Supervisors finds who to tell when a callback is overdue.
type Supervisors interface {
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// ReminderConfig sets the callback prompts' delays.
type ReminderConfig struct {
	RatePromptAfter  time.Duration // ask an owner who signed without rating (default 2h)
	CallbackDueAfter time.Duration // remind the owning butler (default 24h)
	OverdueAfter     time.Duration // tell the supervisors too (default 72h)
}

// Reminders sends the callback prompts. Every server ticks them; the keys
// (request, round, what) make each prompt once.
type Reminders struct {
	engine      *Engine
	repairs     SignedOff
	supervisors Supervisors
	cfg         ReminderConfig
	log         *slog.Logger
}

// NewReminders wires the prompts.
func NewReminders(engine *Engine, repairs SignedOff, supervisors Supervisors, cfg ReminderConfig, log *slog.Logger) *Reminders {
	if cfg.RatePromptAfter == 0 {
		cfg.RatePromptAfter = 2 * time.Hour
	}
	if cfg.CallbackDueAfter == 0 {
		cfg.CallbackDueAfter = 24 * time.Hour
	}
	if cfg.OverdueAfter == 0 {
		cfg.OverdueAfter = 72 * time.Hour
	}
	return &Reminders{engine: engine, repairs: repairs, supervisors: supervisors, cfg: cfg, log: log}
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

// Tick sends what is due at now.
func (m *Reminders) Tick(ctx context.Context, now time.Time) error {
	first := min(m.cfg.RatePromptAfter, m.cfg.CallbackDueAfter)
	rs, err := m.repairs.SignedOffBefore(ctx, now.Add(-first), 1000)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := m.remind(ctx, r, now); err != nil {
			return err
		}
	}
	return nil
}

func (m *Reminders) remind(ctx context.Context, r *repair.Request, now time.Time) error {
	waited := now.Sub(*r.ConfirmedAt)
	summary := []rune(r.Description)
	if len(summary) > 30 {
		summary = append(summary[:30], '…')
	}
	vars := map[string]any{"summary": string(summary), "label": "", "overdue": false}
	data := map[string]string{"repairRequestId": r.ID}
	key := func(what string) string { return fmt.Sprintf("repair:%s:round%d:%s", r.ID, r.Round, what) }
	if !r.Rated && waited >= m.cfg.RatePromptAfter && len(r.Acceptances) > 0 {
		signer := r.Acceptances[len(r.Acceptances)-1].PersonID
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackPromptOwner, Key: key("rate-prompt"), Vars: vars, Data: data,
			Recipients: []Recipient{{Kind: auth.KindPerson, ID: signer, CommunityID: r.CommunityID}}}); err != nil {
			return err
		}
	}
	if waited >= m.cfg.CallbackDueAfter && r.OwnerStaffID != "" {
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackDue, Key: key("callback-due"), Vars: vars, Data: data,
			Recipients: []Recipient{{Kind: auth.KindStaff, ID: r.OwnerStaffID, CommunityID: r.CommunityID}}}); err != nil {
			return err
		}
	}
	if waited >= m.cfg.OverdueAfter {
		sups, err := m.supervisors.WithRole(ctx, r.CommunityID, access.Supervisor)
		if err != nil {
			return err
		}
		var rs []Recipient
		for _, s := range sups {
			rs = append(rs, Recipient{Kind: auth.KindStaff, ID: s.ID, CommunityID: r.CommunityID})
		}
		over := map[string]any{"summary": vars["summary"], "label": "", "overdue": true}
		if _, err := m.engine.Send(ctx, Message{Kind: CallbackDue, Key: key("callback-overdue"), Vars: over, Data: data, Recipients: rs}); err != nil {
			return err
		}
	}
	return nil
}
