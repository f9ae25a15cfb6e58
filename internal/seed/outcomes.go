package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/enquiry"
	"qinqing/internal/outcome"
	"qinqing/internal/survey"
)

// outcomeDims are the seeded survey's dimensions with each respondent's
// (importance, satisfaction): cleaning and parking land in the
// improve-first quadrant, security and greening do not.
var outcomeDims = []struct {
	dim    survey.Dimension
	scores [][2]int
}{
	{survey.Cleaning, [][2]int{{5, 2}, {5, 3}, {4, 2}, {5, 3}}},
	{survey.Security, [][2]int{{5, 5}, {4, 5}, {5, 4}, {5, 5}}},
	{survey.Greening, [][2]int{{2, 4}, {3, 5}, {2, 5}, {3, 4}}},
	{survey.Parking, [][2]int{{5, 1}, {4, 2}, {5, 2}, {5, 2}}},
}

// ensureOutcomes publishes last month's outcomes of the first community:
// a survey answered and closed in that month, a few complaints and
// enquiries recorded then, and the outcomes with examples, promised
// improvements (one done, one under way) and an action for each of the
// survey's improve-first items. The month is replayed through the seed
// Clock as the fee year is; once published, a rerun adds nothing.
func (s *seeder) ensureOutcomes(ctx context.Context) error {
	if s.d.Outcomes == nil || s.d.Surveys == nil || s.d.Complaints == nil || s.d.Enquiries == nil || s.d.Clock == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	loc := com.Location()
	now := s.now.In(loc)
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0)
	period := start.Format("2006-01")
	sup := callerOf(s.supervisors[0])
	if _, err := s.d.Outcomes.Get(ctx, sup, outcome.OutcomesID(com.ID, period, 1)); err == nil {
		s.counts["published outcomes"]++
		return nil
	} else if !errors.Is(err, outcome.ErrNotFound) {
		return err
	}
	var residents []int
	for i, p := range s.plans {
		if p.Community == 0 && len(residents) < len(outcomeDims[0].scores) {
			residents = append(residents, i)
		}
	}
	if len(residents) < len(outcomeDims[0].scores) {
		return nil
	}
	surveyID, err := s.replayOutcomeMonth(ctx, start, sup, residents)
	s.d.Clock.release()
	if err != nil {
		return err
	}
	in := outcome.Input{
		Examples: []outcome.ExampleInput{
			{Kind: outcome.ComplaintExample, Category: string(complaint.Noise), Summary: "业主反映楼上深夜装修噪音",
				Resolution: "管家当日约谈装修户，重申装修施工时间，秩序维护员晚间加巡"},
			{Kind: outcome.EnquiryExample, Category: string(enquiry.Fees), Summary: "咨询物业费能否开具电子发票",
				Resolution: "客服中心说明开票流程，业主可在应用内申请，三个工作日内开出"},
		},
		Improvements: []outcome.ActionInput{
			{Text: "装修时段每日巡查两次，超时施工当场劝止", Due: start.AddDate(0, 1, 14).Format(time.DateOnly)},
			{Text: "地库增设外来车辆临时停放区", Due: start.AddDate(0, 3, 0).Format(time.DateOnly)},
		},
		SurveyActions: []outcome.SurveyActionInput{
			{SurveyID: surveyID, Dimension: survey.Cleaning, ActionInput: outcome.ActionInput{Text: "楼道保洁由每日一次增至两次，垃圾桶每日清洗", Due: start.AddDate(0, 2, 0).Format(time.DateOnly)}},
			{SurveyID: surveyID, Dimension: survey.Parking, ActionInput: outcome.ActionInput{Text: "清理地库僵尸车，加装车牌识别道闸", Due: start.AddDate(0, 4, 0).Format(time.DateOnly)}},
		},
		Remarks: strp("本月投诉以装修噪音为主，已逐件回访。"),
	}
	o, err := s.d.Outcomes.Publish(ctx, sup, com.ID, period, in)
	if err != nil {
		return fmt.Errorf("outcomes %s: %w", period, err)
	}
	for _, m := range []struct {
		key    string
		status outcome.ActionStatus
		note   string
	}{
		{"a1", outcome.InProgress, "已排班，夜间巡查记录上墙公示"},
		{"a1", outcome.Done, "连续四周无超时施工投诉"},
		{"a3", outcome.InProgress, "已增加保洁员一名"},
	} {
		if _, err := s.d.Outcomes.UpdateAction(ctx, sup, o.ID+":"+m.key, m.status, strp(m.note)); err != nil {
			return fmt.Errorf("outcome action %s: %w", m.key, err)
		}
	}
	s.counts["published outcomes"]++
	return nil
}

// replayOutcomeMonth records the month's survey, complaints and enquiries
// at their moments in it and returns the survey's id.
func (s *seeder) replayOutcomeMonth(ctx context.Context, start time.Time, sup *access.Caller, residents []int) (string, error) {
	com := s.communities[0]
	at := func(day, hour int) time.Time { return start.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour) }
	s.d.Clock.set(at(5, 9))
	var qs []survey.QuestionInput
	for _, d := range outcomeDims {
		qs = append(qs, survey.QuestionInput{Type: survey.DimensionQ, Dimension: d.dim})
	}
	sv, err := s.d.Surveys.Create(ctx, sup, survey.CreateInput{CommunityID: com.ID, Title: start.Format("1月") + "服务满意度调查",
		Questions: qs, OpensAt: at(5, 9), ClosesAt: at(12, 18), ResponsePer: survey.PerHousehold})
	if err != nil {
		return "", fmt.Errorf("survey: %w", err)
	}
	if _, err := s.d.Surveys.Publish(ctx, sup, sv.ID); err != nil {
		return "", fmt.Errorf("publish survey: %w", err)
	}
	s.d.Clock.set(at(8, 20))
	for r, i := range residents {
		var as []survey.Answer
		for q, d := range outcomeDims {
			imp, sat := d.scores[r][0], d.scores[r][1]
			as = append(as, survey.Answer{QuestionID: fmt.Sprintf("q%d", q+1), Importance: &imp, Satisfaction: &sat})
		}
		if _, err := s.d.Surveys.Submit(ctx, s.resident(i), sv.ID, s.households[i].ID, as); err != nil {
			return "", fmt.Errorf("survey answer: %w", err)
		}
	}
	s.d.Clock.set(at(12, 17))
	if _, err := s.d.Surveys.Close(ctx, sup, sv.ID); err != nil {
		return "", fmt.Errorf("close survey: %w", err)
	}
	s.d.Clock.set(at(15, 21))
	for k, c := range []struct {
		cat  complaint.Category
		text string
	}{{complaint.Noise, "楼上晚上十点后还在装修电钻"}, {complaint.Noise, "隔壁周末一早就砸墙"}, {complaint.Hygiene, "单元门口垃圾溢出没人清"}} {
		i := residents[k]
		if _, err := s.d.Complaints.Submit(ctx, s.resident(i), complaint.SubmitInput{HouseholdID: s.households[i].ID, Category: c.cat,
			Severity: complaint.Normal, Description: c.text}); err != nil {
			return "", fmt.Errorf("complaint: %w", err)
		}
	}
	s.d.Clock.set(at(18, 10))
	desk := s.staffWithRole(com.ID, access.CustomerService)
	if desk == nil {
		desk = sup
	}
	for k, c := range []struct {
		cat      enquiry.Category
		question string
	}{{enquiry.Fees, "物业费能开电子发票吗？"}, {enquiry.Fees, "车位管理费怎么交？"}, {enquiry.Renovation, "装修要办什么手续？"}} {
		i := residents[k]
		if _, err := s.d.Enquiries.Record(ctx, desk, enquiry.RecordInput{HouseholdID: s.households[i].ID, Channel: enquiry.Phone,
			Question: c.question, Category: c.cat}); err != nil {
			return "", fmt.Errorf("enquiry: %w", err)
		}
	}
	return sv.ID, nil
}

func strp(s string) *string { return &s }
