package notify

// FeePaymentReceived tells a household's owners that a payment of their
// property fees was received (缴费成功), with its receipt number. Proof of
// payment, so it cannot be turned off; SMS reaches an owner with neither the
// app nor the mini program.
const FeePaymentReceived Kind = "FEE_PAYMENT_RECEIVED"

func init() {
	Specs[FeePaymentReceived] = Spec{Kind: FeePaymentReceived, Channels: []string{ChannelFCM, ChannelWechat, ChannelSMS}, Priority: 75, OptOut: false,
		Title: [2]string{"缴费成功", "Payment received"},
		Body: [2]string{"{{.label}} 已缴费 {{.amount}} 元（{{.method}}），收据号 {{.receiptNo}}。感谢您的支持！",
			"{{.label}}: {{.amount}} yuan received ({{.methodEN}}), receipt no. {{.receiptNo}}. Thank you!"}}
}
