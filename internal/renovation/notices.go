package renovation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
)

// notice is what the owner is told about a step, in both languages.
type notice struct {
	status, statusEN, text, textEN string
}

// tell sends a step's notice to the household's owners and family. The key
// names the renovation's version, so a retried send (or a second server)
// tells nobody twice. Failures are logged: the step itself is stored.
func (s *Service) tell(ctx context.Context, r *Renovation, n *notice) {
	if s.sender == nil || n == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ms, err := s.households.MembershipsByHouseholds(ctx, []string{r.HouseholdID})
	if err != nil {
		s.warn(ctx, "renovation notice recipients", r.ID, err)
		return
	}
	var rs []notify.Recipient
	for _, m := range ms[r.HouseholdID] {
		if m.Role == access.Owner || m.Role == access.Family {
			rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: r.CommunityID})
		}
	}
	if len(rs) == 0 {
		return
	}
	_, err = s.sender.Send(ctx, notify.Message{
		Kind: notify.ServiceOrderUpdate, Key: fmt.Sprintf("renovation:%s:v%d", r.ID, r.Version), Recipients: rs,
		Vars: map[string]any{"statusText": n.status, "statusTextEN": n.statusEN, "text": n.text, "textEN": n.textEN},
		Data: map[string]string{"renovationId": r.ID, "status": string(r.Status)},
	})
	if err != nil {
		s.warn(ctx, "renovation notice", r.ID, err)
	}
}

func reviewNotice(r *Renovation, approved bool, reasons []string) *notice {
	if approved {
		return &notice{"装修申请已通过", "renovation approved",
			fmt.Sprintf("您的装修申请（%s 至 %s）已审核通过，请按批准的时间和范围施工。", r.StartDate, r.EndDate),
			fmt.Sprintf("Your renovation (%s to %s) is approved; please keep to the approved period and scope.", r.StartDate, r.EndDate)}
	}
	why := strings.Join(reasons, "；")
	return &notice{"装修申请被退回", "renovation returned",
		fmt.Sprintf("您的装修申请被退回，原因：%s。请修改后重新提交。", why),
		fmt.Sprintf("Your renovation application was returned: %s. Please correct it and submit it again.", why)}
}

var violationText = map[ViolationType][2]string{
	"OUTSIDE_HOURS": {"非规定时间施工", "works outside permitted hours"},
	"STRUCTURE":     {"损坏或改动承重结构", "damage to or change of the structure"},
	"FIRE_SAFETY":   {"消防安全隐患", "fire-safety hazard"},
	"WATERPROOFING": {"防水施工不规范", "improper waterproofing"},
	"DEBRIS":        {"装修垃圾未按规定清运", "construction debris not cleared as required"},
	"NOISE":         {"噪音扰民", "noise disturbing neighbours"},
	"FACADE":        {"改变建筑外立面", "change to the building's facade"},
	"OUT_OF_SCOPE":  {"超出申报施工范围", "works beyond the approved scope"},
	"OTHER":         {"其他违规", "other violation"},
}

func inspectionNotice(r *Renovation, loc *time.Location) *notice {
	ins := r.Inspections[len(r.Inspections)-1]
	at := ins.At.In(loc).Format("01-02 15:04")
	if ins.Result == OK {
		return &notice{"装修巡查：合格", "inspection: OK",
			fmt.Sprintf("物业于 %s 对您家的装修进行了巡查，未发现问题，感谢您的配合。", at),
			fmt.Sprintf("We inspected your renovation at %s and found no problems. Thank you.", at)}
	}
	v := violationText[ins.ViolationType]
	return &notice{"装修巡查：发现违规", "inspection: violation found",
		fmt.Sprintf("物业于 %s 巡查时发现违规（%s）：%s。请尽快整改，如有疑问请联系管家。", at, v[0], ins.Description),
		fmt.Sprintf("At our inspection at %s we found a violation (%s): %s. Please put it right soon; your butler can help.", at, v[1], ins.Description)}
}

func completionNotice(r *Renovation) *notice {
	return &notice{"装修已完工", "renovation completed",
		"您家的装修已验收完工。物业将为您安排一次免费家庭保洁，服务人员会与您联系预约时间。",
		"Your renovation is completed. We will give you a free home cleaning; our staff will contact you to arrange a time."}
}

func extensionNotice(r *Renovation, ext Extension, approved bool, note string) *notice {
	if approved {
		return &notice{"延期申请已批准", "extension approved",
			fmt.Sprintf("您的装修延期申请已批准，施工期延至 %s。", ext.NewEndDate),
			fmt.Sprintf("Your extension is approved: works may continue until %s.", ext.NewEndDate)}
	}
	return &notice{"延期申请未获批准", "extension refused",
		fmt.Sprintf("您的装修延期申请未获批准，施工期仍至 %s。%s", r.EndDate, note),
		fmt.Sprintf("Your extension was refused; the works must end by %s. %s", r.EndDate, note)}
}
