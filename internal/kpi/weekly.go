package kpi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
)

// WeeklyReport is a community's report for one Monday-to-Sunday week in
// its time zone, with the week before for comparison.
type WeeklyReport struct {
	CommunityID   string
	CommunityName string
	WeekStart     string // Monday, YYYY-MM-DD, community time
	WeekEnd       string // Sunday
	Current       *KPIs
	Previous      *KPIs
	SummaryZH     string
	SummaryEN     string
}

// Summary is the short text in lang (Chinese unless English is asked for).
func (r *WeeklyReport) Summary(lang apperr.Lang) string {
	if lang == apperr.EN {
		return r.SummaryEN
	}
	return r.SummaryZH
}

// WeeklyReport is the report of the week (Monday to Sunday, community
// time) containing the date weekOf (YYYY-MM-DD): for the community's
// supervisors and admins.
func (s *Service) WeeklyReport(ctx context.Context, c *access.Caller, communityID, weekOf string) (*WeeklyReport, error) {
	com, err := s.readable(ctx, c, communityID, false)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseInLocation(time.DateOnly, weekOf, com.Location())
	if err != nil {
		return nil, apperr.Invalid("weekOf", "input.bad_date")
	}
	return s.report(ctx, com, monday(d))
}

// monday is 00:00 of the Monday of t's week, in t's location.
func monday(t time.Time) time.Time {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// report computes the week starting at start (a local Monday 00:00) and
// the week before in one pass. Calendar arithmetic (AddDate) keeps weeks
// whole across a daylight-saving change in zones that have one.
func (s *Service) report(ctx context.Context, com *community.Community, start time.Time) (*WeeklyReport, error) {
	end, prev := start.AddDate(0, 0, 7), start.AddDate(0, 0, -7)
	ks, err := s.compute(ctx, com, span{start, end}, span{prev, start})
	if err != nil {
		return nil, err
	}
	r := &WeeklyReport{
		CommunityID: com.ID, CommunityName: com.Name, Current: ks[0], Previous: ks[1],
		WeekStart: start.Format(time.DateOnly), WeekEnd: end.AddDate(0, 0, -1).Format(time.DateOnly),
	}
	r.SummaryZH, r.SummaryEN = summaryZH(r, start, end.AddDate(0, 0, -1)), summaryEN(r)
	return r, nil
}

// summaryZH is the report in a few lines: workload, then each rate with
// its counts and last week's rate.
func summaryZH(r *WeeklyReport, first, last time.Time) string {
	k, p := r.Current, r.Previous
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d月%d日—%d月%d日服务周报：新增报修%d单，未完结%d单，其中超时%d单；新增投诉%d件。",
		r.CommunityName, first.Month(), first.Day(), last.Month(), last.Day(),
		k.Counts.NewRepairs, k.Counts.OpenRepairs, k.Counts.OverdueRepairs, k.Counts.NewComplaints)
	items := []string{
		satisfactionLabel(k, "满意度", "回访满意度") + ratioZH(k.Satisfaction.Overall, p.Satisfaction.Overall),
		"维修一次合格率" + ratioZH(k.RepairPassRate, p.RepairPassRate),
		"回访率" + ratioZH(k.CallbackRate.Overall, p.CallbackRate.Overall),
		"响应准时率" + ratioZH(k.OnTime.Respond, p.OnTime.Respond),
		"到场准时率" + ratioZH(k.OnTime.Arrive, p.OnTime.Arrive),
		"完工准时率" + ratioZH(k.OnTime.Finish, p.OnTime.Finish),
		"平均响应" + durationZH(k.AverageResponseTime) + "，平均完成" + durationZH(k.AverageCompletionTime),
		"投诉办结率" + ratioZH(k.Complaints.ClosureRate, p.Complaints.ClosureRate) + "，平均办结" + durationZH(k.Complaints.AverageClosureTime),
		"活动参与率" + ratioZH(k.EventAttendance, p.EventAttendance),
		"来电三声内接听率" + ratioZH(k.CallsAnsweredWithinStandard, p.CallsAnsweredWithinStandard) +
			"，" + fmt.Sprintf("咨询%d件，", k.Enquiries.Received) + "答复率" + ratioZH(k.Enquiries.Answered, p.Enquiries.Answered) +
			"，当场答复率" + ratioZH(k.Enquiries.OnTheSpot, p.Enquiries.OnTheSpot) + "，按时答复率" + ratioZH(k.Enquiries.OnTime, p.Enquiries.OnTime) +
			"，常见问题覆盖率" + ratioZH(k.Enquiries.FaqCoverage, p.Enquiries.FaqCoverage),
		filedZH(k.Filed),
	}
	if f := feesZH(k); f != "" {
		items = append(items, f)
	}
	if f := estateZH(k, p); f != "" {
		items = append(items, f)
	}
	b.WriteString(strings.Join(items, "；"))
	b.WriteString("。")
	return b.String()
}

func summaryEN(r *WeeklyReport) string {
	k, p := r.Current, r.Previous
	var b strings.Builder
	fmt.Fprintf(&b, "%s, week %s to %s: %d new repairs, %d open (%d overdue); %d new complaints. ",
		r.CommunityName, r.WeekStart, r.WeekEnd, k.Counts.NewRepairs, k.Counts.OpenRepairs, k.Counts.OverdueRepairs, k.Counts.NewComplaints)
	items := []string{
		satisfactionLabel(k, "Satisfaction ", "Satisfaction (callbacks) ") + ratioEN(k.Satisfaction.Overall, p.Satisfaction.Overall),
		"first-time pass " + ratioEN(k.RepairPassRate, p.RepairPassRate),
		"callbacks " + ratioEN(k.CallbackRate.Overall, p.CallbackRate.Overall),
		"on time: respond " + ratioEN(k.OnTime.Respond, p.OnTime.Respond),
		"arrive " + ratioEN(k.OnTime.Arrive, p.OnTime.Arrive),
		"finish " + ratioEN(k.OnTime.Finish, p.OnTime.Finish),
		"response " + durationEN(k.AverageResponseTime) + ", completion " + durationEN(k.AverageCompletionTime),
		"complaints closed " + ratioEN(k.Complaints.ClosureRate, p.Complaints.ClosureRate) + " in " + durationEN(k.Complaints.AverageClosureTime),
		"event attendance " + ratioEN(k.EventAttendance, p.EventAttendance),
		"calls answered within three rings " + ratioEN(k.CallsAnsweredWithinStandard, p.CallsAnsweredWithinStandard),
		fmt.Sprintf("%d enquiries: answered ", k.Enquiries.Received) + ratioEN(k.Enquiries.Answered, p.Enquiries.Answered) +
			", on the spot " + ratioEN(k.Enquiries.OnTheSpot, p.Enquiries.OnTheSpot) + ", on time " + ratioEN(k.Enquiries.OnTime, p.Enquiries.OnTime) +
			", FAQ coverage " + ratioEN(k.Enquiries.FaqCoverage, p.Enquiries.FaqCoverage),
		filedEN(k.Filed),
	}
	if f := feesEN(k); f != "" {
		items = append(items, f)
	}
	if f := estateEN(k, p); f != "" {
		items = append(items, f)
	}
	b.WriteString(strings.Join(items, "; "))
	b.WriteString(".")
	return b.String()
}

// satisfactionLabel says what the overall satisfaction stands for: while
// surveys are not connected it is the callbacks' alone.
func satisfactionLabel(k *KPIs, both, callbacksOnly string) string {
	if k.Satisfaction.Surveys.Available {
		return both
	}
	return callbacksOnly
}

func pct(r Ratio) string {
	if v := r.Rate(); v != nil {
		return fmt.Sprintf("%.1f%%", *v*100)
	}
	return "—"
}

func ratioZH(r, prev Ratio) string {
	if !r.Available {
		return "暂无数据"
	}
	return fmt.Sprintf("%s（%d/%d，上周%s）", pct(r), r.Numerator, r.Denominator, pct(prev))
}

func ratioEN(r, prev Ratio) string {
	if !r.Available {
		return "not available"
	}
	return fmt.Sprintf("%s (%d/%d; last week %s)", pct(r), r.Numerator, r.Denominator, pct(prev))
}

func durationZH(d Duration) string {
	if d.Count == 0 {
		return "—"
	}
	avg := d.Total / time.Duration(d.Count)
	switch {
	case avg < time.Hour:
		return fmt.Sprintf("%d分钟", int(avg.Round(time.Minute)/time.Minute))
	case avg < 48*time.Hour:
		return fmt.Sprintf("%.1f小时", avg.Hours())
	}
	return fmt.Sprintf("%.1f天", avg.Hours()/24)
}

func durationEN(d Duration) string {
	if d.Count == 0 {
		return "—"
	}
	avg := d.Total / time.Duration(d.Count)
	switch {
	case avg < time.Hour:
		return fmt.Sprintf("%d min", int(avg.Round(time.Minute)/time.Minute))
	case avg < 48*time.Hour:
		return fmt.Sprintf("%.1f h", avg.Hours())
	}
	return fmt.Sprintf("%.1f days", avg.Hours()/24)
}
