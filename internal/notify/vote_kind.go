package notify

// VoteOpened tells the residents of a community that a matter is put to
// the owners' vote (业主大会表决) and until when; VoteResultPublished that a
// vote was counted and what it decided. News of the community, so they may
// be turned off; the vote itself is in the app either way.
const (
	VoteOpened          Kind = "VOTE_OPENED"
	VoteResultPublished Kind = "VOTE_RESULT_PUBLISHED"
)

func init() {
	Specs[VoteOpened] = Spec{Kind: VoteOpened, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 50, OptOut: true,
		Title: [2]string{"业主表决：{{.title}}", "Owners' vote: {{.title}}"},
		Body: [2]string{
			"{{.community}}业主大会表决“{{.title}}”已开始，截止 {{.closes}}。每户一票，可在 App 中投票或委托代理人。",
			"{{.community}} owners are voting on \"{{.title}}\" until {{.closesEN}}. One ballot per unit; vote in the app or appoint a proxy."}}
	Specs[VoteResultPublished] = Spec{Kind: VoteResultPublished, Channels: []string{ChannelFCM, ChannelWechat}, Priority: 50, OptOut: true,
		Title: [2]string{"表决结果：{{.title}}", "Vote result: {{.title}}"},
		Body: [2]string{
			"{{.community}}业主大会表决“{{.title}}”已计票：参与 {{.units}} 户（共 {{.electorate}} 户），{{.outcome}}。可在 App 中核对您的投票回执。",
			"{{.community}}'s vote on \"{{.title}}\" is counted: {{.units}} of {{.electorate}} units took part; {{.outcomeEN}}. Check your ballot receipt in the app."}}
}
