package notify

// PatrolCheckpointMissed tells a community's security supervisors that a
// patrol checkpoint's window passed unscanned while the shift is on, so
// someone can still go there. Part of their work: not something to turn off.
const PatrolCheckpointMissed Kind = "PATROL_CHECKPOINT_MISSED"

func init() {
	Specs[PatrolCheckpointMissed] = Spec{Kind: PatrolCheckpointMissed, Channels: []string{ChannelFCM}, Priority: 80, OptOut: false,
		Title: [2]string{"巡更漏检：{{.checkpoint}}", "Patrol checkpoint missed: {{.checkpoint}}"},
		Body: [2]string{"巡更路线「{{.route}}」的巡更点「{{.checkpoint}}」{{if .place}}（{{.place}}）{{end}}应于 {{.due}} 前后打卡，至今未打卡，请安排复查。",
			"The checkpoint \"{{.checkpoint}}\"{{if .place}} ({{.place}}){{end}} on patrol route \"{{.route}}\" was due around {{.due}} and has not been scanned; please send someone."}}
}
