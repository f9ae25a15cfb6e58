package notify

import (
	"context"
	"fmt"

	"qinqing/internal/identity"
	"qinqing/internal/platform/auth"
	"qinqing/internal/staff"
)

// StaffLoginAlert tells supervisors (or admins) that someone keeps failing
// to sign in to a staff account: a guessing attack, or a colleague locked
// out of their own password. Part of their duty, so it cannot be turned off.
const StaffLoginAlert Kind = "STAFF_LOGIN_ALERT"

func init() {
	Specs[StaffLoginAlert] = Spec{Kind: StaffLoginAlert, Channels: []string{ChannelFCM}, Priority: 90, OptOut: false,
		Title: [2]string{"员工账号登录异常", "Suspicious sign-ins on a staff account"},
		Body: [2]string{"员工账号 {{.account}}{{if .name}}（{{.name}}）{{end}} 在 {{.minutes}} 分钟内登录失败 {{.failures}} 次，可能有人在尝试猜测密码。请与本人核实，必要时重置密码或停用账号。",
			"The staff account {{.account}}{{if .name}} ({{.name}}){{end}} has failed to sign in {{.failures}} times within {{.minutes}} minutes; someone may be guessing its password. Please check with them and reset the password or deactivate the account if needed."}}
}

// AlertStaff finds who hears about an attacked staff account.
type AlertStaff interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	AlertRecipients(ctx context.Context, staffID string) ([]*staff.Staff, error)
}

// LoginAlerts sends identity's alerts about staff accounts under attack.
type LoginAlerts struct {
	Engine *Engine
	Staff  AlertStaff
}

var _ identity.Alerter = LoginAlerts{}

// StaffLoginAlert implements identity.Alerter.
func (l LoginAlerts) StaffLoginAlert(ctx context.Context, a identity.LoginAlert) error {
	st, err := l.Staff.Get(ctx, a.StaffID)
	if err != nil {
		return err
	}
	to, err := l.Staff.AlertRecipients(ctx, a.StaffID)
	if err != nil {
		return err
	}
	if len(to) == 0 {
		return fmt.Errorf("no one to alert about staff account %s", a.Account)
	}
	rs := make([]Recipient, len(to))
	for i, s := range to {
		rs[i] = Recipient{Kind: auth.KindStaff, ID: s.ID}
		if len(s.CommunityIDs) > 0 {
			rs[i].CommunityID = s.CommunityIDs[0]
		}
	}
	_, err = l.Engine.Send(ctx, Message{
		Kind: StaffLoginAlert,
		// identity raises at most one alert per account per window; the
		// time keeps the next window's alert a new message.
		Key:        fmt.Sprintf("staff-login-alert:%s:%d", a.StaffID, a.At.Unix()),
		Recipients: rs,
		Vars: map[string]any{"account": a.Account, "name": st.Name, "failures": a.Failures,
			"minutes": int(a.Window.Minutes())},
		Data: map[string]string{"staffId": a.StaffID},
	})
	return err
}
