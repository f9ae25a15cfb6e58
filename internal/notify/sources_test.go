package notify

import (
	"strings"
	"testing"

	"qinqing/internal/platform/apperr"
)

// The callback prompts and progress notices name the right job for each
// source; the repair wording is what it was before orders shared it.
func TestSourcesNameTheirJob(t *testing.T) {
	repair, order, complaint := RepairSource(nil), ServiceOrderSource(nil), ComplaintSource()
	for _, tc := range []struct {
		name   string
		kind   Kind
		vars   map[string]any
		lang   apperr.Lang
		want   string
		absent string
	}{
		{"repair rate prompt", CallbackPromptOwner, repair.promptVars("厨房灯不亮", "", false, ""), apperr.ZH, "您的报修「厨房灯不亮」已完成", "服务订单"},
		{"order rate prompt", CallbackPromptOwner, order.promptVars("日常保洁", "", false, ""), apperr.ZH, "您的服务订单「日常保洁」已完成", "报修"},
		{"order rate prompt in English", CallbackPromptOwner, order.promptVars("日常保洁", "", false, ""), apperr.EN, "Your service order \"日常保洁\" is done", "repair"},
		{"repair callback due", CallbackDue, repair.promptVars("厨房灯不亮", "", false, ""), apperr.ZH, "报修「厨房灯不亮」已验收", "的报修"},
		{"order callback overdue", CallbackDue, order.promptVars("洗衣", "1-1-101", true, ""), apperr.ZH, "1-1-101 的服务订单「洗衣」已验收，请及时回访业主。（已超时）", "报修"},
		{"repair progress", RepairProgress, repair.vars(repairSteps["take"], "阳台漏水"), apperr.ZH, "您的报修「阳台漏水」已由物业受理", ""},
		{"callback due with contact hours", CallbackDue, repair.promptVars("厨房灯不亮", "", false, "上午 9:00-11:00"), apperr.ZH, "请及时回访业主。方便联系时间：上午 9:00-11:00。", ""},
		{"complaint answered", ComplaintProgress, complaint.vars(complaintSteps["reply"], "楼上夜间装修噪音"), apperr.ZH, "您的投诉「楼上夜间装修噪音」物业已作出答复", "报修"},
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

// A complaint is its complainant's alone, and every step the complainant
// hears of has words; nothing echoes their own steps back.
func TestComplaintSourceIsPersonal(t *testing.T) {
	src := ComplaintSource()
	if !src.Personal || src.SignOff != "" || src.Awaiting != nil {
		t.Fatalf("complaint source: %+v", src)
	}
	for _, action := range []string{"acknowledge", "reply", "callback_closed", "callback_reopen"} {
		if _, ok := src.ReporterSteps[action]; !ok {
			t.Errorf("%s is not told", action)
		}
	}
	for _, action := range []string{"submit", "withdraw", "hand_over"} {
		if _, ok := src.ReporterSteps[action]; ok {
			t.Errorf("%s is told", action)
		}
	}
}

// What an SMS says stays one short message for every step: the SMS channel
// sends "【亲情物业】" + title + "：" + body.
func TestProgressTextsAreShort(t *testing.T) {
	for _, src := range []Source{RepairSource(nil), ServiceOrderSource(nil), ComplaintSource()} {
		steps := map[string]StepText{}
		for k, v := range src.Steps {
			steps[k] = v
		}
		for k, v := range src.ReporterSteps {
			steps[k] = v
		}
		for action, st := range steps {
			title, body, err := Specs[src.Progress].Render(apperr.ZH, src.vars(st, strings.Repeat("字", 30)+"…"))
			if err != nil {
				t.Fatal(err)
			}
			if n := len([]rune("【亲情物业】" + title + "：" + body)); n > 110 {
				t.Errorf("%s %s: %d characters", src.Name, action, n)
			}
		}
	}
}
