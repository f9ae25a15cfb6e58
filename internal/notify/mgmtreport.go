package notify

// ManagementReportPublished tells the residents of a community that its
// management report (管理报告) for a period is published, or corrected (a
// new version that says what changed). News of the community like the
// open accounts, so it may be turned off.
const ManagementReportPublished Kind = "MANAGEMENT_REPORT_PUBLISHED"

func init() {
	Specs[ManagementReportPublished] = Spec{Kind: ManagementReportPublished, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 48, OptOut: true,
		Title: [2]string{"{{if gt .version 1}}管理报告更正{{else}}管理报告{{end}}：{{.period}}", "{{if gt .version 1}}Management report corrected{{else}}Management report{{end}}: {{.periodEN}}"},
		Body: [2]string{
			"{{.community}}{{.period}}管理报告已发布，涵盖设备、治安、消防、停车、清洁、绿化、消杀、报修投诉、活动、满意度及收支情况，欢迎查阅。{{if gt .version 1}}第 {{.version}} 版更正：{{.changeNote}}{{end}}",
			"{{.community}} has published its management report for {{.periodEN}}: equipment, security, fire safety, parking, cleaning, greening, pest control, repairs and complaints, events, surveys and the accounts.{{if gt .version 1}} Version {{.version}} corrects: {{.changeNote}}{{end}}"}}
}
