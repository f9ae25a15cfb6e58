package notify

// FinanceStatementPublished tells the residents of a community that its
// income and expense statement for a period is out (收支公示), or that a
// published one was corrected (a new version that says what changed). News
// of the community like an announcement, so it may be turned off.
const FinanceStatementPublished Kind = "FINANCE_STATEMENT_PUBLISHED"

func init() {
	Specs[FinanceStatementPublished] = Spec{Kind: FinanceStatementPublished, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 48, OptOut: true,
		Title: [2]string{"{{if gt .version 1}}收支公示更正{{else}}收支公示{{end}}：{{.period}}", "{{if gt .version 1}}Accounts corrected{{else}}Open accounts{{end}}: {{.periodEN}}"},
		Body: [2]string{
			"{{.community}}{{.period}}收支情况已公示：收入 {{.income}} 元，支出 {{.expense}} 元，{{if .deficit}}亏损{{else}}结余{{end}} {{.surplus}} 元。{{if gt .version 1}}第 {{.version}} 版更正：{{.changeNote}}{{end}}",
			"{{.community}} has published its accounts for {{.periodEN}}: income {{.income}} yuan, expense {{.expense}} yuan, {{if .deficit}}deficit{{else}}surplus{{end}} {{.surplus}} yuan.{{if gt .version 1}} Version {{.version}} corrects: {{.changeNote}}{{end}}"}}
}
