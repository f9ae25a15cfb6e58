package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/page"
	"qinqing/internal/review"
)

// ensureReviews gives the first community last month's staff reviews to
// show: one training session (the SERVICE conduct standard) that its
// engineer and butlers were required at, one butler absent, and the
// supervisor's rating and note on the engineer's and the first butler's
// month. The reviews themselves are computed when asked; a session already
// held that month, or a rating already given, is left as it is.
func (s *seeder) ensureReviews(ctx context.Context) error {
	if s.d.Reviews == nil || len(s.communities) == 0 || len(s.butlers[0]) == 0 || s.supervisors[0] == nil {
		return nil
	}
	com := s.communities[0]
	loc := com.Location()
	first := time.Date(s.now.In(loc).Year(), s.now.In(loc).Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0)
	month := first.Format("2006-01")
	sup := callerOf(s.supervisors[0])
	engineer := s.staffWithRole(com.ID, access.Engineer)
	if engineer == nil {
		return nil
	}
	held, err := s.d.Reviews.Sessions(ctx, sup, com.ID, first, first.AddDate(0, 1, 0), page.Request{First: 1})
	if err != nil {
		return err
	}
	if len(held.Items) == 0 {
		attendees := []string{engineer.ID, s.butlers[0][0].ID}
		var absent []string
		if len(s.butlers[0]) > 1 {
			absent = []string{s.butlers[0][1].ID}
		}
		if _, err := s.d.Reviews.RecordTraining(ctx, sup, review.TrainingInput{CommunityID: com.ID, Title: "SERVICE 服务礼仪与仪容仪表",
			Topic: "微笑服务、三声电话接听、着装与工牌", HeldAt: first.AddDate(0, 0, 14).Add(15 * time.Hour), DurationMinutes: 90, Trainer: "品质部",
			AttendeeIDs: attendees, AbsentIDs: absent}); err != nil {
			return fmt.Errorf("training in %s: %w", com.Name, err)
		}
	}
	s.counts["trainingSessions"] = 1
	notes := []struct {
		id     string
		rating int
		note   string
	}{
		{engineer.ID, 4, "维修及时，工单记录完整；返修需回访确认原因。"},
		{s.butlers[0][0].ID, 5, "走访与回访按时完成，住户确认齐全。"},
	}
	for _, n := range notes {
		rs, err := s.d.Reviews.StaffReviews(ctx, sup, com.ID, month, n.id)
		if err != nil {
			return err
		}
		s.counts["staffReviews"]++
		if len(rs) == 1 && rs[0].Rating != nil {
			continue
		}
		if _, err := s.d.Reviews.ReviewStaff(ctx, sup, review.RateInput{CommunityID: com.ID, StaffID: n.id, Month: month, Rating: n.rating, Note: n.note}); err != nil {
			return fmt.Errorf("staff review in %s: %w", com.Name, err)
		}
	}
	return nil
}
