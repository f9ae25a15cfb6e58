package notify

// InspectionEscalated tells a community's supervisors that a corrective task
// from a quality inspection (品质检查整改) failed its re-check: the fix was not
// done, and someone must follow it up. Part of their work, so it cannot be
// turned off.
const InspectionEscalated Kind = "INSPECTION_ESCALATED"

func init() {
	Specs[InspectionEscalated] = Spec{Kind: InspectionEscalated, Channels: []string{ChannelFCM}, Priority: 70, OptOut: false,
		Title: [2]string{"品质整改复查不合格", "Corrective task failed its re-check"},
		Body: [2]string{"{{.area}}{{if .location}}（{{.location}}）{{end}}「{{.item}}」整改复查仍不合格（第 {{.times}} 次），责任人：{{.assignee}}。新的整改期限 {{.deadline}}，请督办。",
			"{{.areaEN}}{{if .location}} ({{.location}}){{end}}: \"{{.item}}\" failed its re-check again (time {{.times}}); assigned to {{.assignee}}. New deadline {{.deadlineEN}}; please follow it up."}}
}
