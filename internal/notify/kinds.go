// Package notify is the messenger: every message to a person or staff member
// lands in their inbox once, and goes out through the channels they can be
// reached by (FCM for the apps, WeChat subscribe messages for mini programs,
// SMS as a last resort for emergencies), from an outbox in MongoDB that
// survives crashes and second servers.
package notify

import (
	"bytes"
	"fmt"
	"text/template"

	"qinqing/internal/platform/apperr"
)

// Kind is a registered kind of message.
type Kind string

const (
	FestivalGreeting    Kind = "FESTIVAL_GREETING"
	BirthdayGreeting    Kind = "BIRTHDAY_GREETING"
	RepairProgress      Kind = "REPAIR_PROGRESS"
	ServiceOrderUpdate  Kind = "SERVICE_ORDER_PROGRESS"
	ProjectProgress     Kind = "PROJECT_PROGRESS"
	Announcement        Kind = "ANNOUNCEMENT"
	EmergencyNotice     Kind = "EMERGENCY_NOTICE"
	EventReminder       Kind = "EVENT_REMINDER"
	SurveyInvitation    Kind = "SURVEY_INVITATION"
	CallbackPromptOwner Kind = "CALLBACK_PROMPT"
	CallbackDue         Kind = "CALLBACK_DUE"
	ButlerTaskDue       Kind = "BUTLER_TASK_DUE"
)

// Channel names.
const (
	ChannelInbox  = "INBOX"
	ChannelFCM    = "FCM"
	ChannelWechat = "WECHAT"
	ChannelSMS    = "SMS"
)

// Spec describes a kind: where it goes by default, how important it is
// (higher first, when a scarce channel must choose), whether people may turn
// it off, whether it may wake them, and what it says.
type Spec struct {
	Kind     Kind
	Channels []string
	Priority int
	OptOut   bool // people may turn it off
	Urgent   bool // delivered in quiet hours too
	Title    [2]string
	Body     [2]string // zh, en templates over Vars
}

// Specs is the registry. Templates use Go text/template over the message's
// variables. The callback prompts serve every Source (repairs, service
// orders): subject/subjectEN name the job ("报修", "服务订单").
var Specs = map[Kind]Spec{
	FestivalGreeting: {Kind: FestivalGreeting, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 10, OptOut: true,
		Title: [2]string{"{{if .title}}{{.title}}{{else}}{{.festival}}快乐{{end}}", "{{if .title}}{{.title}}{{else}}Happy {{.festivalEN}}{{end}}"}, Body: [2]string{"{{.text}}", "{{.textEN}}"}},
	BirthdayGreeting: {Kind: BirthdayGreeting, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 20, OptOut: true,
		Title: [2]string{"生日快乐", "Happy birthday"}, Body: [2]string{"{{.name}}，今天是您的生日，物业全体同仁祝您生日快乐、身体健康！", "Happy birthday, {{.name}}! Best wishes from all of us at your property service."}},
	// SMS reaches a resident with neither the app nor the mini program (an
	// elderly owner who rang the hotline); the channel suppresses it for
	// everyone push or WeChat reaches.
	RepairProgress: {Kind: RepairProgress, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 80, OptOut: false,
		Title: [2]string{"报修进度：{{.statusText}}", "Repair update: {{.statusTextEN}}"}, Body: [2]string{"您的报修「{{.summary}}」{{.progressText}}", "Your repair request \"{{.summary}}\": {{.progressTextEN}}"}},
	// Service orders, move bookings, campaign visits and renovation permits
	// all speak through this kind, so a resident a desk booked for by phone
	// hears of each by SMS too.
	ServiceOrderUpdate: {Kind: ServiceOrderUpdate, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 70, OptOut: false,
		Title: [2]string{"服务进度：{{.statusText}}", "Service update: {{.statusTextEN}}"}, Body: [2]string{"{{.text}}", "{{.textEN}}"}},
	ProjectProgress: {Kind: ProjectProgress, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 40, OptOut: true,
		Title: [2]string{"工程进度：{{.title}}", "Works progress: {{.title}}"}, Body: [2]string{"已完成 {{.percent}}%。{{.text}}", "{{.percent}}% done. {{.text}}"}},
	Announcement: {Kind: Announcement, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 50, OptOut: true,
		Title: [2]string{"{{.title}}", "{{.title}}"}, Body: [2]string{"{{.text}}", "{{.text}}"}},
	EmergencyNotice: {Kind: EmergencyNotice, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 100, OptOut: false, Urgent: true,
		Title: [2]string{"紧急通知：{{.title}}", "Emergency: {{.title}}"}, Body: [2]string{"{{.text}}", "{{.text}}"}},
	EventReminder: {Kind: EventReminder, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 45, OptOut: true,
		Title: [2]string{"活动提醒：{{.title}}", "Event reminder: {{.title}}"}, Body: [2]string{"{{.text}}", "{{.text}}"}},
	SurveyInvitation: {Kind: SurveyInvitation, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 30, OptOut: true,
		Title: [2]string{"满意度调查：{{.title}}", "Survey: {{.title}}"}, Body: [2]string{"{{.text}}", "{{.text}}"}},
	CallbackPromptOwner: {Kind: CallbackPromptOwner, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 60, OptOut: true,
		Title: [2]string{"请为本次服务评分", "Please rate our service"}, Body: [2]string{"您的{{.subject}}「{{.summary}}」已完成，请花一分钟为我们的服务打分。", "Your {{.subjectEN}} \"{{.summary}}\" is done; please take a minute to rate it."}},
	CallbackDue: {Kind: CallbackDue, Channels: []string{ChannelFCM}, Priority: 65, OptOut: false,
		Title: [2]string{"回访提醒", "Callback due"}, Body: [2]string{"{{if .label}}{{.label}} 的{{end}}{{.subject}}「{{.summary}}」已验收，请及时回访业主。{{if .contactHours}}方便联系时间：{{.contactHours}}。{{end}}{{if .overdue}}（已超时）{{end}}", "The {{.subjectEN}} \"{{.summary}}\"{{if .label}} at {{.label}}{{end}} was signed off; please call the owner back.{{if .contactHours}} Best time to call: {{.contactHours}}.{{end}}{{if .overdue}} (overdue){{end}}"}},
}

func init() {
	// A task written on the butler's list (a congratulation visit, a
	// move-in callback) that has come due.
	Specs[ButlerTaskDue] = Spec{Kind: ButlerTaskDue, Channels: []string{ChannelFCM}, Priority: 62, OptOut: false,
		Title: [2]string{"待办到期", "Task due"}, Body: [2]string{"{{.label}}：{{.title}}，请及时办理。", "{{.label}}: {{.titleEN}} is due."}}
}

// EnquiryOverdue tells of an enquiry past the time its owner promised an
// answer by (首问责任制): the owner (mine) to answer it or hand it over, the
// supervisors to chase it. Part of their work, so not something to turn off.
const EnquiryOverdue Kind = "ENQUIRY_OVERDUE"

func init() {
	Specs[EnquiryOverdue] = Spec{Kind: EnquiryOverdue, Channels: []string{ChannelFCM}, Priority: 63, OptOut: false,
		Title: [2]string{"咨询超时未答复", "Enquiry overdue"},
		Body: [2]string{
			"{{if .mine}}您负责的{{else if .owner}}{{.owner}} 负责的{{else}}无人受理的{{end}}咨询「{{.question}}」承诺 {{.promised}} 前答复，现已超时，{{if .mine}}请尽快答复或转交。{{else}}请督办。{{end}}",
			"The enquiry \"{{.question}}\"{{if .mine}} you own{{else if .owner}} owned by {{.owner}}{{else}}, taken by nobody,{{end}} was promised an answer by {{.promisedEN}} and is overdue; {{if .mine}}please answer it or hand it over.{{else}}please follow it up.{{end}}"}}
}

// Render fills a kind's title and body in lang.
func (s Spec) Render(lang apperr.Lang, vars map[string]any) (title, body string, err error) {
	i := 0
	if lang == apperr.EN {
		i = 1
	}
	if title, err = render(s.Title[i], vars); err != nil {
		return "", "", fmt.Errorf("%s title: %w", s.Kind, err)
	}
	if body, err = render(s.Body[i], vars); err != nil {
		return "", "", fmt.Errorf("%s body: %w", s.Kind, err)
	}
	return title, body, nil
}

func render(src string, vars map[string]any) (string, error) {
	t, err := template.New("").Option("missingkey=zero").Parse(src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// WeeklyReport is a community's weekly service report (服务周报) for its
// supervisors, every Monday morning: part of their work, like the callback
// and task reminders, so not something to turn off.
const WeeklyReport Kind = "WEEKLY_REPORT"

func init() {
	Specs[WeeklyReport] = Spec{Kind: WeeklyReport, Channels: []string{ChannelFCM}, Priority: 35, OptOut: false,
		Title: [2]string{"{{.community}}服务周报（{{.week}}）", "Weekly report: {{.community}} ({{.weekEN}})"}, Body: [2]string{"{{.text}}", "{{.textEN}}"}}
}

// HouseholdInvitation tells a person that a household invites them to join
// (户内成员邀请). It names only the flat and the inviter's role: the invitee
// learns nothing else of the household until they accept.
const HouseholdInvitation Kind = "HOUSEHOLD_INVITATION"

func init() {
	Specs[HouseholdInvitation] = Spec{Kind: HouseholdInvitation, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 55, OptOut: false,
		Title: [2]string{"户内成员邀请", "Household invitation"},
		Body: [2]string{"{{.label}} 的{{.inviterRole}}邀请您成为该户成员，请在「我的邀请」中接受或拒绝，7天内有效。",
			"The {{.inviterRoleEN}} of {{.label}} invites you to join the household; accept or decline under My invitations within 7 days."}}
}
