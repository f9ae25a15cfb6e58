package kpi

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/intake"
	"qinqing/internal/repair"
)

// Items filed per channel: an intake record names the channel; a resident
// without one filed in the app; staff without one found it on site
// (VISIT); a granted order was filed by nobody. Sources not connected
// (enquiries, campaigns, moves) are left out of the kinds.
func TestItemsFiledPerChannel(t *testing.T) {
	f := newFixture(t)
	t0 := cst(2026, 3, 2, 9, 0)
	f.repair(t0) // the owner, in the app
	submit := func(c string, in repair.SubmitInput) {
		t.Helper()
		_, err := f.repairs.Submit(f.ctx, map[string]*access.Caller{"owner": f.ownerA, "butler": f.butler}[c], in)
		f.must(err)
	}
	f.clock.Set(t0.Add(time.Hour))
	submit("owner", repair.SubmitInput{HouseholdID: f.ha.ID, Category: "WATER", Description: "水龙头滴水", InHome: true,
		Intake: &intake.Input{Channel: intake.Wechat}})
	submit("butler", repair.SubmitInput{HouseholdID: f.ha.ID, Category: "WATER", Description: "电话报修：厨房漏水", InHome: true,
		Intake: &intake.Input{Channel: intake.Phone, PersonID: f.ownerA.ID}})
	submit("butler", repair.SubmitInput{PublicArea: &repair.PublicAreaInput{CommunityID: f.x.ID, Kind: "LOBBY", Place: "1栋大堂"},
		Category: "PUBLIC_AREA", Description: "大堂灯不亮"})
	f.complaint(t0.Add(2 * time.Hour))
	f.order("test:granted", t0.Add(3*time.Hour), t0.Add(30*time.Hour), nil, false)
	f.clock.Set(cst(2026, 3, 9, 9, 0))

	r, err := f.svc.WeeklyReport(f.ctx, f.supervisor, f.x.ID, "2026-03-02")
	f.must(err)
	got := r.Current.Filed
	if got.Total != 5 || len(got.ByKind) != 3 || got.ByKind[0].Kind != KindRepair || got.ByKind[0].Total != 4 || got.ByKind[2].Total != 0 {
		t.Fatalf("filed = %+v", got)
	}
	want := map[intake.Channel]int{intake.Phone: 1, intake.Desk: 0, intake.Visit: 1, intake.App: 2, intake.Wechat: 1}
	for _, c := range got.ByChannel {
		if c.Count != want[c.Channel] || !c.Share.Available || c.Share.Numerator != c.Count || c.Share.Denominator != 5 {
			t.Errorf("%s: %+v, want %d of 5", c.Channel, c, want[c.Channel])
		}
	}
	if n := got.Of(KindComplaint, intake.App); n != 1 {
		t.Errorf("complaints by APP = %d", n)
	}
	if r.Previous.Filed.Total != 0 {
		t.Errorf("last week filed %+v", r.Previous.Filed)
	}
	if s := "受理渠道（共5件）：电话1件（报修1），前台0件，上门1件（报修1），APP2件（报修1、投诉1），微信1件（报修1）"; !strings.Contains(r.SummaryZH, s) {
		t.Errorf("summary lacks %q:\n%s", s, r.SummaryZH)
	}
	if s := "5 items filed by channel: phone 1 (repairs 1), desk 0, visit 1 (repairs 1), app 2 (repairs 1, complaints 1), WeChat 1 (repairs 1)"; !strings.Contains(r.SummaryEN, s) {
		t.Errorf("English summary lacks %q:\n%s", s, r.SummaryEN)
	}
}
