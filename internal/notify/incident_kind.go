package notify

// IncidentReported tells a community's security supervisors (supervisors
// when it has none) and the staff an incident report names as told that a
// security incident (安全事件) was reported. It names the type, place, time
// and reporter only: residents involved and health details follow the care
// archive's rule, which an inbox cannot apply. Part of their work, so it
// cannot be turned off.
const IncidentReported Kind = "INCIDENT_REPORTED"

// IncidentUrgent is the same notice for a fire alarm or an injury. Urgency
// is a kind's property (Spec.Urgent), so these are their own kind: they are
// delivered in quiet hours too, when a night guard reports a fire.
const IncidentUrgent Kind = "INCIDENT_URGENT"

func init() {
	title := [2]string{"安全事件：{{.type}}", "Security incident: {{.typeEN}}"}
	body := [2]string{"{{.time}}，{{.place}}发生{{.type}}，报告人：{{.reporter}}。请查看事件记录并跟进。",
		"{{.typeEN}} at {{.place}}, {{.timeEN}}; reported by {{.reporterEN}}. Please see the incident record and follow it up."}
	Specs[IncidentReported] = Spec{Kind: IncidentReported, Channels: []string{ChannelFCM}, Priority: 75, OptOut: false, Title: title, Body: body}
	Specs[IncidentUrgent] = Spec{Kind: IncidentUrgent, Channels: []string{ChannelFCM}, Priority: 95, OptOut: false, Urgent: true,
		Title: [2]string{"紧急安全事件：{{.type}}", "Urgent security incident: {{.typeEN}}"}, Body: body}
}
