package notify

// ComplaintProgress tells a complainant what became of their complaint
// (投诉进度). Like repair progress it falls back to SMS for a resident the
// front desk filed for by phone, and is not something to turn off: it is the
// answer to what they asked.
const ComplaintProgress Kind = "COMPLAINT_PROGRESS"

func init() {
	Specs[ComplaintProgress] = Spec{Kind: ComplaintProgress, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 75, OptOut: false,
		Title: [2]string{"投诉进度：{{.statusText}}", "Complaint update: {{.statusTextEN}}"},
		Body:  [2]string{"您的投诉「{{.summary}}」{{.progressText}}", "Your complaint \"{{.summary}}\": {{.progressTextEN}}"}}
}

// ComplaintSource is the complaint loop as a notification source. A
// complaint is personal: its progress goes to the complainant alone, never
// to the rest of the household (some complaints are about family or
// neighbours). An anonymous complaint's events name no complainant (staff
// following the spine must not learn who made it), so its maker gets no
// notices; they follow it in the app. Complaints owe their callback by the
// handler's own step, not after an owner's sign-off, so the source has no
// SignOff and no reminders.
func ComplaintSource() Source {
	return Source{Name: "complaint", Progress: ComplaintProgress, Subject: [2]string{"投诉", "complaint"}, IDKey: "complaintId",
		Personal: true, ReporterSteps: complaintSteps}
}

// complaintSteps are what the complainant hears. A reply is announced, not
// quoted: it may be long, and a text message is no place for it; the
// handler's callback goes through it with them. Hand-overs are internal and
// withdrawals are the complainant's own step, so neither is told.
var complaintSteps = map[string]StepText{
	"acknowledge":     {"已受理", "received", "已由物业受理，我们会尽快处理并答复您。", "has been received; we are looking into it and will answer you."},
	"reply":           {"已答复", "answered", "物业已作出答复，管家将与您电话沟通并听取您的意见。", "we have answered it; your butler will call to go through the answer with you."},
	"callback_closed": {"已办结", "closed", "已办结，感谢您的理解与支持。", "is closed. Thank you for your understanding."},
	"callback_reopen": {"继续处理", "reopened", "我们将继续处理，直到您满意为止。", "we will keep working on it until you are satisfied."},
}
