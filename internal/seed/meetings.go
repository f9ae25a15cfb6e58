package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/platform/page"
)

// ensureMeetings records a three-party meeting (三方联席会议) of the first
// community ten days ago, attended by its committee's chair, its
// supervisor and the residents' committee, with two action items: the
// engineer's, due three days ago and still open (overdue on his list), and
// the first butler's, due next week. Recorded once: a rerun finds the
// community's three-party meeting and adds nothing.
func (s *seeder) ensureMeetings(ctx context.Context) error {
	if s.d.Meetings == nil || s.d.Committee == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	sup, eng := s.staffWithRole(com.ID, access.Supervisor), s.staffWithRole(com.ID, access.Engineer)
	if sup == nil || eng == nil || len(s.butlers[0]) == 0 {
		return nil
	}
	had, err := s.d.Meetings.List(ctx, sup, com.ID, committee.ThreeParty, page.Request{First: 1})
	if err != nil {
		return err
	}
	s.counts["committeeMeetings"] = 1
	if len(had.Items) > 0 {
		return nil
	}
	sitting, err := s.d.Committee.Sitting(ctx, com.ID)
	if err != nil {
		return err
	}
	if len(sitting) == 0 {
		return nil // no committee seated: nobody to meet
	}
	zone := com.Location()
	held := time.Date(s.now.In(zone).Year(), s.now.In(zone).Month(), s.now.In(zone).Day(), 14, 30, 0, 0, zone).AddDate(0, 0, -10)
	day := func(d int) string { return held.AddDate(0, 0, d).Format(time.DateOnly) }
	butler := s.butlers[0][0]
	in := committee.RecordInput{CommunityID: com.ID, Kind: committee.ThreeParty, HeldAt: held, Place: "物业服务中心二楼会议室",
		Attendees: []committee.AttendeeInput{
			{Party: committee.PartyCommittee, MemberID: sitting[0].ID},
			{Party: committee.PartyCompany, StaffID: sup.ID, Title: "项目经理"},
			{Party: committee.PartyCompany, StaffID: butler.ID, Title: "楼栋管家"},
			{Party: committee.PartyNeighborhood, Name: "刘芳", Title: "社区居委会主任"},
		},
		Agenda: []string{"地下车库雨后积水的处理", "1号楼电梯维保情况通报", "第四季度管理报告编制安排"},
		Minutes: "一、地下车库积水：物业清理排水沟、加装挡水板，完成后请业委会验收。\n" +
			"二、电梯：1号楼1号梯钢丝绳磨损，由工程部更换并将维保单位报告送业委会。\n" +
			"三、管理报告：物业于季度结束后十日内提交草稿，业委会审阅后公布。",
		Actions: []committee.ActionInput{
			{Title: "更换1号楼1号梯钢丝绳并提交维保报告", ResponsibleStaffID: eng.ID, DueDate: day(7)},
			{Title: "清理地下车库排水沟并加装挡水板", ResponsibleStaffID: butler.ID, DueDate: day(17)},
		}}
	if _, err := s.d.Meetings.Record(ctx, sup, in); err != nil {
		return fmt.Errorf("three-party meeting: %w", err)
	}
	return nil
}
