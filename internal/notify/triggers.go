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

// Triggers turns domain events into messages. Every server process runs
// them on the same events; the message keys make the result once.
type Triggers struct {
	engine  *Engine
	bus     *events.Bus
	members Members
	log     *slog.Logger
}

// NewTriggers wires the event-driven messages.
func NewTriggers(engine *Engine, bus *events.Bus, members Members, log *slog.Logger) *Triggers {
	return &Triggers{engine: engine, bus: bus, members: members, log: log}
}

// repairSteps are the owner-visible steps of a repair and what they say.
var repairSteps = map[string][4]string{
	// action: statusText zh, en; progress zh, en
	"take":            {"已受理", "received", "已由物业受理，我们会尽快安排。", "has been received; we are arranging it."},
	"dispatch":        {"已派工", "assigned", "已派给维修师傅。", "has been assigned to an engineer."},
	"accept":          {"师傅已出发", "engineer on the way", "维修师傅已接单，正在赶来。", "the engineer is on the way."},
	"start":           {"维修中", "in progress", "维修师傅已到场开始维修。", "the engineer has started work."},
	"complete":        {"待验收", "please check", "维修已完成，请您验收并签字。", "the work is done; please check it and sign."},
	"callback_reopen": {"重新安排", "rescheduled", "我们将重新安排维修，直到您满意为止。", "we will send someone again until you are satisfied."},
	"callback_closed": {"已办结", "closed", "已办结，感谢您的支持。", "is closed. Thank you."},
	"cancel":          {"已取消", "cancelled", "已取消。", "has been cancelled."},
}

// Run listens until ctx ends. A dropped subscription (the buffer overflowed)
// is reopened; messages of events missed while no server ran are not sent.
func (t *Triggers) Run(ctx context.Context) {
	for ctx.Err() == nil {
		ch, cancel := t.bus.Subscribe(func(e events.Event) bool { return strings.HasPrefix(e.Type, "repair.") }, 4096)
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
	action := strings.TrimPrefix(e.Type, "repair.")
	switch action {
	case "confirm":
		return t.callbackDue(ctx, e)
	}
	step, ok := repairSteps[action]
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
	if len(rs) == 0 {
		return nil
	}
	_, err = t.engine.Send(ctx, Message{
		Kind: RepairProgress, Key: fmt.Sprintf("repair:%s:v%v", e.SubjectID, e.Data["version"]), Recipients: rs,
		Vars: map[string]any{"statusText": step[0], "statusTextEN": step[1], "progressText": step[2], "progressTextEN": step[3], "summary": str(e.Data["summary"])},
		Data: map[string]string{"repairRequestId": e.SubjectID, "status": str(e.Data["status"])},
	})
	return err
}

// callbackDue tells the staff member who owns a signed-off request that the
// owner is waiting for a callback.
func (t *Triggers) callbackDue(ctx context.Context, e events.Event) error {
	owner := str(e.Data["ownerStaffId"])
	if owner == "" {
		return nil
	}
	_, err := t.engine.Send(ctx, Message{
		Kind: CallbackDue, Key: fmt.Sprintf("repair:%s:callback-due:v%v", e.SubjectID, e.Data["version"]),
		Recipients: []Recipient{{Kind: auth.KindStaff, ID: owner, CommunityID: e.CommunityID}},
		Vars:       map[string]any{"summary": str(e.Data["summary"]), "label": "", "overdue": false},
		Data:       map[string]string{"repairRequestId": e.SubjectID},
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
