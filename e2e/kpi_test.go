package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/config"
)

const kpiFields = `communityId from to
  satisfaction { overall { rate numerator denominator available } surveys { rate available } callbacks { numerator denominator } }
  repairPassRate { rate numerator denominator available }
  callbackRate { overall { numerator denominator } repairs { numerator denominator } serviceOrders { numerator denominator } }
  onTime { respond { numerator denominator } arrive { numerator denominator } finish { numerator denominator } }
  averageResponseTime { averageSeconds totalSeconds count }
  averageCompletionTime { averageSeconds totalSeconds count }
  complaints { received withdrawn closureRate { numerator denominator } averageClosureTime { totalSeconds count } }
  eventAttendance { rate numerator denominator available }
  counts { newRepairs openRepairs overdueRepairs newComplaints }`

type kpiRatio struct {
	Rate                   *float64
	Numerator, Denominator int
	Available              bool
}

type kpiDuration struct {
	AverageSeconds *float64
	TotalSeconds   float64
	Count          int
}

type kpiView struct {
	CommunityID, From, To string
	Satisfaction          struct{ Overall, Surveys, Callbacks kpiRatio }
	RepairPassRate        kpiRatio
	CallbackRate          struct{ Overall, Repairs, ServiceOrders kpiRatio }
	OnTime                struct{ Respond, Arrive, Finish kpiRatio }
	AverageResponseTime   kpiDuration
	AverageCompletionTime kpiDuration
	Complaints            struct {
		Received, Withdrawn int
		ClosureRate         kpiRatio
		AverageClosureTime  kpiDuration
	}
	EventAttendance kpiRatio
	Counts          struct{ NewRepairs, OpenRepairs, OverdueRepairs, NewComplaints int }
}

func (r kpiRatio) is(num, den int) bool { return r.Numerator == num && r.Denominator == den }

// A week of repairs and a complaint walked through the API on the test
// clock; then the supervisor reads the week's KPIs and weekly report, gets
// the report in the inbox on Monday morning, and nobody else reads them.
func TestServiceKPIsThroughTheAPI(t *testing.T) {
	longTokens := func(c *config.Config) { c.AccessTTL = 60 * 24 * time.Hour } // the clock moves a week at a time
	e := newEnv(t, longTokens)
	w := e.world()
	ctx := context.Background()
	engID, _, _, err := e.App.Services.Staff.StaffCredentials(ctx, w.engineerX)
	if err != nil {
		t.Fatal(err)
	}
	cst := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, shanghaiZone) }
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	butler, eng := e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password)
	supervisor := e.staff(w.supervisorX, w.Password)
	at := func(d, hh, mm int) { e.Clock.Set(cst(d, hh, mm)) }
	step := func(c *client, mutation string, id string, want string) {
		t.Helper()
		vars := raID(id)
		if mutation == raDispatch {
			vars["e"] = engID
		}
		raStep(t, c, mutation, vars, want)
	}
	confirm := func(c *client, id string) {
		t.Helper()
		if r := c.multipart(raConfirm+`{ id } }`, map[string]any{"id": id, "s": nil}, map[string][]byte{"variables.s": pngBytes}); len(r.Errors) > 0 {
			t.Fatalf("confirm: %+v", r.Errors)
		}
	}
	callback := func(id string, satisfied bool) {
		t.Helper()
		butler.ok(`mutation($id:ID!,$s:Boolean!){ recordRepairCallback(id:$id, satisfied:$s, notes:"回访"){ id } }`, map[string]any{"id": id, "s": satisfied}, nil)
	}

	// Monday 23 November: R1 on time, signed off, called back satisfied.
	at(23, 9, 0)
	r1 := raSubmit(t, ownerA, w.HA.ID, "WATER", "NORMAL")
	at(23, 9, 10)
	step(butler, raTake, r1.ID, "TAKEN")
	step(butler, raDispatch, r1.ID, "DISPATCHED")
	step(eng, raAccept, r1.ID, "ACCEPTED")
	at(23, 10, 0)
	step(eng, raStart, r1.ID, "IN_PROGRESS")
	at(23, 11, 10)
	step(eng, raComplete, r1.ID, "COMPLETED")
	at(23, 12, 0)
	confirm(ownerA, r1.ID)
	at(23, 14, 0)
	callback(r1.ID, true)
	// R2: taken an hour after it came in (respond due in 30 min), on site
	// late, done, signed off; the callback is unsatisfied: reopened, and the
	// second round is never dispatched.
	at(23, 9, 30)
	r2 := raSubmit(t, ownerB, w.HB.ID, "ELECTRICITY", "NORMAL")
	at(23, 10, 30)
	step(butler, raTake, r2.ID, "TAKEN")
	step(butler, raDispatch, r2.ID, "DISPATCHED")
	step(eng, raAccept, r2.ID, "ACCEPTED")
	at(23, 15, 0)
	step(eng, raStart, r2.ID, "IN_PROGRESS")
	at(23, 16, 0)
	step(eng, raComplete, r2.ID, "COMPLETED")
	at(23, 17, 0)
	confirm(ownerB, r2.ID)
	at(23, 18, 0)
	callback(r2.ID, false)
	// A complaint on Tuesday, closed a day after it came in.
	at(24, 9, 0)
	x := decodeComplaint(t, ownerA.do(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ `+complaintFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "NOISE", "description": "夜间施工噪音"}}), "submitComplaint")
	butler.ok(`mutation($id:ID!){ acknowledgeComplaint(id:$id){ id } }`, raID(x.ID), nil)
	butler.ok(`mutation($id:ID!){ replyComplaint(id:$id, text:"已协调"){ id } }`, raID(x.ID), nil)
	at(25, 9, 0)
	butler.ok(`mutation($id:ID!){ recordComplaintCallback(id:$id, satisfied:true){ id } }`, raID(x.ID), nil)
	// R3: Wednesday, nobody takes it.
	raSubmit(t, ownerA, w.HA.ID, "DOORS_WINDOWS", "NORMAL")

	// Monday 30 November, 08:00: the week is over.
	at(30, 8, 0)
	q := `query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ ` + kpiFields + ` } }`
	vars := map[string]any{"c": w.X.ID, "f": "2026-11-23T00:00:00+08:00", "t": "2026-11-30T00:00:00+08:00"}
	var out struct{ ServiceKpis kpiView }
	supervisor.ok(q, vars, &out)
	k := out.ServiceKpis
	checks := []struct {
		name string
		ok   bool
	}{
		{"pass rate 1/2 (R2 reopened)", k.RepairPassRate.is(1, 2) && k.RepairPassRate.Rate != nil && *k.RepairPassRate.Rate == 0.5},
		{"callback rate 2/2, no service orders", k.CallbackRate.Overall.is(2, 2) && k.CallbackRate.Repairs.is(2, 2) && k.CallbackRate.ServiceOrders.is(0, 0)},
		{"callback satisfaction 1/2", k.Satisfaction.Callbacks.is(1, 2) && k.Satisfaction.Overall.is(1, 2)},
		{"no survey ran that week", k.Satisfaction.Surveys.Available && k.Satisfaction.Surveys.Denominator == 0 && k.Satisfaction.Surveys.Rate == nil},
		{"no event ended that week", k.EventAttendance.Available && k.EventAttendance.Denominator == 0 && k.EventAttendance.Rate == nil},
		{"respond 1/3 (R2 late, R3 never)", k.OnTime.Respond.is(1, 3)},
		{"arrive 1/4 (R2 both rounds, R3)", k.OnTime.Arrive.is(1, 4)},
		{"finish 2/4 (R2 round 2, R3)", k.OnTime.Finish.is(2, 4)},
		{"response 10 + 60 min", k.AverageResponseTime.TotalSeconds == 4200 && k.AverageResponseTime.Count == 2 && *k.AverageResponseTime.AverageSeconds == 2100},
		{"completion 2h10 + 6h30", k.AverageCompletionTime.TotalSeconds == (130+390)*60 && k.AverageCompletionTime.Count == 2},
		{"complaint closed in a day", k.Complaints.Received == 1 && k.Complaints.ClosureRate.is(1, 1) && k.Complaints.AverageClosureTime.TotalSeconds == 86400},
		{"counts", k.Counts.NewRepairs == 3 && k.Counts.OpenRepairs == 2 && k.Counts.OverdueRepairs == 2 && k.Counts.NewComplaints == 1},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, k)
		}
	}

	// The weekly report of the week containing Wednesday 25 November.
	wq := `query($c:ID!,$d:Date!){ weeklyReport(communityId:$c, weekOf:$d){ weekStart weekEnd summary
	  current { repairPassRate { numerator denominator } counts { newRepairs } } previous { repairPassRate { rate numerator denominator } } } }`
	var rep struct {
		WeeklyReport struct {
			WeekStart, WeekEnd, Summary string
			Current                     struct {
				RepairPassRate kpiRatio
				Counts         struct{ NewRepairs int }
			}
			Previous struct{ RepairPassRate kpiRatio }
		}
	}
	supervisor.ok(wq, map[string]any{"c": w.X.ID, "d": "2026-11-25"}, &rep)
	wr := rep.WeeklyReport
	if wr.WeekStart != "2026-11-23" || wr.WeekEnd != "2026-11-29" || !wr.Current.RepairPassRate.is(1, 2) || wr.Current.Counts.NewRepairs != 3 ||
		!wr.Previous.RepairPassRate.is(0, 0) || wr.Previous.RepairPassRate.Rate != nil ||
		!strings.Contains(wr.Summary, "新增报修3单") || !strings.Contains(wr.Summary, "维修一次合格率50.0%（1/2，上周—）") {
		t.Fatalf("weekly report: %+v", wr)
	}
	supervisor.lang = "en"
	supervisor.ok(wq, map[string]any{"c": w.X.ID, "d": "2026-11-25"}, &rep)
	if !strings.Contains(rep.WeeklyReport.Summary, "3 new repairs") {
		t.Fatalf("English summary: %s", rep.WeeklyReport.Summary)
	}
	supervisor.lang = ""

	// Monday 08:30: the report reaches the supervisor's inbox, once however
	// often the schedulers tick.
	reports := func(c *client) []string {
		var titles []string
		for _, n := range c.inbox().Notifications.Edges {
			if n.Node.Kind == "WEEKLY_REPORT" {
				titles = append(titles, n.Node.Title+"|"+n.Node.Body)
			}
		}
		return titles
	}
	if got := reports(supervisor); len(got) != 0 {
		t.Fatalf("a report before 08:30: %v", got)
	}
	at(30, 8, 30)
	for range 2 {
		if err := e.App.Services.KPIs.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the weekly report", func() bool { return len(reports(supervisor)) == 1 })
	got := reports(supervisor)[0]
	if !strings.HasPrefix(got, "春晖苑服务周报（11月23日—11月29日）|") || !strings.Contains(got, "维修一次合格率50.0%（1/2") {
		t.Fatalf("report in the inbox: %s", got)
	}
	at(30, 11, 0)
	if err := e.App.Services.KPIs.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := len(reports(supervisor)); n != 1 {
		t.Fatalf("%d reports after ticking again", n)
	}
	if n := len(reports(butler)); n != 0 {
		t.Fatalf("the butler got %d reports", n)
	}

	// Who may read them: the owner and the butler are FORBIDDEN, and so is a
	// supervisor of another community; an admin may.
	for _, c := range []*client{ownerA, butler, eng, e.staff(w.supervisorY, w.Password)} {
		c.fails("FORBIDDEN", q, vars)
		c.fails("FORBIDDEN", wq, map[string]any{"c": w.X.ID, "d": "2026-11-25"})
	}
	e.anon().fails("UNAUTHENTICATED", q, vars)
	e.staff(w.adminAcct, w.Password).ok(q, vars, nil)
	bad := map[string]any{"c": w.X.ID, "f": "2026-11-30T00:00:00+08:00", "t": "2026-11-23T00:00:00+08:00"}
	if r := supervisor.fails("BAD_USER_INPUT", q, bad); r.field() != "to" {
		t.Fatalf("backwards window names %q", r.field())
	}
}

var shanghaiZone, _ = time.LoadLocation("Asia/Shanghai")
