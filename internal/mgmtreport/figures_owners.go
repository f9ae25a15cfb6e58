package mgmtreport

import (
	"fmt"

	"qinqing/internal/activity"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/inspection"
	"qinqing/internal/kpi"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/survey"
)

// line is a category's amount on the statement.
func line(st *finance.Statement, c finance.Category) int64 {
	for _, l := range st.Lines {
		if l.Category == c {
			return l.Amount
		}
	}
	return 0
}

func parkingSection(e estate, p fee.ParkingFigures, st *finance.Statement) SectionData {
	fs := []Figure{
		ratio("parking.spacesAssigned", "车位使用（已分配/登记）", "Spaces assigned of those registered", int64(p.Assigned), int64(p.Spaces)),
		fen("parking.billed", "停车费应收", "Parking fees billed", p.Billed),
		e.areaPass("parking.garagePass", "地下车库检查合格率", "Basement garage checks passed", inspection.BasementGarage),
	}
	if st != nil {
		fs = append(fs, fen("parking.income", "停车费收入（收支公示）", "Parking income (statement)", line(st, finance.Parking)))
	}
	return SectionData{Section: Parking, Figures: fs}
}

func greeningSection(e estate, st *finance.Statement) SectionData {
	fs := []Figure{e.areaPass("greening.gardenPass", "园林绿化检查合格率", "Garden checks passed", inspection.Garden)}
	if st != nil {
		fs = append(fs, fen("greening.expense", "绿化养护费用（收支公示）", "Greening expense (statement)", line(st, finance.Greening)))
	}
	return SectionData{Section: Greening, Figures: fs}
}

func repairsSection(k *kpi.KPIs) SectionData {
	pass := k.RepairPassRate
	return SectionData{Section: RepairsComplaints, Figures: []Figure{
		count("repairs.new", "新报修（单）", "Repairs requested", k.Counts.NewRepairs),
		kratio("repairs.passRate", "一次修复率", "Repairs fixed at the first visit", pass),
		count("repairs.reopened", "返修（单）", "Repairs reopened", pass.Denominator-pass.Numerator),
		kratio("repairs.respondOnTime", "按时响应率", "Repairs responded to on time", k.OnTime.Respond),
		kratio("repairs.finishOnTime", "按时完成率", "Repairs finished on time", k.OnTime.Finish),
		kratio("repairs.satisfaction", "维修回访满意率", "Satisfied repair callbacks", k.Satisfaction.RepairCallbacks),
		count("complaints.received", "投诉（件）", "Complaints received", k.Complaints.Received),
		kratio("complaints.closure", "投诉办结率", "Complaints closed", k.Complaints.ClosureRate),
	}}
}

func enquiriesSection(k *kpi.KPIs) SectionData {
	q := k.Enquiries
	return SectionData{Section: Enquiries, Figures: []Figure{
		count("enquiries.received", "咨询（件）", "Enquiries received", q.Received),
		kratio("enquiries.answered", "咨询答复率", "Enquiries answered", q.Answered),
		kratio("enquiries.onTheSpot", "当场答复率", "Answered on the spot", q.OnTheSpot),
		kratio("enquiries.onTime", "按时答复率", "Answered on time", q.OnTime),
	}}
}

func eventsSection(h activity.Held) SectionData {
	return SectionData{Section: Events, Figures: []Figure{
		count("events.held", "举办活动（场）", "Events held", h.Events),
		count("events.signUps", "报名（户）", "Households signed up", h.SignUps),
		ratio("events.attendance", "到场率", "Signed-up households who came", int64(h.Attended), int64(h.SignUps)),
	}}
}

// surveysSection lists each closed survey's improve-first dimensions
// (四分图 优先改进区) with the actions published for them.
func surveysSection(rs []*survey.Results, actions []Action) SectionData {
	var responses, satisfied, rated int
	var items []Item
	for _, r := range rs {
		responses += r.Responses
		satisfied += r.Satisfaction.Satisfied
		rated += r.Satisfaction.Rated
		for _, d := range r.Dimensions {
			if d.Quadrant == nil || *d.Quadrant != survey.FixFirst {
				continue
			}
			it := Item{LabelZH: fmt.Sprintf("%s：%s（%s）", r.Survey.Title, d.Dimension.Label(apperr.ZH), survey.FixFirst.Label(apperr.ZH)),
				LabelEN: fmt.Sprintf("%s: %s (%s)", r.Survey.Title, d.Dimension.Label(apperr.EN), survey.FixFirst.Label(apperr.EN))}
			for _, a := range actions {
				if a.SurveyID == r.Survey.ID && a.Dimension == d.Dimension {
					if it.Text != "" {
						it.Text += "；"
					}
					it.Text += a.Text
					if a.Status != "" {
						it.Text += "（" + a.Status + "）"
					}
				}
			}
			items = append(items, it)
		}
	}
	return SectionData{Section: Surveys, Items: items, Figures: []Figure{
		count("surveys.closed", "结束的调查（项）", "Surveys closed", len(rs)),
		count("surveys.responses", "答卷（份）", "Responses", responses),
		ratio("surveys.satisfaction", "满意率", "Satisfied scores", int64(satisfied), int64(rated)),
	}}
}

func financeSection(st *finance.Statement, fund *Fund) SectionData {
	if st == nil {
		return SectionData{Section: Finance, Figures: []Figure{}, Items: []Item{{LabelZH: "本期收支公示尚未发布", LabelEN: "The period's income and expense statement is not published yet"}}}
	}
	fs := []Figure{
		count("finance.statementVersion", "收支公示版本", "Statement version", st.Version),
		fen("finance.income", "收入合计", "Income", st.Income),
		fen("finance.expense", "支出合计", "Expense", st.Expense),
		fen("finance.surplus", "收支结余", "Surplus", st.Surplus()),
	}
	if c := st.Collection; c != nil {
		fs = append(fs, ratio("finance.collection", "物业费收缴率", "Fee collection rate", c.Collected, max(0, c.Billed-c.Relieved)))
	}
	if fund != nil {
		fs = append(fs,
			fen("fund.opening", "维修基金期初余额", "Maintenance fund: opening", fund.Opening),
			fen("fund.deposits", "维修基金本期缴存", "Maintenance fund: deposits", fund.Deposits),
			fen("fund.interest", "维修基金利息", "Maintenance fund: interest", fund.Interest),
			fen("fund.spent", "维修基金本期使用", "Maintenance fund: spent", fund.Spent),
			fen("fund.closing", "维修基金期末余额", "Maintenance fund: closing", fund.Closing))
	}
	return SectionData{Section: Finance, Figures: fs, Items: []Item{}}
}
