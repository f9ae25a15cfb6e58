package notify

// OutcomesPublished tells the residents of a community what became of
// what owners raised in a period (投诉与咨询处理结果公示, 调查整改回应), or
// that published outcomes were corrected. News of the community like the
// open accounts, so it may be turned off.
const OutcomesPublished Kind = "OUTCOMES_PUBLISHED"

func init() {
	Specs[OutcomesPublished] = Spec{Kind: OutcomesPublished, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 48, OptOut: true,
		Title: [2]string{"{{if gt .version 1}}处理结果公示更正{{else}}处理结果公示{{end}}：{{.period}}", "{{if gt .version 1}}Outcomes corrected{{else}}What became of your concerns{{end}}: {{.periodEN}}"},
		Body: [2]string{
			"{{.community}}{{.period}}共收到投诉 {{.complaints}} 件、咨询 {{.enquiries}} 件，处理结果及 {{.actions}} 项整改承诺已公示，欢迎查看并监督落实。{{if gt .version 1}}第 {{.version}} 版更正：{{.changeNote}}{{end}}",
			"{{.community}} received {{.complaints}} complaints and {{.enquiries}} enquiries in {{.periodEN}}; what became of them and {{.actions}} promised improvements are published for you to follow.{{if gt .version 1}} Version {{.version}} corrects: {{.changeNote}}{{end}}"}}
}
