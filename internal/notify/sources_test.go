package notify

import (
	"strings"
	"testing"

	"qinqing/internal/platform/apperr"
)

// The callback prompts and progress notices name the right job for each
// source; the repair wording is what it was before orders shared it.
func TestSourcesNameTheirJob(t *testing.T) {
	repair, order := RepairSource(nil), ServiceOrderSource(nil)
	for _, tc := range []struct {
		name   string
		kind   Kind
		vars   map[string]any
		lang   apperr.Lang
		want   string
		absent string
	}{
		{"repair rate prompt", CallbackPromptOwner, repair.promptVars("厨房灯不亮", "", false), apperr.ZH, "您的报修「厨房灯不亮」已完成", "服务订单"},
		{"order rate prompt", CallbackPromptOwner, order.promptVars("日常保洁", "", false), apperr.ZH, "您的服务订单「日常保洁」已完成", "报修"},
		{"order rate prompt in English", CallbackPromptOwner, order.promptVars("日常保洁", "", false), apperr.EN, "Your service order \"日常保洁\" is done", "repair"},
		{"repair callback due", CallbackDue, repair.promptVars("厨房灯不亮", "", false), apperr.ZH, "报修「厨房灯不亮」已验收", "的报修"},
		{"order callback overdue", CallbackDue, order.promptVars("洗衣", "1-1-101", true), apperr.ZH, "1-1-101 的服务订单「洗衣」已验收，请及时回访业主。（已超时）", "报修"},
		{"repair progress", RepairProgress, repair.vars(repairSteps["take"], "阳台漏水"), apperr.ZH, "您的报修「阳台漏水」已由物业受理", ""},
		{"order progress", ServiceOrderUpdate, order.vars(serviceOrderSteps["confirm"], "日常保洁"), apperr.ZH, "您的服务订单「日常保洁」已确认", "报修"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			title, body, err := Specs[tc.kind].Render(tc.lang, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(body, tc.want) || (tc.absent != "" && strings.Contains(title+body, tc.absent)) {
				t.Fatalf("%s / %s: want %q, not %q", title, body, tc.want, tc.absent)
			}
		})
	}
}
