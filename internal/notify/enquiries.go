package notify

// EnquiryAnswered tells the resident who asked a question (咨询) that it has
// an answer, when it could not be answered as they asked: an answer given on
// the spot (at the desk, on the phone) needs no notice. Like the other
// progress kinds it falls back to SMS for someone without the app.
const EnquiryAnswered Kind = "ENQUIRY_ANSWERED"

func init() {
	Specs[EnquiryAnswered] = Spec{Kind: EnquiryAnswered, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 72, OptOut: false,
		Title: [2]string{"咨询答复：{{.statusText}}", "Your question: {{.statusTextEN}}"},
		Body:  [2]string{"您咨询的「{{.summary}}」{{.progressText}}", "Your question \"{{.summary}}\": {{.progressTextEN}}"}}
}

// EnquirySource is the enquiries as a notification source. An enquiry is
// its asker's (myEnquiries shows it to them alone), so it is Personal; only
// a later answer is told ("reply": recorded on the spot, the answer was
// given as they asked). The answer is announced, not quoted: it may be
// long, and the owner of the enquiry calls back an asker without the app.
func EnquirySource() Source {
	return Source{Name: "enquiry", Progress: EnquiryAnswered, Subject: [2]string{"咨询", "enquiry"}, IDKey: "enquiryId",
		Personal: true, ReporterSteps: enquirySteps}
}

var enquirySteps = map[string]StepText{
	"reply": {"已答复", "answered", "已有答复，可在「我的咨询」中查看，工作人员也会致电告知您。", "has been answered; see My questions, and we will also call you."},
}
