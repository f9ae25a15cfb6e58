package notify

import (
	"context"
	"strings"
	"time"

	"qinqing/internal/repair"
)

// Source is one kind of followed job whose steps the household hears of and
// whose sign-off by the owner starts the callback prompts: repair requests
// and service orders (complaints too, without sign-off). Triggers and Reminders are one mechanism over a list
// of sources, so a third kind of job is a new Source, not a copy of them.
//
// Events of a source are "<Name>.<action>" with, in Data: "version",
// "status", "summary" (what notices quote), "reporterId" (the resident who
// started the job, told even when not an owner) and "ownerStaffId" (the staff
// member who owes the callback).
type Source struct {
	Name     string    // event type prefix and message key prefix: "repair", "serviceorder"
	Progress Kind      // the household's progress notices
	Subject  [2]string // how prompts name the job: 报修 / repair
	IDKey    string    // the Data key that carries the job's id to the apps
	// Steps are the owner-visible actions and what their notices say.
	Steps map[string]StepText
	// ReporterSteps are what a job with no household (a public-area
	// fault) tells the resident who reported it; nil: such jobs tell nobody.
	ReporterSteps map[string]StepText
	// Personal jobs (complaints) are their reporter's alone: every step
	// goes, by ReporterSteps, to the reporter and nobody else of the
	// household, as for a job with no household.
	Personal bool
	// SignOff is the action by which the owner signs the job off: a callback
	// is owed from then on.
	SignOff string
	// Awaiting lists jobs signed off and not yet called back, for the
	// reminders; nil sends no reminders for this source.
	Awaiting AwaitingLister
}

// StepText is what a progress notice says: the status (zh, en) for the
// title, and the progress for the body.
type StepText struct {
	Status, StatusEN, Progress, ProgressEN string
}

// Awaiting is one job signed off by the owner and waiting for its callback.
type Awaiting struct {
	ID          string
	CommunityID string
	Round       int    // 1 unless the job is reopened after an unsatisfied callback
	Summary     string // quoted by the prompts
	Label       string // the household's room label, if known
	SignedOffAt time.Time
	Rated       bool
	SignerID    string // the person asked to rate; "" asks nobody
	ResidentID  string // who reported or booked it, called back at their preferred hours; "": the signer
	StaffID     string // the staff member who owes the callback; "" reminds nobody until overdue
}

// AwaitingLister lists jobs signed off before t and not yet called back,
// oldest first, at most limit.
type AwaitingLister interface {
	AwaitingCallbackBefore(ctx context.Context, t time.Time, limit int) ([]Awaiting, error)
}

// vars are a notice's template variables. Both progress kinds read from the
// same set: REPAIR_PROGRESS composes its body from summary and progressText,
// SERVICE_ORDER_PROGRESS takes text ready-made.
func (s *Source) vars(st StepText, summary string) map[string]any {
	return map[string]any{
		"statusText": st.Status, "statusTextEN": st.StatusEN, "progressText": st.Progress, "progressTextEN": st.ProgressEN,
		"summary": summary, "subject": s.Subject[0], "subjectEN": s.Subject[1],
		"text":   "您的" + s.Subject[0] + "「" + summary + "」" + st.Progress,
		"textEN": "Your " + s.Subject[1] + " \"" + summary + "\": " + st.ProgressEN,
	}
}

// promptVars are the callback prompts' template variables; contactHours
// are the resident's preferred hours for calls (care archive), if known.
func (s *Source) promptVars(summary, label string, overdue bool, contactHours string) map[string]any {
	return map[string]any{"summary": summary, "label": label, "overdue": overdue, "subject": s.Subject[0], "subjectEN": s.Subject[1],
		"contactHours": contactHours}
}

// ContactHours finds the hours residents prefer to be called at (the care
// archive's contactHours), for the callback reminders: the butler calls when
// the resident prefers.
type ContactHours interface {
	ContactHoursOf(ctx context.Context, personIDs []string) (map[string]string, error)
}

// Summary shortens a description to what a notice quotes.
func Summary(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return string(r)
}

// RepairSource is the repair loop as a notification source.
func RepairSource(repairs SignedOff) Source {
	src := Source{Name: "repair", Progress: RepairProgress, Subject: [2]string{"报修", "repair"}, IDKey: "repairRequestId",
		Steps: repairSteps, ReporterSteps: publicRepairSteps, SignOff: "confirm"}
	if repairs != nil {
		src.Awaiting = repairAwaiting{repairs}
	}
	return src
}

// repairSteps are the owner-visible steps of a repair and what they say.
var repairSteps = map[string]StepText{
	"take":            {"已受理", "received", "已由物业受理，我们会尽快安排。", "has been received; we are arranging it."},
	"dispatch":        {"已派工", "assigned", "已派给维修师傅。", "has been assigned to an engineer."},
	"accept":          {"师傅已出发", "engineer on the way", "维修师傅已接单，正在赶来。", "the engineer is on the way."},
	"start":           {"维修中", "in progress", "维修师傅已到场开始维修。", "the engineer has started work."},
	"complete":        {"待验收", "please check", "维修已完成，请您验收并签字。", "the work is done; please check it and sign."},
	"callback_reopen": {"重新安排", "rescheduled", "我们将重新安排维修，直到您满意为止。", "we will send someone again until you are satisfied."},
	"callback_closed": {"已办结", "closed", "已办结，感谢您的支持。", "is closed. Thank you."},
	"cancel":          {"已取消", "cancelled", "已取消。", "has been cancelled."},
}

// publicRepairSteps are what the resident who reported a public-area fault
// hears: a supervisor, not they, signs it off.
var publicRepairSteps = map[string]StepText{
	"take":            repairSteps["take"],
	"dispatch":        repairSteps["dispatch"],
	"accept":          {"师傅已出发", "engineer on the way", "维修师傅已接单，正在前往现场。", "the engineer is on the way."},
	"start":           {"维修中", "in progress", "维修师傅已到现场开始维修。", "the engineer has started work."},
	"complete":        {"已完工", "work done", "维修已完成，物业主管将验收。", "the work is done; a supervisor will check it."},
	"confirm":         {"已验收", "checked", "物业主管已验收，管家将回访您。", "a supervisor has checked it; your butler will call you."},
	"callback_reopen": {"重新安排", "rescheduled", "我们将重新安排维修，直到您满意为止。", "we will send someone again until you are satisfied."},
	"callback_closed": repairSteps["callback_closed"],
	"cancel":          repairSteps["cancel"],
}

// SignedOff lists requests waiting for their callback.
type SignedOff interface {
	SignedOffBefore(ctx context.Context, t time.Time, limit int) ([]*repair.Request, error)
}

// repairAwaiting reads the repairs' work list as the reminders' Awaiting.
type repairAwaiting struct{ repairs SignedOff }

func (a repairAwaiting) AwaitingCallbackBefore(ctx context.Context, t time.Time, limit int) ([]Awaiting, error) {
	rs, err := a.repairs.SignedOffBefore(ctx, t, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Awaiting, 0, len(rs))
	for _, r := range rs {
		if r.ConfirmedAt == nil {
			continue
		}
		w := Awaiting{ID: r.ID, CommunityID: r.CommunityID, Round: r.Round, Summary: Summary(r.Description),
			SignedOffAt: *r.ConfirmedAt, Rated: r.Rated, StaffID: r.OwnerStaffID, ResidentID: r.ReporterID}
		if len(r.Acceptances) > 0 {
			w.SignerID = r.Acceptances[len(r.Acceptances)-1].PersonID
		}
		out = append(out, w)
	}
	return out, nil
}

// ServiceOrderSource is the paid and free service orders as a notification
// source; orders lists those waiting for their callback.
func ServiceOrderSource(orders AwaitingLister) Source {
	return Source{Name: "serviceorder", Progress: ServiceOrderUpdate, Subject: [2]string{"服务订单", "service order"},
		IDKey: "serviceOrderId", Steps: serviceOrderSteps, SignOff: "accept", Awaiting: orders}
}

// serviceOrderSteps are the owner-visible steps of a service order. The
// owner's own steps (booking, accepting, rating) are not echoed back.
var serviceOrderSteps = map[string]StepText{
	"grant":          {"已为您创建", "created for you", "已为您创建，我们会联系您约定上门时间。", "has been created for you; we will call to agree a time."},
	"confirm":        {"已确认", "confirmed", "已确认，服务人员已安排。", "is confirmed and a staff member is assigned."},
	"start":          {"服务中", "in service", "服务人员已开始服务。", "the service has started."},
	"laundry_return": {"衣物已送回", "laundry returned", "衣物已清点送回，请查收。", "your laundry has been counted and returned."},
	"complete":       {"待确认", "please check", "服务已完成，请您确认并评价。", "the service is done; please check and rate it."},
	"callback":       {"已回访", "followed up", "已回访，感谢您的支持。", "we have followed up with you. Thank you."},
	"cancel":         {"已取消", "cancelled", "已取消。", "has been cancelled."},
	"staff_cancel":   {"已取消", "cancelled", "已由物业取消，如有疑问请联系管家。", "was cancelled by the property office; please contact your butler with any questions."},
	"payment":        {"费用已更新", "charges updated", "费用状态已更新。", "the payment status has been updated."},
}
