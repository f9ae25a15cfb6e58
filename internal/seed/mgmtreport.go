package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qinqing/internal/mgmtreport"
)

// reportCommentary is the manager's word on a published quarter.
var reportCommentary = map[mgmtreport.Section]string{
	mgmtreport.Equipment:         "本季度电梯、水泵按计划完成保养，未发生困人事件。",
	mgmtreport.Security:          "夜间巡更全部落实，个别点位扫码延迟已提醒当班人员。",
	mgmtreport.Cleaning:          "楼道保洁个别项目不合格，已当场整改并加密检查。",
	mgmtreport.RepairsComplaints: "报修均已派单处理，投诉已逐件回访。",
}

// ensureReports gives the first community the management report of the
// last whole quarter, published with the manager's commentary, and a draft
// of the last whole month for the committee to read. A version already
// there is left as it is (a draft of the quarter is published).
func (s *seeder) ensureReports(ctx context.Context) error {
	if s.d.MgmtReports == nil || len(s.communities) == 0 || s.supervisors[0] == nil {
		return nil
	}
	com := s.communities[0]
	sup := callerOf(s.supervisors[0])
	now := s.d.Now().In(com.Location())
	q := (int(now.Month()) - 1) / 3 // the current quarter's index: the last whole one is q (1-4) of this year, or Q4 of last
	quarter := fmt.Sprintf("%d-Q%d", now.Year(), q)
	if q == 0 {
		quarter = fmt.Sprintf("%d-Q4", now.Year()-1)
	}
	month := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")

	r, err := s.d.MgmtReports.Get(ctx, sup, mgmtreport.ReportID(com.ID, quarter, 1))
	if errors.Is(err, mgmtreport.ErrNotFound) {
		if r, err = s.d.MgmtReports.Generate(ctx, sup, com.ID, quarter); err == nil {
			for _, sec := range mgmtreport.Sections {
				if text := reportCommentary[sec]; text != "" {
					if r, err = s.d.MgmtReports.SetCommentary(ctx, sup, r.ID, sec, text); err != nil {
						break
					}
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("report of %s: %w", quarter, err)
	}
	if r.Status == mgmtreport.Draft {
		if _, err := s.d.MgmtReports.Publish(ctx, sup, r.ID, mgmtreport.PublishInput{}); err != nil {
			return fmt.Errorf("publish report of %s: %w", quarter, err)
		}
	}
	if _, err := s.d.MgmtReports.Get(ctx, sup, mgmtreport.ReportID(com.ID, month, 1)); errors.Is(err, mgmtreport.ErrNotFound) {
		if _, err := s.d.MgmtReports.Generate(ctx, sup, com.ID, month); err != nil {
			return fmt.Errorf("report of %s: %w", month, err)
		}
	} else if err != nil {
		return fmt.Errorf("report of %s: %w", month, err)
	}
	s.counts["managementReports"] = 2
	return nil
}
