package notify

// FeeReminder is a courteous reminder of unpaid property fees (缴费提醒),
// the first two steps of the ladder (先礼后兵): polite, naming the amount
// and where to pay. It cannot be turned off (the ladder's next step, a
// call, relies on it having been sent) and falls back to SMS for an owner
// without the app.
const FeeReminder Kind = "FEE_REMINDER"

func init() {
	Specs[FeeReminder] = Spec{Kind: FeeReminder, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 58, OptOut: false,
		Title: [2]string{"{{if .second}}物业费缴费再次提醒{{else}}物业费缴费温馨提醒{{end}}", "{{if .second}}Second reminder: property fees{{else}}A friendly reminder: property fees{{end}}"},
		Body: [2]string{"{{.label}} 尚有物业费 {{.yuan}} 元未缴（最早一期应于 {{.oldestDue}} 前缴纳）。可在 APP 或小程序「我的账单」缴费，或到客户服务中心办理。如已缴纳请忽略，感谢您的支持！",
			"{{.label}} has {{.yuan}} yuan of property fees unpaid (the oldest was due by {{.oldestDue}}). Pay under My bills in the app or mini program, or at the service centre. If you have paid, please ignore this. Thank you!"}}
}
