package mgmtreport

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/platform/pdf"
	"qinqing/internal/platform/period"
)

// PDF is a version as a PDF (Chinese), for whoever may read it (Get's rule).
// Published versions give the same bytes every time: the document's date
// is the publication's.
func (s *Service) PDF(ctx context.Context, c *access.Caller, id string) (*Report, []byte, error) {
	r, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, nil, err
	}
	name, err := s.CommunityName(ctx, r.CommunityID)
	if err != nil {
		return nil, nil, err
	}
	p, err := period.Parse("id", r.Period)
	if err != nil {
		return nil, nil, err
	}
	loc := s.Zone(r.CommunityID)
	created := r.GeneratedAt
	if r.PublishedAt != nil {
		created = *r.PublishedAt
	}
	title := name + p.Label(false) + "管理报告"
	meta := pdf.Meta{Title: title, Subject: "物业管理报告", Author: s.cfg.Company, Created: created,
		Footer: fmt.Sprintf("%s · 第%d版%s", title, r.Version, map[Status]string{Draft: "（草稿）", Published: ""}[r.Status])}
	body, err := pdf.Build(ctx, s.cfg.Font, meta, func(d *pdf.Doc) { layout(d, r, name, p, loc, s.cfg.Company) })
	if err != nil {
		return nil, nil, fmt.Errorf("report pdf %s: %w", r.ID, err)
	}
	return r, body, nil
}

// layout follows seed 004's 版式: a preface (purpose, period, greeting),
// the sections, and a closing (who explains it, how to follow up).
func layout(d *pdf.Doc, r *Report, community string, p period.Period, loc *time.Location, company string) {
	d.Title(community + "管理报告")
	d.Right(fmt.Sprintf("%s · 第%d版", p.Label(false), r.Version))
	if r.Status == Draft {
		d.Para("【草稿】本报告尚未发布，仅供业主委员会审阅。")
	}
	if r.ChangeNote != "" {
		d.Para("更正说明：" + r.ChangeNote)
	}
	d.Para(fmt.Sprintf("尊敬的各位业主：\n为使各位业主了解%s的管理服务情况，现将%s（%s至%s）的管理报告公布如下。报告中的数据均取自管理处的工作记录。",
		community, p.Label(false), r.From.In(loc).Format("2006年1月2日"), r.To.Add(-time.Second).In(loc).Format("2006年1月2日")))
	for i, sec := range r.Sections {
		d.Heading(fmt.Sprintf("%s、%s", chineseNumber(i+1), Titles[sec.Section][0]))
		rows := make([][]string, 0, len(sec.Figures))
		for _, f := range sec.Figures {
			rows = append(rows, []string{f.LabelZH, figureText(f)})
		}
		if len(rows) > 0 {
			d.Table([]pdf.Column{{Head: "项目", Share: 3, Align: "L"}, {Head: "本期", Share: 2, Align: "R"}}, rows)
		}
		for _, it := range sec.Items {
			text := it.LabelZH
			if it.Text != "" {
				text += "\n改进措施：" + it.Text
			}
			d.Para(text)
		}
		if sec.Section == Cleaning {
			d.BarChart("各区域品质检查合格率", areaBars(sec))
		}
		if sec.Commentary != "" {
			d.Para("管理处说明：" + sec.Commentary)
		}
	}
	d.Gap(4)
	d.Para("结语：感谢各位业主对管理处工作的支持。如对本报告有疑问或建议，请联系管理处客户服务中心，我们将逐条记录、跟踪答复，并在下期报告中说明处理情况。")
	if company != "" {
		d.Right(company)
	}
	d.Right(community + "管理处")
}

// areaBars are the cleaning section's per-area pass rates.
func areaBars(sec SectionData) []pdf.Bar {
	var bars []pdf.Bar
	for _, a := range CleaningAreas {
		for _, f := range sec.Figures {
			if f.Key == "cleaning.pass."+string(a) {
				bars = append(bars, pdf.Bar{Label: AreaNames[a][0], Share: f.Rate(), Text: figureText(f)})
			}
		}
	}
	return bars
}

// figureText writes a figure for people: counts as they are, fen as yuan,
// ratios as a percentage with their counts, from the integers.
func figureText(f Figure) string {
	if !f.Available {
		return "—"
	}
	switch f.Unit {
	case Fen:
		return fee.Yuan(f.Value) + " 元"
	case Ratio:
		if f.Denominator == 0 {
			return "—（0）"
		}
		// Tenths of a percent, rounded half up, in integers.
		tenths := (f.Value*2000 + f.Denominator) / (2 * f.Denominator)
		return fmt.Sprintf("%d.%d%%（%d/%d）", tenths/10, tenths%10, f.Value, f.Denominator)
	}
	return strconv.FormatInt(f.Value, 10)
}

// chineseNumber numbers the sections 一 to 十二.
func chineseNumber(n int) string {
	digits := []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n == 10:
		return "十"
	case n < 20:
		return "十" + digits[n-10]
	}
	return strconv.Itoa(n)
}
