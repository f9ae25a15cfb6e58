package notify

// OutageNotice tells the residents of the buildings a piece of maintenance
// work disturbs (water or power off, a lift out, noise) what, when and for
// how long, the configured time before it starts; OutageRestored tells them
// it is over. Part of living in the building, not news: not to be turned
// off, and by SMS too for residents the apps do not reach.
const (
	OutageNotice   Kind = "OUTAGE_NOTICE"
	OutageRestored Kind = "OUTAGE_RESTORED"
)

func init() {
	Specs[OutageNotice] = Spec{Kind: OutageNotice, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 75, OptOut: false,
		Title: [2]string{"{{if .emergency}}紧急{{else}}计划{{end}}{{.disturbs}}通知", "{{if .emergency}}Emergency{{else}}Planned{{end}} outage: {{.disturbsEN}}"},
		Body: [2]string{
			"因{{.equipment}}{{.title}}，{{.when}}起{{.disturbs}}，预计持续{{.duration}}。影响范围：{{.buildings}}。给您带来不便，敬请谅解。",
			"For {{.titleEN}} of {{.equipment}}: {{.disturbsEN}} from {{.whenEN}} for about {{.durationEN}}. Affects: {{.buildings}}. We apologise for the inconvenience."}}
	Specs[OutageRestored] = Spec{Kind: OutageRestored, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 74, OptOut: false,
		Title: [2]string{"恢复通知：{{.restored}}", "Service restored: {{.restoredEN}}"},
		Body: [2]string{
			"{{.equipment}}{{.title}}已完成，{{.restored}}，感谢您的理解与配合。",
			"{{.titleEN}} of {{.equipment}} is done: {{.restoredEN}}. Thank you for your patience."}}
}
