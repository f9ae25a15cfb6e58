package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/enquiry"
	"qinqing/internal/platform/page"
)

// faqPlan are the answers a front desk gives most days (疑难解答).
var faqPlan = []enquiry.PublishInput{
	{Question: "停车证怎么办理？", Answer: "携带行驶证、身份证和房产证（或租赁合同）复印件到客户服务中心填写《车辆登记表》，三个工作日内领取停车证。", Category: enquiry.Parking, Tags: []string{"停车", "车位", "月卡"},
		QuestionEN: "How do I get a parking permit?", AnswerEN: "Bring copies of your vehicle licence, ID and deed (or lease) to the service centre; the permit is ready within three working days."},
	{Question: "停水通知在哪里看？", Answer: "计划停水会提前24小时在小区公告栏、电梯内和App公告中发布；突发停水请拨打亲情电话查询恢复时间。", Category: enquiry.Utilities, Tags: []string{"停水", "公告"}},
	{Question: "停电了怎么办？", Answer: "先查看户内空气开关是否跳闸；整栋停电请致电客户服务中心，工程部会在30分钟内到场。", Category: enquiry.Utilities, Tags: []string{"停电", "跳闸"}},
	{Question: "装修申请需要什么材料？", Answer: "业主身份证明、装修方案及图纸、装修公司资质和施工人员名单，在客户服务中心办理装修申请，审核通过后领取施工许可证。", Category: enquiry.Renovation, Tags: []string{"装修", "施工证"},
		QuestionEN: "What do I need to apply for renovation?", AnswerEN: "Proof of ownership, the plan and drawings, the contractor's licence and a list of workers; apply at the service centre."},
	{Question: "装修施工时间有什么规定？", Answer: "工作日8:00-12:00、14:00-18:00可施工，周末及法定节假日不得进行产生噪音的作业。", Category: enquiry.Renovation, Tags: []string{"装修", "噪音"}},
	{Question: "快递可以代收吗？", Answer: "客户服务中心可代收快递，到件后短信通知，凭取件码在8:00-20:00领取；生鲜和贵重物品不代收。", Category: enquiry.Facilities, Tags: []string{"快递", "代收"}},
	{Question: "门禁卡丢了怎么补办？", Answer: "本人携带身份证到客户服务中心挂失并补办，工本费20元，当场可取；旧卡挂失后立即失效。", Category: enquiry.Security, Tags: []string{"门禁卡", "补办", "挂失"},
		QuestionEN: "I lost my access card; how do I get a new one?", AnswerEN: "Report it at the service centre with your ID; a new card costs 20 yuan and is issued on the spot."},
	{Question: "物业费怎么交？", Answer: "可在App内在线缴纳，或到客户服务中心刷卡、扫码缴纳；按季度或按年缴纳均可。", Category: enquiry.Fees, Tags: []string{"物业费", "缴费"}},
	{Question: "搬家需要提前登记吗？", Answer: "需要。请提前一天在App预约搬家或到客户服务中心登记，物业会安排电梯保护和放行。", Category: enquiry.Moving, Tags: []string{"搬家", "放行"}},
	{Question: "楼上漏水找谁？", Answer: "请立即致电亲情电话，工程部会上门查看并协调楼上业主；公共管道由物业维修，户内管道需业主自行承担。", Category: enquiry.Neighbours, Tags: []string{"漏水", "邻里"}},
	{Question: "开具居住证明怎么办理？", Answer: "携带身份证和房产证到客户服务中心申请，物业出具居住情况说明后到社区居委会盖章。", Category: enquiry.Paperwork, Tags: []string{"证明", "居委会"}},
	{Question: "小区游泳池什么时候开放？", Answer: "每年6月至9月开放，开放时间为每天9:00-21:00，需凭业主卡入场。", Category: enquiry.Facilities, Tags: []string{"游泳池", "会所"}},
}

// ensureEnquiries publishes the FAQ and records enquiries in every outcome
// (on the spot, referred after a hand-over, not possible now with a
// callback, out of scope, and one that falls overdue a minute after the
// seed) in each community that has no FAQ yet.
func (s *seeder) ensureEnquiries(ctx context.Context) error {
	if s.d.Enquiries == nil {
		return nil
	}
	for ci, c := range s.communities {
		sup := callerOf(s.supervisors[ci])
		existing, err := s.d.Enquiries.Faq(ctx, sup, enquiry.FaqQuery{CommunityID: c.ID}, page.Request{First: 1, Count: true})
		if err != nil {
			return err
		}
		if existing.Total > 0 {
			asked, err := s.d.Enquiries.List(ctx, sup, enquiry.Filter{CommunityID: c.ID}, page.Request{First: 0, Count: true})
			if err != nil {
				return err
			}
			s.counts["faqEntries"] += existing.Total
			s.counts["enquiries"] += asked.Total
			continue
		}
		var parkingFaq string
		for _, in := range faqPlan {
			in.CommunityID = c.ID
			f, err := s.d.Enquiries.Publish(ctx, sup, in)
			if err != nil {
				return fmt.Errorf("faq %s: %w", in.Question, err)
			}
			if in.Category == enquiry.Parking {
				parkingFaq = f.ID
			}
			s.counts["faqEntries"]++
		}
		if err := s.seedEnquiries(ctx, ci, parkingFaq); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) seedEnquiries(ctx context.Context, ci int, parkingFaq string) error {
	var hs []int // plans of this community
	for i, p := range s.plans {
		if p.Community == ci && len(s.persons[i]) > 0 {
			hs = append(hs, i)
		}
	}
	if len(hs) < 4 || len(s.butlers[ci]) == 0 {
		return nil
	}
	butler, sup := callerOf(s.butlers[ci][0]), callerOf(s.supervisors[ci])
	ask := func(plan int, ch enquiry.Channel, q string, cat enquiry.Category, promise time.Duration, a *enquiry.AnswerInput) (*enquiry.Enquiry, error) {
		by := s.d.Now().Add(promise)
		x, err := s.d.Enquiries.Record(ctx, butler, enquiry.RecordInput{HouseholdID: s.households[plan].ID, AskerID: s.persons[plan][0],
			Channel: ch, Question: q, Category: cat, PromisedBy: &by, Answer: a})
		if err == nil {
			s.counts["enquiries"]++
		}
		return x, err
	}
	// Answered on the spot from the FAQ, by phone (an elderly resident).
	if _, err := ask(hs[0], enquiry.Phone, "停车证怎么办理？要带什么？", enquiry.Parking, time.Hour,
		&enquiry.AnswerInput{Outcome: enquiry.Answered, Text: "带行驶证、身份证和房产证复印件到客服中心，三个工作日可取。", FaqEntryID: parkingFaq}); err != nil {
		return err
	}
	// Handed over to the supervisor, then referred to the works department.
	x, err := ask(hs[1], enquiry.Desk, "外墙渗水什么时候能修？", enquiry.Facilities, 48*time.Hour, nil)
	if err != nil {
		return err
	}
	if _, err := s.d.Enquiries.HandOver(ctx, butler, x.ID, sup.ID, "涉及外墙维修，请主管协调", ""); err != nil {
		return err
	}
	if _, err := s.d.Enquiries.Answer(ctx, sup, x.ID, enquiry.AnswerInput{Outcome: enquiry.Referred, Text: "已转工程部安排勘察，工程部会直接联系您。", ReferredTo: "工程部 维修主管"}, ""); err != nil {
		return err
	}
	// Not possible now, explained, then called back.
	if x, err = ask(hs[2], enquiry.Visit, "楼下能加装电动车充电桩吗？", enquiry.Facilities, 24*time.Hour, nil); err != nil {
		return err
	}
	if _, err := s.d.Enquiries.Answer(ctx, butler, x.ID, enquiry.AnswerInput{Outcome: enquiry.NotPossible, Text: "加装充电桩需业主大会表决和供电部门审批，已登记您的需求，表决通过后施工。"}, ""); err != nil {
		return err
	}
	// What the butler noticed on the call is a staff note (内部备注): the
	// archive's rule, not the resident's callback line.
	if _, err := s.d.Enquiries.RecordCallback(ctx, butler, x.ID, true, "已电话告知业主，业主表示理解", "老人听力不好，回电需放慢语速；子女在外地"); err != nil {
		return err
	}
	// Out of the company's remit, explained patiently.
	if _, err := ask(hs[3], enquiry.Wechat, "孩子上学的学区怎么划分？", enquiry.Other, time.Hour,
		&enquiry.AnswerInput{Outcome: enquiry.OutOfScope, Text: "学区由区教育局划定，不属物业服务范围；已告知教育局咨询电话。"}); err != nil {
		return err
	}
	// Promised within a minute and not answered: overdue right after the
	// seed, on the butler's task list and escalated on the next tick.
	if _, err := ask(hs[0], enquiry.Phone, "明天几点停水？几点恢复？", enquiry.Utilities, time.Minute, nil); err != nil {
		return err
	}
	return nil
}
