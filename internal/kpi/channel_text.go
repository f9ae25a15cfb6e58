package kpi

import (
	"fmt"
	"strings"

	"qinqing/internal/intake"
)

var (
	channelZH = map[intake.Channel]string{intake.Phone: "电话", intake.Desk: "前台", intake.Visit: "上门", intake.App: "APP", intake.Wechat: "微信"}
	channelEN = map[intake.Channel]string{intake.Phone: "phone", intake.Desk: "desk", intake.Visit: "visit", intake.App: "app", intake.Wechat: "WeChat"}
	kindZH    = map[ItemKind]string{KindRepair: "报修", KindComplaint: "投诉", KindServiceOrder: "服务订单", KindCampaignBooking: "免费服务预约",
		KindMoveBooking: "搬家预约", KindEnquiry: "咨询"}
	kindEN = map[ItemKind]string{KindRepair: "repairs", KindComplaint: "complaints", KindServiceOrder: "service orders",
		KindCampaignBooking: "campaign bookings", KindMoveBooking: "move bookings", KindEnquiry: "enquiries"}
)

// filedZH is the weekly report's channel line: every channel with its
// count, and the kinds that came in through it.
func filedZH(f Filed) string {
	parts := make([]string, len(f.ByChannel))
	for i, c := range f.ByChannel {
		parts[i] = fmt.Sprintf("%s%d件", channelZH[c.Channel], c.Count) + kindsOf(f, c.Channel, kindZH, "（", "、", "）", "")
	}
	return fmt.Sprintf("受理渠道（共%d件）：", f.Total) + strings.Join(parts, "，")
}

func filedEN(f Filed) string {
	parts := make([]string, len(f.ByChannel))
	for i, c := range f.ByChannel {
		parts[i] = fmt.Sprintf("%s %d", channelEN[c.Channel], c.Count) + kindsOf(f, c.Channel, kindEN, " (", ", ", ")", " ")
	}
	return fmt.Sprintf("%d items filed by channel: ", f.Total) + strings.Join(parts, ", ")
}

// kindsOf lists the kinds with items through ch, e.g. （报修3、咨询1）.
func kindsOf(f Filed, ch intake.Channel, names map[ItemKind]string, open, sep, closing, space string) string {
	var ks []string
	for _, k := range f.ByKind {
		if n := f.Of(k.Kind, ch); n > 0 {
			ks = append(ks, names[k.Kind]+space+fmt.Sprint(n))
		}
	}
	if len(ks) == 0 {
		return ""
	}
	return open + strings.Join(ks, sep) + closing
}
