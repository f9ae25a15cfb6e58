// Package kpi computes how the company measures itself (DOMAIN.md, "How
// the company measures itself") for one community over a window of time:
// satisfaction from surveys and callbacks, the repair pass rate, the
// callback rate, on-time rates against the repair deadlines, response and
// completion times, complaint closure and event attendance. Every figure
// carries the counts it was computed from, so each can be traced back to
// the requests, orders and complaints behind it. It also writes the weekly
// report (周报) supervisors get every Monday morning.
//
// The figures are read from the repair, complaint, service-order, enquiry,
// campaign-visit and move-booking services (one streamed, indexed query per
// collection, projected to the fields a report needs), and from the survey and event services through
// the two interfaces below; a source that is not connected (nil) reports
// its figures as not available.
//
// Attribution, one rule for all: a figure is counted in the window in which
// its defining moment falls (a sign-off, a callback, a take, a completion,
// a deadline falling due, a complaint received), and its outcome (called
// back? reopened? closed? met?) is as known when the figures are computed.
// So a past window's rates may still move as late callbacks are recorded;
// its denominators do not.
package kpi

import (
	"context"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/fee"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
)

// SurveySource is the survey service (built on its own branch):
// over the community's surveys whose open window overlaps [from, to), rated
// is the number of satisfaction scores given and satisfied those of 4 or 5.
type SurveySource interface {
	SatisfactionIn(ctx context.Context, communityID string, from, to time.Time) (satisfied, rated int, err error)
}

// AttendanceSource is the event service (built on its own branch): over
// the community's events that ended in [from, to) and were not cancelled,
// expected is the confirmed sign-ups and attended those checked in.
type AttendanceSource interface {
	AttendanceIn(ctx context.Context, communityID string, from, to time.Time) (attended, expected int, err error)
}

// CallSource is the hotline's call log: of the community's inbound calls
// received in [from, to), measured is those logged with rings or seconds
// and within those answered within the standard.
type CallSource interface {
	AnsweredWithinStandardIn(ctx context.Context, communityID string, from, to time.Time) (within, measured int, err error)
}

// Repairs streams the repair requests a report needs.
type Repairs interface {
	ForReport(ctx context.Context, communityID string, from, to time.Time, fn func(*repair.Request) error) error
}

// Complaints streams the complaints received in a window.
type Complaints interface {
	ReceivedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*complaint.Complaint) error) error
}

// Orders streams the service orders booked, accepted or called back in a window.
type Orders interface {
	ForReport(ctx context.Context, communityID string, from, to time.Time, fn func(*serviceorder.Order) error) error
}

// Communities lists communities and their time zones.
type Communities interface {
	List(ctx context.Context, c *access.Caller) ([]*community.Community, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
}

// StaffDirectory finds a community's supervisors, who get the weekly report.
type StaffDirectory interface {
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// Committee answers who sits on a community's owners' committee.
type Committee interface {
	RoleOf(ctx context.Context, c *access.Caller, communityID string) (committee.Role, error)
}

// Ratio is a share with the counts it was computed from. Available is
// false when its source is not connected (then both counts are 0).
type Ratio struct {
	Numerator   int
	Denominator int
	Available   bool
}

// Rate is Numerator/Denominator in [0, 1]; nil when not available or when
// there is nothing to divide by.
func (r Ratio) Rate() *float64 {
	if !r.Available || r.Denominator == 0 {
		return nil
	}
	v := float64(r.Numerator) / float64(r.Denominator)
	return &v
}

// Plus adds two ratios' counts; available when either is.
func (r Ratio) Plus(o Ratio) Ratio {
	return Ratio{Numerator: r.Numerator + o.Numerator, Denominator: r.Denominator + o.Denominator, Available: r.Available || o.Available}
}

func (r *Ratio) count(ok bool) {
	r.Denominator++
	if ok {
		r.Numerator++
	}
}

// Duration is an average time with the total and count it was computed from.
type Duration struct {
	Total time.Duration
	Count int
}

// TotalSeconds is the total in whole seconds.
func (d Duration) TotalSeconds() float64 { return float64(d.Total / time.Second) }

// AverageSeconds is Total/Count in seconds; nil when Count is 0.
func (d Duration) AverageSeconds() *float64 {
	if d.Count == 0 {
		return nil
	}
	v := d.TotalSeconds() / float64(d.Count)
	return &v
}

func (d *Duration) add(from, to time.Time) {
	d.Total += to.Sub(from)
	d.Count++
}

// KPIs are one community's figures over [From, To).
type KPIs struct {
	CommunityID  string
	From, To     time.Time
	ComputedAt   time.Time // outcomes are as known then
	Satisfaction Satisfaction
	// RepairPassRate: requests first signed off in the window (denominator)
	// that were not reopened after that first round (numerator).
	RepairPassRate Ratio
	CallbackRate   CallbackRates
	OnTime         OnTime
	// AverageResponseTime: submit → take, of the requests taken in the window.
	AverageResponseTime Duration
	// AverageCompletionTime: submit → first completion, of the requests whose
	// first round was completed in the window.
	AverageCompletionTime Duration
	Complaints            ComplaintKPIs
	// EventAttendance: checked in / confirmed sign-ups of events that ended in
	// the window (the event service).
	EventAttendance Ratio
	// CallsAnsweredWithinStandard: inbound hotline calls received in the
	// window answered within three rings (the call log).
	CallsAnsweredWithinStandard Ratio
	Counts                      Counts
	// Enquiries (咨询) received in the window (the enquiry service).
	Enquiries EnquiryKPIs
	// Filed: items filed in the window per intake channel (受理渠道), each
	// counted in the window it was filed in (see channelOf).
	Filed Filed
	// FeeCollection: the billing periods the window overlaps, oldest
	// first, each as collected so far (物业费收缴率).
	FeeCollection []*fee.PeriodCollection
	// Estate: inspections, corrective tasks, patrols, maintenance and
	// incidents (how the estate itself is run).
	Estate EstateKPIs
}

// Satisfaction: shares of 4-5 scores in surveys, and of satisfied callbacks
// recorded in the window; Overall adds them up.
type Satisfaction struct {
	Overall, Surveys, Callbacks, RepairCallbacks, ServiceOrderCallbacks Ratio
}

// CallbackRates: finished jobs (a repair round signed off, a service order
// accepted, in the window) with a callback recorded for them.
type CallbackRates struct {
	Overall, Repairs, ServiceOrders Ratio
}

// OnTime: repair deadlines falling due in the window whose outcome is
// known, and how many of them were met (see repairFacts.judge).
type OnTime struct {
	Respond, Arrive, Finish Ratio
}

// ComplaintKPIs are about the complaints received in the window.
type ComplaintKPIs struct {
	Received  int
	Withdrawn int
	// ClosureRate: closed (satisfied callback) / received and not withdrawn.
	ClosureRate Ratio
	// AverageClosureTime: received → closed, of those closed.
	AverageClosureTime Duration
}

// Counts are the weekly report's workload figures; Open and Overdue are
// at the window's end (or now, if that is earlier).
type Counts struct {
	NewRepairs     int
	OpenRepairs    int
	OverdueRepairs int
	NewComplaints  int
}

// MaxWindow bounds a KPI window, and with it every query behind it.
const MaxWindow = 366 * 24 * time.Hour

// ErrBadWindow is a window that ends before it starts or is longer than MaxWindow.
var ErrBadWindow = apperr.New(apperr.BadUserInput, "kpi.bad_window")

func init() {
	apperr.Register(map[string]apperr.Text{
		"kpi.bad_window": {ZH: "时间段无效：结束须晚于开始，且不超过 366 天", EN: "must be after from, at most 366 days later"},
	})
}

// mayRead: the community's supervisors, and admins (who see every
// community, as for delivery reports); everyone else is FORBIDDEN, as for
// every community-wide figure.
func mayRead(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || c.IsAdmin()
}
