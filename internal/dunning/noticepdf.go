package dunning

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/pdf"
)

// ErrNoNotice: no such written notice (or not the caller's to see).
var ErrNoNotice = apperr.New(apperr.NotFound, "dunning.no_notice")

func init() {
	apperr.Register(map[string]apperr.Text{
		"dunning.no_notice": {ZH: "催缴通知书不存在", EN: "Written notice not found"},
	})
}

// NoticePDF is the written notice numbered number as a PDF, for those
// NoticeFor lets see it; an error wrapping pdf.ErrNoFont when the server
// has no CJK font.
func (s *Service) NoticePDF(ctx context.Context, c *access.Caller, householdID, number string) (*Notice, []byte, error) {
	n, err := s.NoticeFor(ctx, c, householdID, number)
	if err != nil {
		return nil, nil, err
	}
	b, err := RenderNotice(ctx, s.cfg.Font, n)
	return n, b, err
}

// FontErr says why notices cannot be rendered (nil when they can).
func (s *Service) FontErr() error { return s.cfg.Font.Err() }

// RenderNotice lays a notice out on A4 from its snapshot alone, so the
// same notice gives the same document at any later time.
func RenderNotice(ctx context.Context, font *pdf.Font, n *Notice) ([]byte, error) {
	issuer := n.CompanyName
	if issuer == "" {
		issuer = n.CommunityName + "物业服务中心"
	}
	m := pdf.Meta{Title: "书面催缴通知书 " + n.Number, Subject: n.CommunityName + " " + n.HouseholdLabel,
		Author: issuer, Created: n.IssuedAt, Footer: issuer + " · 催缴通知书 " + n.Number}
	return pdf.Build(ctx, font, m, func(d *pdf.Doc) { layNotice(d, n, issuer) })
}

func layNotice(d *pdf.Doc, n *Notice, issuer string) {
	d.Title("物业服务费书面催缴通知书")
	d.Right("编号：" + n.Number)
	to := "业主"
	if len(n.AddressedTo) > 0 {
		to = strings.Join(n.AddressedTo, "、") + " 业主"
	}
	d.Para(fmt.Sprintf("尊敬的 %s %s（%s）：", n.CommunityName, n.HouseholdLabel, to))
	d.Para(fmt.Sprintf("您好！感谢您一直以来对我们物业服务工作的理解与支持。经核对，截至 %s，贵户尚有以下物业服务费未缴纳，合计人民币 %s 元：",
		dateZH(n.IssueDate), fee.Yuan(n.TotalFen)))
	rows := make([][]string, 0, len(n.Periods)+1)
	for _, p := range n.Periods {
		rows = append(rows, []string{p.Period, p.DueDate, fee.Yuan(p.Fen), fmt.Sprintf("%d 天", p.DaysOverdue)})
	}
	rows = append(rows, []string{"合计", "", fee.Yuan(n.TotalFen), ""})
	d.Table([]pdf.Column{{Head: "账期", Share: 2, Align: "C"}, {Head: "应缴日期", Share: 2, Align: "C"},
		{Head: "欠费金额（元）", Share: 2, Align: "R"}, {Head: "已逾期", Share: 1.5, Align: "R"}}, rows)
	d.Para(fmt.Sprintf("此前我们已通过消息、电话或上门等方式多次提醒。请您于 %s 前缴清上述费用。缴费方式：%s", dateZH(n.PayBy), n.HowToPay))
	d.Para("如您对费用有疑问、已经缴纳，或家庭遇到困难需要帮助，请及时与我们联系，我们将认真核实并协助处理。逾期仍未缴纳的，我们将依照物业服务合同及有关法律法规的规定，通过法律途径追缴。")
	if len(n.Contacts) > 0 {
		var cs []string
		for _, c := range n.Contacts {
			s := c.Role + " " + c.Name
			if c.Phone != "" {
				s += "，电话 " + c.Phone
			}
			cs = append(cs, s)
		}
		d.Para("联系人：" + strings.Join(cs, "；"))
	}
	d.Para("特此通知。")
	d.Gap(8)
	d.Right(issuer)
	d.Right(dateZH(n.IssueDate))
}

func place(addr string) string {
	if addr == "" {
		return ""
	}
	return "（" + addr + "）"
}

// dateZH writes 2026-12-07 as 2026年12月7日.
func dateZH(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}
