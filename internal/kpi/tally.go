package kpi

import (
	"time"

	"qinqing/internal/complaint"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
)

// window is one period being counted: [from, to), its figures, and the
// moment its open/overdue counts are taken (its end, or now if earlier).
type window struct {
	from, to, at time.Time
	k            *KPIs
	filed        filedTally
}

func (w *window) in(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func (w *window) inPtr(t *time.Time) bool { return t != nil && w.in(*t) }

// Kinds of repair deadline.
const (
	respond = iota
	arrive
	finish
)

// deadline is one repair deadline whose outcome is known.
type deadline struct {
	kind int
	due  time.Time
	met  bool
}

// repairFacts are the moments of one request the KPIs count, worked out
// once per request however many windows count it.
type repairFacts struct {
	r              *repair.Request
	taken          *time.Time // the take step (首问): the response
	firstCompleted *time.Time // the first round's completion
	deadlines      []deadline
}

func factsOf(r *repair.Request, now time.Time) *repairFacts {
	f := &repairFacts{r: r}
	var cancelled *time.Time
	for i := range r.Timeline {
		e := &r.Timeline[i]
		switch {
		case e.Action == "take" && f.taken == nil:
			f.taken = &e.At
		case e.Action == "cancel" && cancelled == nil:
			cancelled = &e.At
		}
	}
	for round := 1; round <= r.Round; round++ {
		started, completed := roundSteps(r, round)
		if round == 1 {
			f.firstCompleted = completed
		}
		dl, ok := r.DeadlinesOf(round)
		if !ok {
			continue // reopened before rounds' deadlines were kept: unknown
		}
		if round == 1 {
			f.judge(respond, dl.RespondBy, f.taken, cancelled, now)
		}
		f.judge(arrive, dl.ArriveBy, started, cancelled, now)
		f.judge(finish, dl.FinishBy, completed, cancelled, now)
	}
	return f
}

// roundSteps are when a round's work first started on site and was first
// completed (a declined order never starts, so at most one order of a
// round does).
func roundSteps(r *repair.Request, round int) (started, completed *time.Time) {
	for i := range r.WorkOrders {
		w := &r.WorkOrders[i]
		if w.Round != round {
			continue
		}
		if w.StartedAt != nil && (started == nil || w.StartedAt.Before(*started)) {
			started = w.StartedAt
		}
		if w.CompletedAt != nil && (completed == nil || w.CompletedAt.Before(*completed)) {
			completed = w.CompletedAt
		}
	}
	return started, completed
}

// judge records a deadline's outcome, when it is known. The definitions:
//   - respond: the first round's respondBy, met when the request was taken
//     (take) at or before it. Later rounds have none that counts: a reopen
//     hands the request straight back to its owner and sets respondBy to
//     the reopen itself.
//   - arrive: each round's arriveBy, met when that round's work started on
//     site (start; accept only means the engineer set out) at or before it.
//   - finish: each round's finishBy, met when that round's work was
//     completed (complete, before the owner's sign-off) at or before it.
//
// A deadline whose step has not happened is missed once it has passed
// (now after it), unless the request was cancelled at or before it: then
// it never fell due. One not yet passed and not yet met is pending and not
// counted anywhere.
func (f *repairFacts) judge(kind int, due time.Time, step, cancelled *time.Time, now time.Time) {
	switch {
	case due.IsZero():
	case step != nil:
		f.deadlines = append(f.deadlines, deadline{kind: kind, due: due, met: !step.After(due)})
	case cancelled != nil && !cancelled.After(due):
	case now.After(due):
		f.deadlines = append(f.deadlines, deadline{kind: kind, due: due})
	}
}

// addRepair counts one request's moments that fall in w.
func (w *window) addRepair(f *repairFacts) {
	r, k := f.r, w.k
	if w.in(r.SubmittedAt) {
		k.Counts.NewRepairs++
		w.filed.add(KindRepair, channelOf(r.Intake, r.FiledByStaffID != ""))
	}
	if r.OpenAt(w.at) {
		k.Counts.OpenRepairs++
		if r.OverdueAt(w.at) {
			k.Counts.OverdueRepairs++
		}
	}
	if w.inPtr(f.taken) {
		k.AverageResponseTime.add(r.SubmittedAt, *f.taken)
	}
	if w.inPtr(f.firstCompleted) {
		k.AverageCompletionTime.add(r.SubmittedAt, *f.firstCompleted)
	}
	for _, a := range r.Acceptances {
		if !w.in(a.At) {
			continue
		}
		// Each signed-off round is a finished job owing a callback, except a
		// staff-filed public-area fault: nobody to call back, the sign-off
		// closed it.
		if r.OwesCallback() {
			k.CallbackRate.Repairs.count(calledBack(r, a.Round))
		}
		if a.Round == 1 {
			// Passed on the first round: not reopened after it.
			k.RepairPassRate.count(!reopened(r, 1))
		}
	}
	for _, cb := range r.Callbacks {
		if w.in(cb.At) {
			k.Satisfaction.RepairCallbacks.count(cb.Satisfied)
		}
	}
	for _, d := range f.deadlines {
		if !w.in(d.due) {
			continue
		}
		switch d.kind {
		case respond:
			k.OnTime.Respond.count(d.met)
		case arrive:
			k.OnTime.Arrive.count(d.met)
		case finish:
			k.OnTime.Finish.count(d.met)
		}
	}
}

func calledBack(r *repair.Request, round int) bool {
	for _, cb := range r.Callbacks {
		if cb.Round == round {
			return true
		}
	}
	return false
}

func reopened(r *repair.Request, round int) bool {
	for _, cb := range r.Callbacks {
		if cb.Round == round && !cb.Satisfied {
			return true
		}
	}
	return false
}

// addComplaint counts a complaint received in w.
func (w *window) addComplaint(x *complaint.Complaint) {
	if !w.in(x.SubmittedAt) {
		return
	}
	c := &w.k.Complaints
	c.Received++
	w.k.Counts.NewComplaints++
	w.filed.add(KindComplaint, channelOf(x.Intake, false))
	if x.Status == complaint.Withdrawn {
		c.Withdrawn++ // nothing left to close
		return
	}
	at, closed := x.ClosedAt()
	c.ClosureRate.count(closed)
	if closed {
		c.AverageClosureTime.add(x.SubmittedAt, at)
	}
}

// addOrder counts a service order booked, accepted or called back in w.
func (w *window) addOrder(o *serviceorder.Order) {
	k := w.k
	// A granted order (a renovation's free cleaning) was filed by nobody.
	if w.in(o.BookedAt) && o.Source == "" {
		w.filed.add(KindServiceOrder, channelOf(o.Intake, false))
	}
	if w.inPtr(o.AcceptedAt) {
		k.CallbackRate.ServiceOrders.count(o.Callback != nil)
	}
	if o.Callback != nil && w.in(o.Callback.At) {
		k.Satisfaction.ServiceOrderCallbacks.count(o.Callback.Satisfied)
	}
}
