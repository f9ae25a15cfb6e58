package kpi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// The week of Monday 2 March 2026 (Shanghai), seeded through the real
// services step by step on the test clock, every figure known in advance.
// NORMAL deadlines: respond 30 min, arrive 4 h, finish 24 h after submit
// (after the reopen for a second round).
func seedWeek(f *fixture) {
	t0 := cst(2026, 3, 2, 9, 0)
	h := func(d time.Duration) time.Time { return t0.Add(d) }
	m := time.Minute
	// R1: on time everywhere, passed, called back satisfied.
	f.repair(h(0), f.take(h(10*m)), f.dispatch(h(15*m)), f.accept(h(20*m)), f.start(h(time.Hour)),
		f.complete(h(2*time.Hour)), f.confirm(h(3*time.Hour)), f.callback(h(5*time.Hour), true))
	// R2: taken late (40 min), arrives late (5 h after submit), reopened by
	// an unsatisfied callback; round 2 on time, called back satisfied.
	f.repair(h(time.Hour), f.take(h(100*m)), f.dispatch(h(105*m)), f.accept(h(2*time.Hour)), f.start(h(6*time.Hour)),
		f.complete(h(8*time.Hour)), f.confirm(h(9*time.Hour)), f.callback(h(10*time.Hour), false),
		f.dispatch(h(11*time.Hour)), f.accept(h(690*m)), f.start(h(12*time.Hour)), f.complete(h(13*time.Hour)),
		f.confirm(h(14*time.Hour)), f.callback(h(15*time.Hour), true))
	// R3: finished late (48 h after submit), signed off, never called back.
	f.repair(h(2*time.Hour), f.take(h(125*m)), f.dispatch(h(130*m)), f.accept(h(140*m)), f.start(h(3*time.Hour)),
		f.complete(h(50*time.Hour)), f.confirm(h(51*time.Hour)))
	// R4: Tuesday, on time, called back satisfied.
	f.repair(h(24*time.Hour), f.take(h(24*time.Hour+20*m)), f.dispatch(h(24*time.Hour+25*m)), f.accept(h(24*time.Hour+30*m)),
		f.start(h(26*time.Hour)), f.complete(h(29*time.Hour)), f.confirm(h(30*time.Hour)), f.callback(h(31*time.Hour), true))
	// R5: Thursday, never taken: misses all three deadlines, open and overdue at the week's end.
	f.repair(h(72 * time.Hour))
	// R6: Friday, cancelled before anything fell due.
	f.repair(h(96*time.Hour), f.cancel(h(96*time.Hour+10*m)))

	ack := func(c *complaint.Service, id string) (*complaint.Complaint, error) {
		return c.Acknowledge(f.ctx, f.butler, id)
	}
	reply := func(c *complaint.Service, id string) (*complaint.Complaint, error) {
		return c.Reply(f.ctx, f.butler, id, "已处理")
	}
	called := func(ok bool) func(c *complaint.Service, id string) (*complaint.Complaint, error) {
		return func(c *complaint.Service, id string) (*complaint.Complaint, error) {
			return c.Callback(f.ctx, f.butler, id, ok, "回访记录")
		}
	}
	withdraw := func(c *complaint.Service, id string) (*complaint.Complaint, error) {
		return c.Withdraw(f.ctx, f.ownerB, id, "")
	}
	// C1 closed 24 h after it came in; C2 reopened once and closed after 48 h;
	// C3 still handled; C4 withdrawn.
	f.complaint(h(time.Hour), f.cx(h(2*time.Hour), ack), f.cx(h(3*time.Hour), reply), f.cx(h(25*time.Hour), called(true)))
	f.complaint(h(48*time.Hour), f.cx(h(49*time.Hour), ack), f.cx(h(50*time.Hour), reply), f.cx(h(52*time.Hour), called(false)),
		f.cx(h(60*time.Hour), reply), f.cx(h(96*time.Hour), called(true)))
	f.complaint(h(100*time.Hour), f.cx(h(101*time.Hour), ack))
	f.complaint(h(50*time.Hour), f.cx(h(51*time.Hour), withdraw))

	// O1 accepted Tuesday and called back satisfied; O2 accepted Wednesday, no callback.
	cb := h(30 * time.Hour)
	f.order("test:o1", h(0), h(28*time.Hour), &cb, true)
	f.order("test:o2", h(24*time.Hour), h(53*time.Hour), nil, false)
}

func wantRatio(t *testing.T, name string, got Ratio, num, den int) {
	t.Helper()
	if !got.Available || got.Numerator != num || got.Denominator != den {
		t.Errorf("%s = %d/%d (available %v), want %d/%d", name, got.Numerator, got.Denominator, got.Available, num, den)
	}
	if den == 0 && got.Rate() != nil {
		t.Errorf("%s: rate %v with nothing to divide by", name, *got.Rate())
	}
	if r := got.Rate(); den > 0 && (r == nil || *r != float64(num)/float64(den)) {
		t.Errorf("%s: rate %v, want %d/%d", name, got.Rate() != nil, num, den)
	}
}

func wantDuration(t *testing.T, name string, got Duration, total time.Duration, count int) {
	t.Helper()
	if got.Total != total || got.Count != count {
		t.Errorf("%s = %v over %d, want %v over %d", name, got.Total, got.Count, total, count)
	}
	if count > 0 && *got.AverageSeconds() != total.Seconds()/float64(count) {
		t.Errorf("%s: average %v s", name, *got.AverageSeconds())
	}
}

func TestServiceKPIsOfASeededWeek(t *testing.T) {
	f := newFixture(t)
	seedWeek(f)
	f.clock.Set(cst(2026, 3, 9, 9, 0)) // the Monday after
	k, err := f.svc.ServiceKPIs(f.ctx, f.supervisor, f.x.ID, cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0))
	f.must(err)

	wantRatio(t, "repair pass (R1 R3 R4 of R1-R4 first signed off)", k.RepairPassRate, 3, 4)
	wantRatio(t, "repair callbacks (5 signed-off rounds, R3 not called back)", k.CallbackRate.Repairs, 4, 5)
	wantRatio(t, "order callbacks", k.CallbackRate.ServiceOrders, 1, 2)
	wantRatio(t, "callback rate", k.CallbackRate.Overall, 5, 7)
	wantRatio(t, "repair callback satisfaction (R2's first unsatisfied)", k.Satisfaction.RepairCallbacks, 3, 4)
	wantRatio(t, "order callback satisfaction", k.Satisfaction.ServiceOrderCallbacks, 1, 1)
	wantRatio(t, "callback satisfaction", k.Satisfaction.Callbacks, 4, 5)
	wantRatio(t, "overall satisfaction (no surveys connected)", k.Satisfaction.Overall, 4, 5)
	wantRatio(t, "respond on time (R2 late, R5 never taken, R6 cancelled in time)", k.OnTime.Respond, 3, 5)
	wantRatio(t, "arrive on time (R2 round 1 late, R5)", k.OnTime.Arrive, 4, 6)
	wantRatio(t, "finish on time (R3 late, R5)", k.OnTime.Finish, 4, 6)
	wantDuration(t, "response time", k.AverageResponseTime, (10+40+5+20)*time.Minute, 4)
	wantDuration(t, "completion time", k.AverageCompletionTime, (2+7+48+5)*time.Hour, 4)
	if c := k.Complaints; c.Received != 4 || c.Withdrawn != 1 {
		t.Errorf("complaints received %d, withdrawn %d; want 4, 1", c.Received, c.Withdrawn)
	}
	wantRatio(t, "complaint closure", k.Complaints.ClosureRate, 2, 3)
	wantDuration(t, "complaint closure time", k.Complaints.AverageClosureTime, 72*time.Hour, 2)
	if k.Satisfaction.Surveys.Available || k.Satisfaction.Surveys.Rate() != nil || k.EventAttendance.Available || k.EventAttendance.Rate() != nil {
		t.Errorf("sources not connected must be not available: surveys %+v, attendance %+v", k.Satisfaction.Surveys, k.EventAttendance)
	}
	if want := (Counts{NewRepairs: 6, OpenRepairs: 1, OverdueRepairs: 1, NewComplaints: 4}); k.Counts != want {
		t.Errorf("counts = %+v, want %+v", k.Counts, want)
	}

	// Community Y had nothing: every rate is null, nothing divides by zero.
	ky, err := f.svc.ServiceKPIs(f.ctx, f.supervisorY, f.y.ID, cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0))
	f.must(err)
	wantRatio(t, "Y pass", ky.RepairPassRate, 0, 0)
	wantRatio(t, "Y closure", ky.Complaints.ClosureRate, 0, 0)
	if ky.AverageResponseTime.AverageSeconds() != nil || ky.Counts != (Counts{}) {
		t.Errorf("Y: %+v", ky)
	}
}

// fakeSurveys and fakeEvents stand in for the survey and event services,
// built on other branches: they record the window they were asked about.
type fakeSurveys struct{ from, to time.Time }

func (s *fakeSurveys) SatisfactionIn(_ context.Context, _ string, from, to time.Time) (int, int, error) {
	s.from, s.to = from, to
	return 8, 10, nil
}

type fakeEvents struct{ err error }

func (e fakeEvents) AttendanceIn(context.Context, string, time.Time, time.Time) (int, int, error) {
	return 15, 20, e.err
}

func TestConnectedSourcesJoinTheFigures(t *testing.T) {
	f := newFixture(t)
	seedWeek(f)
	f.clock.Set(cst(2026, 3, 9, 9, 0))
	surveys := &fakeSurveys{}
	cfg := f.deps
	cfg.Surveys, cfg.Activities = surveys, fakeEvents{}
	from, to := cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0)
	k, err := NewService(cfg).ServiceKPIs(f.ctx, f.admin, f.x.ID, from, to)
	f.must(err)
	wantRatio(t, "survey satisfaction", k.Satisfaction.Surveys, 8, 10)
	wantRatio(t, "overall satisfaction (8/10 surveys + 4/5 callbacks)", k.Satisfaction.Overall, 12, 15)
	wantRatio(t, "attendance", k.EventAttendance, 15, 20)
	if !surveys.from.Equal(from) || !surveys.to.Equal(to) {
		t.Errorf("surveys asked about [%v, %v)", surveys.from, surveys.to)
	}
	r, err := NewService(cfg).WeeklyReport(f.ctx, f.admin, f.x.ID, "2026-03-04")
	f.must(err)
	if !strings.Contains(r.SummaryZH, "。满意度80.0%（12/15，上周80.0%）") || !strings.Contains(r.SummaryZH, "活动参与率75.0%（15/20，上周75.0%）") {
		t.Errorf("summary with every source: %s", r.SummaryZH)
	}
	cfg.Activities = fakeEvents{err: errors.New("down")}
	if _, err := NewService(cfg).ServiceKPIs(f.ctx, f.admin, f.x.ID, from, to); err == nil {
		t.Error("a failing source must fail the figures, not hide them")
	}
}

func TestWhoMayReadKPIs(t *testing.T) {
	f := newFixture(t)
	from, to := cst(2026, 3, 2, 0, 0), cst(2026, 3, 9, 0, 0)
	tests := []struct {
		name      string
		c         *access.Caller
		community string
		from, to  time.Time
		code      apperr.Code // "" = allowed
		field     string
	}{
		{"supervisor", f.supervisor, f.x.ID, from, to, "", ""},
		{"admin", f.admin, f.x.ID, from, to, "", ""},
		{"owner", f.ownerA, f.x.ID, from, to, apperr.Forbidden, ""},
		{"butler", f.butler, f.x.ID, from, to, apperr.Forbidden, ""},
		{"engineer", f.engineer, f.x.ID, from, to, apperr.Forbidden, ""},
		{"supervisor of another community", f.supervisorY, f.x.ID, from, to, apperr.Forbidden, ""},
		{"admin, no such community", f.admin, mongo.NewID(), from, to, apperr.NotFound, "communityId"},
		{"bad id", f.supervisor, "x", from, to, apperr.BadUserInput, "communityId"},
		{"empty window", f.supervisor, f.x.ID, from, from, apperr.BadUserInput, "to"},
		{"backwards", f.supervisor, f.x.ID, to, from, apperr.BadUserInput, "to"},
		{"over 366 days", f.supervisor, f.x.ID, from, from.Add(MaxWindow + time.Second), apperr.BadUserInput, "to"},
		{"366 days", f.supervisor, f.x.ID, from, from.Add(MaxWindow), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ServiceKPIs(f.ctx, tc.c, tc.community, tc.from, tc.to)
			checkErr(t, err, tc.code, tc.field)
			_, err = f.svc.WeeklyReport(f.ctx, tc.c, tc.community, "2026-03-04")
			if tc.field != "to" { // the week has no window to get wrong
				checkErr(t, err, tc.code, tc.field)
			}
		})
	}
	_, err := f.svc.WeeklyReport(f.ctx, f.supervisor, f.x.ID, "2026-02-30")
	checkErr(t, err, apperr.BadUserInput, "weekOf")
}

func checkErr(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Field != field {
		t.Fatalf("err = %v, want %s on %q", err, code, field)
	}
}

func TestWeeklyReportComparesWithTheWeekBefore(t *testing.T) {
	f := newFixture(t)
	seedWeek(f)
	f.clock.Set(cst(2026, 3, 9, 9, 0))
	r, err := f.svc.WeeklyReport(f.ctx, f.supervisor, f.x.ID, "2026-03-08") // a Sunday: the week of 2 March
	f.must(err)
	if r.WeekStart != "2026-03-02" || r.WeekEnd != "2026-03-08" || !r.Current.From.Equal(cst(2026, 3, 2, 0, 0)) || !r.Previous.From.Equal(cst(2026, 2, 23, 0, 0)) {
		t.Fatalf("weeks: %s to %s, current from %v, previous from %v", r.WeekStart, r.WeekEnd, r.Current.From, r.Previous.From)
	}
	wantRatio(t, "this week's pass", r.Current.RepairPassRate, 3, 4)
	wantRatio(t, "last week's pass", r.Previous.RepairPassRate, 0, 0)
	if r.Current.Counts.NewRepairs != 6 || r.Previous.Counts != (Counts{}) {
		t.Errorf("counts %+v / %+v", r.Current.Counts, r.Previous.Counts)
	}
	for _, s := range []string{"春晖苑 3月2日—3月8日服务周报", "新增报修6单，未完结1单，其中超时1单；新增投诉4件",
		"回访满意度80.0%（4/5，上周—）", "维修一次合格率75.0%（3/4，上周—）", "回访率71.4%（5/7，上周—）", "响应准时率60.0%（3/5", "平均响应19分钟",
		"平均完成15.5小时", "投诉办结率66.7%（2/3", "平均办结36.0小时", "活动参与率暂无数据"} {
		if !strings.Contains(r.SummaryZH, s) {
			t.Errorf("summary lacks %q:\n%s", s, r.SummaryZH)
		}
	}
	if !strings.Contains(r.SummaryEN, "first-time pass 75.0% (3/4; last week —)") || r.Summary(apperr.EN) != r.SummaryEN || r.Summary(apperr.ZH) != r.SummaryZH {
		t.Errorf("English summary: %s", r.SummaryEN)
	}
}
