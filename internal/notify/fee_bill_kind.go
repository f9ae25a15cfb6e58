package notify

// FeeBillIssued tells a household's owners (and its tenants, when the
// owners let them see the bills) that a bill is out (账单已出): the period,
// what is owed and by when. News the owner can also find in My bills, so,
// unlike the payment receipt, it may be turned off.
const FeeBillIssued Kind = "FEE_BILL_ISSUED"

func init() {
	Specs[FeeBillIssued] = Spec{Kind: FeeBillIssued, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 56, OptOut: true,
		Title: [2]string{"{{.period}} 物业费账单{{if .reissued}}（更正）{{end}}", "Property fee bill for {{.period}}{{if .reissued}} (corrected){{end}}"},
		Body: [2]string{
			"{{.label}} {{.period}} 账单{{if .reissued}}已更正重开{{else}}已出{{end}}：{{if .waived}}已全额减免，无需缴纳。{{else}}应缴 {{.amount}} 元，请于 {{.dueDate}} 前缴纳。可在 APP 或小程序「我的账单」查看明细并缴费，或到客户服务中心办理。{{end}}",
			"{{.label}}: the bill for {{.period}} is {{if .reissued}}corrected and reissued{{else}}out{{end}}: {{if .waived}}relieved in full, nothing to pay.{{else}}{{.amount}} yuan due by {{.dueDate}}. See the details and pay under My bills in the app or mini program, or at the service centre.{{end}}"}}
}
