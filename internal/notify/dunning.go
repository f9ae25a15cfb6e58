package notify

// FeeReminder is a courteous reminder of unpaid property fees (缴费提醒):
// the first two steps of the ladder (先礼后兵), polite, naming the amount
// and where to pay, and later word that a formal written notice was issued
// (written: its number, the date to pay by, and in the message's data
// documentUrl, the notice's PDF). It cannot be turned off (the ladder's
// next step relies on it having been sent) and falls back to SMS for an
// owner without the app.
const FeeReminder Kind = "FEE_REMINDER"

func init() {
	Specs[FeeReminder] = Spec{Kind: FeeReminder, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 58, OptOut: false,
		Title: [2]string{"{{if .written}}物业费书面催缴通知{{else if .second}}物业费缴费再次提醒{{else}}物业费缴费温馨提醒{{end}}",
			"{{if .written}}Written notice: property fees{{else if .second}}Second reminder: property fees{{else}}A friendly reminder: property fees{{end}}"},
		Body: [2]string{"{{if .written}}{{.label}} 尚欠物业费 {{.yuan}} 元，物业服务中心已向您发出书面催缴通知书（编号 {{.number}}），请于 {{.payBy}} 前缴清。可在 APP 或小程序查看通知书并在「我的账单」缴费，或到客户服务中心办理。如已缴纳请忽略，感谢您的支持！" +
			"{{else}}{{.label}} 尚有物业费 {{.yuan}} 元未缴（最早一期应于 {{.oldestDue}} 前缴纳）。可在 APP 或小程序「我的账单」缴费，或到客户服务中心办理。如已缴纳请忽略，感谢您的支持！{{end}}",
			"{{if .written}}{{.label}} owes {{.yuan}} yuan of property fees; the property service centre has issued a formal written notice (No. {{.number}}). Please pay by {{.payBy}}. Open the notice in the app or mini program and pay under My bills, or at the service centre. If you have paid, please ignore this. Thank you!" +
				"{{else}}{{.label}} has {{.yuan}} yuan of property fees unpaid (the oldest was due by {{.oldestDue}}). Pay under My bills in the app or mini program, or at the service centre. If you have paid, please ignore this. Thank you!{{end}}"}}
}
