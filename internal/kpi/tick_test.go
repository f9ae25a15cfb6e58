package kpi

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/notify"
)

// Two servers tick every minute: each community's supervisors get last
// week's report once, on Monday from 08:30 their time, and a new one the
// next Monday.
func TestWeeklyTickSendsOncePerCommunityPerWeek(t *testing.T) {
	f := newFixture(t)
	seedWeek(f)
	other := f.deps
	other.Owner = "server-2"
	servers := []*Service{f.svc, NewService(other)}
	tick := func(at time.Time) {
		t.Helper()
		f.clock.Set(at)
		for _, s := range servers {
			f.must(s.Tick(f.ctx, at))
		}
	}
	reports := func(c *access.Caller) []*notify.Notification { return f.inbox(c, notify.WeeklyReport) }

	tick(cst(2026, 3, 9, 8, 29))
	if n := len(reports(f.supervisor)); n != 0 {
		t.Fatalf("%d reports before 08:30", n)
	}
	tick(cst(2026, 3, 9, 8, 30))
	x := reports(f.supervisor)
	if len(x) != 1 || x[0].Key != MessageKey(f.x.ID, "2026-03-02") || x[0].Title != "春晖苑服务周报（3月2日—3月8日）" ||
		!strings.Contains(x[0].Body, "新增报修6单") || x[0].Data["communityId"] != f.x.ID || x[0].Data["weekStart"] != "2026-03-02" {
		t.Fatalf("supervisor X's reports: %+v", x)
	}
	if y := reports(f.supervisorY); len(y) != 1 || y[0].Key != MessageKey(f.y.ID, "2026-03-02") || !strings.Contains(y[0].Body, "新增报修0单") {
		t.Fatalf("supervisor Y's reports: %+v", y)
	}
	if n := len(reports(f.butler)); n != 0 {
		t.Fatalf("a butler got %d reports", n)
	}
	tick(cst(2026, 3, 9, 10, 0))
	tick(cst(2026, 3, 10, 9, 0))
	if n, m := len(reports(f.supervisor)), len(reports(f.supervisorY)); n != 1 || m != 1 {
		t.Fatalf("after ticking again the same week: %d and %d reports", n, m)
	}
	tick(cst(2026, 3, 16, 8, 30))
	x = reports(f.supervisor)
	if len(x) != 2 || x[0].Key != MessageKey(f.x.ID, "2026-03-09") || len(reports(f.supervisorY)) != 2 {
		t.Fatalf("next Monday: %+v", x)
	}
	// A Monday no server saw is not sent late in the week.
	tick(cst(2026, 3, 24, 9, 0))
	if n := len(reports(f.supervisor)); n != 2 {
		t.Fatalf("a Tuesday sent last week's report: %d reports", n)
	}
}

// A server that claimed a report and died before sending it is taken over
// once its claim is stale; a fresh claim is left to its owner.
func TestWeeklyTickTakesOverAStaleClaim(t *testing.T) {
	f := newFixture(t)
	monday := cst(2026, 3, 23, 8, 40)
	runs := f.db.Collection("kpi_weekly_runs")
	for _, r := range []run{
		{ID: "weekly:" + f.x.ID + ":2026-03-16", CommunityID: f.x.ID, WeekStart: "2026-03-16", ClaimedAt: monday.Add(-10 * time.Minute).UTC(), Owner: "dead"},
		{ID: "weekly:" + f.y.ID + ":2026-03-16", CommunityID: f.y.ID, WeekStart: "2026-03-16", ClaimedAt: monday.Add(-2 * time.Minute).UTC(), Owner: "busy"},
	} {
		_, err := runs.InsertOne(f.ctx, r)
		f.must(err)
	}
	f.clock.Set(monday)
	f.must(f.svc.Tick(f.ctx, monday))
	if x, y := f.inbox(f.supervisor, notify.WeeklyReport), f.inbox(f.supervisorY, notify.WeeklyReport); len(x) != 1 || len(y) != 0 {
		t.Fatalf("stale claim taken over, fresh one left: X %d, Y %d", len(x), len(y))
	}
	later := monday.Add(5 * time.Minute)
	f.clock.Set(later)
	f.must(f.svc.Tick(f.ctx, later))
	if y := f.inbox(f.supervisorY, notify.WeeklyReport); len(y) != 1 {
		t.Fatalf("Y's claim went stale: %d reports", len(y))
	}
	var done run
	f.must(runs.FindOne(f.ctx, bson.D{{Key: "_id", Value: "weekly:" + f.y.ID + ":2026-03-16"}}).Decode(&done))
	if done.SentAt == nil || done.Recipients != 1 || done.Owner != f.svc.cfg.Owner {
		t.Fatalf("run after takeover: %+v", done)
	}
}
