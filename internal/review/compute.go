package review

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/complaint"
	"qinqing/internal/inspection"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
)

// MonthWindow is [from, to) of month (YYYY-MM) in loc. A month after the
// current one (at now) is refused.
func MonthWindow(month string, loc *time.Location, now time.Time) (from, to time.Time, err error) {
	t, perr := time.ParseInLocation("2006-01", month, loc)
	if perr != nil || t.Format("2006-01") != month || t.After(now) {
		return from, to, apperr.Invalid("month", "review.bad_month")
	}
	return t, t.AddDate(0, 1, 0), nil
}

// weeks are the Mondays (00:00 in the month's zone) that fall in [from, to)
// and whose week ended by now: the weeks a butler's quota is judged on.
func weeks(from, to, now time.Time) []time.Time {
	d := from
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	var out []time.Time
	for ; d.Before(to) && !d.AddDate(0, 0, 7).After(now); d = d.AddDate(0, 0, 7) {
		out = append(out, d)
	}
	return out
}

// batch is one month's computation for a set of staff.
type batch struct {
	from, to, now time.Time
	by            map[string]map[Key]*Figure
}

func (b *batch) add(staffID string, k Key, it *Item) {
	if m := b.by[staffID]; m != nil {
		if f := m[k]; f != nil {
			f.Items = append(f.Items, it)
		}
	}
}

func (b *batch) in(t time.Time) bool   { return !t.Before(b.from) && t.Before(b.to) }
func (b *batch) inP(t *time.Time) bool { return t != nil && b.in(*t) }

// Compute works out the month of every staff member given, all at once:
// one query per source for the whole batch (the staff ids go in $in, or
// the community's window is read once and split in memory), never one per
// staff member or item. Only the figures of each one's roles appear.
func (s *Service) Compute(ctx context.Context, communityID, month string, list []*staff.Staff) ([]*Review, error) {
	loc := s.zone(communityID)
	now := s.now()
	from, to, err := MonthWindow(month, loc, now)
	if err != nil {
		return nil, err
	}
	b := &batch{from: from, to: to, now: now, by: map[string]map[Key]*Figure{}}
	out := make([]*Review, len(list))
	need := map[Key][]string{}
	ids := make([]string, len(list))
	for i, st := range list {
		ids[i] = st.ID
		r := &Review{CommunityID: communityID, Month: month, From: from, To: to, Staff: st}
		out[i] = r
		m := map[Key]*Figure{}
		for _, k := range Keys {
			if !forEveryone(k) && !slices.ContainsFunc(relevant[k], func(role access.Role) bool { return slices.Contains(st.Roles, role) }) {
				continue
			}
			f := &Figure{Key: k, Items: []*Item{}}
			m[k], r.Figures = f, append(r.Figures, f)
			need[k] = append(need[k], st.ID)
		}
		b.by[st.ID] = m
	}
	if len(list) == 0 {
		return out, nil
	}
	// A source left unset (a tool wiring only part of the services) counts
	// nothing.
	steps := []struct {
		keys []Key
		on   bool
		run  func() error
	}{
		{[]Key{RepairsDone, ReopenedRounds, Ratings, Callbacks}, s.cfg.Repairs != nil, func() error {
			return s.cfg.Repairs.ForReview(ctx, communityID, from, to, func(r *repair.Request) error { b.repair(r); return nil })
		}},
		{[]Key{OrdersDone, Ratings, Callbacks}, s.cfg.Orders != nil, func() error {
			return s.cfg.Orders.ForReview(ctx, communityID, from, to, func(o *serviceorder.Order) error { b.order(o); return nil })
		}},
		{[]Key{InspectionFailure, CorrectiveOnTime}, s.cfg.Tasks != nil, func() error {
			return s.cfg.Tasks.TasksForReview(ctx, communityID, union(need, InspectionFailure, CorrectiveOnTime), from, to,
				func(t *inspection.Task) error { b.task(t); return nil })
		}},
		{[]Key{PatrolCheckpoints}, s.cfg.Patrols != nil, func() error { return s.patrols(ctx, b, communityID, need[PatrolCheckpoints]) }},
		{[]Key{Visits, VisitWeeks}, s.cfg.Visits != nil, func() error { return s.visits(ctx, b, communityID, need[Visits], loc) }},
		{[]Key{Complaints}, s.cfg.Complaints != nil, func() error {
			return s.cfg.Complaints.ForReview(ctx, communityID, need[Complaints], from, to,
				func(x *complaint.Complaint) error { b.complaint(x); return nil })
		}},
		{[]Key{Training}, true, func() error { return s.training(ctx, b, communityID) }},
	}
	for _, st := range steps {
		if !st.on || len(union(need, st.keys...)) == 0 {
			continue
		}
		if err := st.run(); err != nil {
			return nil, err
		}
	}
	if err := s.attachRatings(ctx, communityID, month, ids, out); err != nil {
		return nil, err
	}
	for _, r := range out {
		for _, f := range r.Figures {
			f.settle()
		}
	}
	return out, nil
}

// settle orders a figure's items (by time, then id) and counts them: the
// figure is what its items say.
func (f *Figure) settle() {
	slices.SortStableFunc(f.Items, func(a, b *Item) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	f.Count = len(f.Items)
	f.Met, f.Total = nil, nil
	if f.Key.IsRate() {
		n := 0
		for _, it := range f.Items {
			if it.Met {
				n++
			}
		}
		f.Met = &n
	}
	if f.Key.IsSum() {
		n := 0
		for _, it := range f.Items {
			n += it.Value
		}
		f.Total = &n
	}
}

func union(need map[Key][]string, keys ...Key) []string {
	var out []string
	for _, k := range keys {
		for _, id := range need[k] {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// short cuts a description to a title.
func short(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return string(r)
}

// repair attributes one request's month:
//   - a round is the engineer's whose work order of that round was
//     completed (REPAIRS_DONE when completed in the month, met when by the
//     round's finishBy; REOPENED_ROUNDS when that round's callback in the
//     month was unsatisfied; RATINGS for the round's star rating given in
//     the month);
//   - a callback is owed by the request's owner (首问责任人) for each round
//     signed off in the month, and met when they made it.
func (b *batch) repair(r *repair.Request) {
	title := func(round int) string { return fmt.Sprintf("报修 第%d轮 · %s", round, short(r.Description)) }
	doneBy := map[int]string{}
	for i := range r.WorkOrders {
		w := &r.WorkOrders[i]
		if w.CompletedAt == nil {
			continue
		}
		doneBy[w.Round] = w.EngineerID
		if b.in(*w.CompletedAt) {
			dl, ok := r.DeadlinesOf(w.Round)
			b.add(w.EngineerID, RepairsDone, &Item{Kind: KindRepair, ID: r.ID, Title: title(w.Round), At: *w.CompletedAt,
				Met: ok && !w.CompletedAt.After(dl.FinishBy)})
		}
	}
	for _, a := range r.Acceptances {
		if b.in(a.At) && a.Rating > 0 && doneBy[a.Round] != "" {
			b.add(doneBy[a.Round], Ratings, &Item{Kind: KindRepair, ID: r.ID, Title: title(a.Round), At: a.At, Met: true, Value: a.Rating})
		}
		if b.in(a.At) && r.OwnerStaffID != "" {
			met := slices.ContainsFunc(r.Callbacks, func(cb repair.Callback) bool { return cb.Round == a.Round && cb.StaffID == r.OwnerStaffID })
			b.add(r.OwnerStaffID, Callbacks, &Item{Kind: KindRepair, ID: r.ID, Title: "回访 · " + title(a.Round), At: a.At, Met: met})
		}
	}
	for _, cb := range r.Callbacks {
		if b.in(cb.At) && !cb.Satisfied && doneBy[cb.Round] != "" {
			b.add(doneBy[cb.Round], ReopenedRounds, &Item{Kind: KindRepair, ID: r.ID, Title: title(cb.Round), At: cb.At})
		}
	}
}

// order: ORDERS_DONE for the staff member who served it to done in the
// month, RATINGS for them when the owner rated it in the month, CALLBACKS
// owed by its handler when the owner accepted it in the month.
func (b *batch) order(o *serviceorder.Order) {
	title := "服务 · " + o.Line.Name
	if o.HouseholdLabel != "" {
		title += " · " + o.HouseholdLabel
	}
	if o.AssigneeID != "" && b.inP(o.DoneAt) {
		b.add(o.AssigneeID, OrdersDone, &Item{Kind: KindOrder, ID: o.ID, Title: title, At: *o.DoneAt, Met: true})
	}
	if a := o.Acceptance; a != nil && a.Rating > 0 && o.AssigneeID != "" && b.in(a.At) {
		b.add(o.AssigneeID, Ratings, &Item{Kind: KindOrder, ID: o.ID, Title: title, At: a.At, Met: true, Value: a.Rating})
	}
	if o.HandlerID != "" && b.inP(o.AcceptedAt) {
		met := o.Callback != nil && o.Callback.StaffID == o.HandlerID
		b.add(o.HandlerID, Callbacks, &Item{Kind: KindOrder, ID: o.ID, Title: "回访 · " + title, At: *o.AcceptedAt, Met: met})
	}
}

// task: each corrective task named to a staff member is a failed item of
// theirs (INSPECTION_FAILURES, when created in the month); one whose
// deadline fell in the month and has passed or is closed is due
// (CORRECTIVE_ON_TIME), met when a re-check passed by the deadline and
// none failed before it (an escalation moves the deadline: the first one
// was missed).
func (b *batch) task(t *inspection.Task) {
	title := fmt.Sprintf("整改 · %s %s · 第%d项 %s", t.Area, t.Location, t.Item.Seq, short(t.Item.Text))
	if b.in(t.CreatedAt) {
		b.add(t.AssigneeStaffID, InspectionFailure, &Item{Kind: KindTask, ID: t.ID, Title: title, At: t.CreatedAt})
	}
	closed, isClosed := t.ClosedAt()
	if b.in(t.Deadline) && (isClosed || b.now.After(t.Deadline)) {
		met := isClosed && !closed.After(t.Deadline) && t.Escalations == 0
		b.add(t.AssigneeStaffID, CorrectiveOnTime, &Item{Kind: KindTask, ID: t.ID, Title: title, At: t.Deadline, Met: met})
	}
}

// patrols: every checkpoint of every round a guard was on that started in
// the month and has ended, met when scanned in the round (a round is walked
// together: whoever of its guards scanned it).
func (s *Service) patrols(ctx context.Context, b *batch, communityID string, guards []string) error {
	rounds, err := s.cfg.Patrols.RoundsForReview(ctx, communityID, guards, b.from, b.to, b.now)
	if err != nil {
		return err
	}
	for _, v := range rounds {
		if v.Route == nil {
			continue
		}
		scanned := map[string]bool{}
		for _, x := range v.Scans {
			scanned[x.CheckpointID] = true
		}
		for _, g := range v.GuardIDs {
			for _, cp := range v.Route.Checkpoints {
				b.add(g, PatrolCheckpoints, &Item{Kind: KindRound, ID: v.ID, Title: "巡更 · " + v.Route.Name + " · " + cp.Name,
					At: v.Start.Add(cp.Offset), Met: scanned[cp.ID]})
			}
		}
	}
	return nil
}

// visits: the month's weeks (Monday to Sunday, Mondays in the month, ended
// by now); VISITS lists each visit in them, met when the household
// acknowledged it; VISIT_WEEKS each week, met when at least VisitQuota
// different households acknowledged a visit that week.
func (s *Service) visits(ctx context.Context, b *batch, communityID string, butlers []string, loc *time.Location) error {
	ws := weeks(b.from, b.to, b.now)
	if len(ws) == 0 {
		return nil
	}
	type wk struct{ staff, week string }
	acked := map[wk]map[string]bool{}
	wfrom, wto := ws[0], ws[len(ws)-1].AddDate(0, 0, 7)
	err := s.cfg.Visits.VisitsForReview(ctx, communityID, butlers, wfrom, wto, func(v *archive.Visit) error {
		b.add(v.StaffID, Visits, &Item{Kind: KindVisit, ID: v.ID, Title: "走访 · " + v.HouseholdID, At: v.VisitedAt, Met: v.Ack != nil})
		if v.Ack != nil {
			k := wk{v.StaffID, weekOf(v.VisitedAt.In(loc))}
			if acked[k] == nil {
				acked[k] = map[string]bool{}
			}
			acked[k][v.HouseholdID] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range butlers {
		for _, w := range ws {
			day := w.Format("2006-01-02")
			n := len(acked[wk{id, day}])
			b.add(id, VisitWeeks, &Item{Kind: KindVisitWeek, ID: day, Title: fmt.Sprintf("%s 起一周 · 已确认走访 %d 户", day, n),
				At: w, Met: n >= VisitQuota, Value: n})
		}
	}
	return nil
}

// weekOf is the Monday of t's week, as YYYY-MM-DD in t's zone.
func weekOf(t time.Time) string {
	d := (int(t.Weekday()) + 6) % 7
	return t.AddDate(0, 0, -d).Format("2006-01-02")
}
