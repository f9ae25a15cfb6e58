package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/pdf"
)

// The report as a PDF: Chinese text that can be extracted (title, every
// section, figures as people read them, the commentary, the chart's
// caption and areas); a draft for staff only; the published version to
// the community's owners, the same bytes every time; nobody else.
func TestManagementReportPDF(t *testing.T) {
	font := pdf.TestFont(t)
	e := newEnv(t, withConfig(func(c *config.Config) { c.PDFFont = font.Path() }))
	w := e.world()
	reportWorld(t, e, w)
	e.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	sup := e.staff(w.supervisorX, w.Password)
	var g struct{ GenerateManagementReport reportOut }
	sup.ok(`mutation($c:ID!){ generateManagementReport(communityId:$c, period:"2026-11"){ `+reportFields+` } }`, map[string]any{"c": w.X.ID}, &g)
	r := g.GenerateManagementReport
	if r.PdfURL != "/documents/management-reports/"+r.ID+".pdf" {
		t.Fatalf("pdfUrl %q", r.PdfURL)
	}
	sup.ok(`mutation($id:ID!){ setManagementReportCommentary(id:$id, section:CLEANING, text:"楼道保洁两项不合格，已安排返工并加密巡查。"){ id } }`, map[string]any{"id": r.ID}, nil)

	status, ctype, draft := sup.get(r.PdfURL)
	checkPDF(t, "the supervisor's draft", status, ctype, draft)
	if !strings.Contains(pdf.Text(draft), "【草稿】") {
		t.Error("a draft's PDF does not say it is a draft")
	}
	owner := e.owner(w.OwnerA.Phone)
	if status, _, _ := owner.get(r.PdfURL); status != 404 {
		t.Fatalf("an owner reads a draft's PDF: %d", status)
	}

	sup.ok(`mutation($id:ID!){ publishManagementReport(id:$id){ id } }`, map[string]any{"id": r.ID}, nil)
	status, ctype, doc := owner.get(r.PdfURL)
	checkPDF(t, "the owner", status, ctype, doc)
	text := pdf.Text(doc)
	want := []string{"春晖苑管理报告", "2026年11月", "尊敬的各位业主", "2026年11月1日", "11月30日",
		"一、设备设施维护", "二、治安管理", "三、消防管理", "四、停车场管理", "五、清洁卫生", "六、绿化养护", "七、消杀（四害防治）",
		"八、报修与投诉", "九、咨询服务", "十、社区活动", "十一、满意度调查及改进", "十二、管理费收支与本体维修基金",
		"按计划完成保养率", "50.0%（1/2）", "火警（起）", "大堂检查合格率", "87.5%（7/8）", "停车费收入（收支公示）", "500.00 元",
		"收支结余", "4200.00 元", "管理处说明：楼道保洁两项不合格，已安排返工并加密巡查。",
		"各区域品质检查合格率", "楼道", "电梯轿厢", "公共卫生间", "结语", "春晖苑管理处"}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF lacks %q", s)
		}
	}
	if strings.Contains(text, "【草稿】") || strings.Contains(text, w.OwnerA.Name) || strings.Contains(text, w.OwnerA.Phone) {
		t.Errorf("the published PDF says draft or names an owner:\n%s", text)
	}
	if _, _, again := owner.get(r.PdfURL); !bytes.Equal(again, doc) {
		t.Error("one published version, two documents")
	}
	if status, _, _ := e.owner(w.OwnerY.Phone).get(r.PdfURL); status != 404 {
		t.Errorf("an owner of another community: %d", status)
	}
	if status, _, _ := e.staff(w.supervisorY, w.Password).get(r.PdfURL); status != 404 {
		t.Errorf("staff of another community: %d", status)
	}
	if status, _, _ := e.anon().get(r.PdfURL); status != 401 {
		t.Errorf("without a token: %d", status)
	}
}
