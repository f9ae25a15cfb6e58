package e2e

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/config"
)

// Announcements, greeting campaigns, the festival calendar and a festival
// greeting firing on its day, through the API.
func TestKeepingInTouch(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.ScheduleInterval, c.OutboxInterval = 200*time.Millisecond, 100*time.Millisecond
	})
	w := e.world()
	butler := e.staff(w.butlerX, w.Password)
	owner := e.owner(w.OwnerA.Phone)
	ownerY := e.owner(w.OwnerY.Phone)

	// An announcement to the community reaches its owners' lists and inboxes, not another community's.
	var pub struct{ PublishAnnouncement struct{ ID string } }
	butler.ok(`mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "停水通知", "body": "明日 9:00-12:00 二次供水设备检修，请提前储水。", "kind": "OUTAGE", "pinned": true}}, &pub)
	owner.fails("FORBIDDEN", `mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "x", "body": "y", "kind": "NOTICE"}})
	var list struct {
		Announcements struct {
			Edges []struct {
				Node struct {
					ID, Title string
					Read      bool
				}
			}
		}
	}
	owner.ok(`query($c:ID!){ announcements(communityId:$c){ edges { node { id title read } } } }`, map[string]any{"c": w.X.ID}, &list)
	if len(list.Announcements.Edges) != 1 || list.Announcements.Edges[0].Node.Title != "停水通知" {
		t.Fatalf("owner's announcements = %+v", list)
	}
	owner.ok(`mutation($id:ID!){ markAnnouncementRead(id:$id){ read } }`, map[string]any{"id": pub.PublishAnnouncement.ID}, nil)
	ownerY.fails("NOT_FOUND", `query($id:ID!){ announcement(id:$id){ id } }`, map[string]any{"id": pub.PublishAnnouncement.ID})
	waitFor(t, "the announcement in the inbox", func() bool {
		for _, ed := range owner.inbox().Notifications.Edges {
			if ed.Node.Kind == "ANNOUNCEMENT" && ed.Node.Title == "停水通知" {
				return true
			}
		}
		return false
	})

	// Supervisors see how it went out; butlers may not.
	var rep struct {
		DeliveryReport struct {
			Recipients int
			ByChannel  []struct {
				Channel, Status string
				Count           int
			}
		}
	}
	key := map[string]any{"c": w.X.ID, "k": "announcement:" + pub.PublishAnnouncement.ID}
	e.staff(w.supervisorX, w.Password).ok(`query($c:ID!,$k:String!){ deliveryReport(communityId:$c, key:$k){ recipients byChannel { channel status count } } }`, key, &rep)
	if rep.DeliveryReport.Recipients != 3 {
		t.Fatalf("report = %+v", rep)
	}
	butler.fails("FORBIDDEN", `query($c:ID!,$k:String!){ deliveryReport(communityId:$c, key:$k){ recipients } }`, key)
	e.staff(w.supervisorY, w.Password).fails("FORBIDDEN", `query($c:ID!,$k:String!){ deliveryReport(communityId:$c, key:$k){ recipients } }`, key)
	// Staff of another community neither read nor post X's works progress; an
	// owner of X reads it.
	butler.ok(`mutation($in:PostProjectProgressInput!){ postProjectProgress(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "1栋电梯更换", "percent": 60, "text": "导轨已安装完毕"}}, nil)
	var prog struct {
		ProjectProgress struct {
			Edges []struct{ Node struct{ Percent int } }
		}
	}
	owner.ok(`query($c:ID!){ projectProgress(communityId:$c){ edges { node { percent } } } }`, map[string]any{"c": w.X.ID}, &prog)
	if len(prog.ProjectProgress.Edges) != 1 || prog.ProjectProgress.Edges[0].Node.Percent != 60 {
		t.Fatalf("progress = %+v", prog)
	}
	if r := ownerY.do(`query($c:ID!){ projectProgress(communityId:$c){ edges { node { percent } } } }`, map[string]any{"c": w.X.ID}); r.code() != "FORBIDDEN" && r.code() != "NOT_FOUND" {
		t.Fatalf("an owner of Y read X's progress: %+v", r.Errors)
	}
	if r := e.staff(w.supervisorY, w.Password).do(`mutation($in:PostProjectProgressInput!){ postProjectProgress(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "x", "percent": 1, "text": "y"}}); r.code() != "FORBIDDEN" && r.code() != "NOT_FOUND" {
		t.Fatalf("staff of Y posted to X: %+v", r.Errors)
	}
	// With no templates configured, a reported grant names the field.
	r := owner.fails("BAD_USER_INPUT", `mutation{ recordWechatSubscription(templateIds:["tmpl-x"], accepted:[true]){ templateId remaining } }`, nil)
	if r.field() != "templateIds" {
		t.Errorf("field = %q", r.field())
	}

	// The festival calendar knows the lunar dates.
	var cal struct {
		FestivalCalendar []struct {
			Date     string
			Festival struct{ Key string }
		}
	}
	butler.ok(`query($c:ID!){ festivalCalendar(communityId:$c, year:2027){ date festival { key } } }`, map[string]any{"c": w.X.ID}, &cal)
	found := false
	for _, f := range cal.FestivalCalendar {
		if f.Festival.Key == "mid_autumn" {
			found = f.Date == "2027-09-15"
		}
	}
	if !found {
		t.Fatalf("calendar 2027 = %+v", cal)
	}
	owner.fails("FORBIDDEN", `query($c:ID!){ festivalCalendar(communityId:$c, year:2027){ date } }`, map[string]any{"c": w.X.ID})
	supY := e.staff(w.supervisorY, w.Password)
	supY.fails("NOT_FOUND", `query($c:ID!){ festivalCalendar(communityId:$c, year:2027){ date } }`, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", `mutation($in:GreetingCampaignInput!){ sendGreetingCampaign(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "问候", "text": "您好"}})
	supY.fails("NOT_FOUND", `query($c:ID!){ greetingCampaigns(communityId:$c){ edges { cursor } } }`, map[string]any{"c": w.X.ID})

	// A greeting campaign to building 1 reaches its owners only.
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(`mutation($in:GreetingCampaignInput!){ sendGreetingCampaign(input:$in){ id recipients } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "buildingIds": []string{w.XB1.ID}, "title": "冬至安康", "text": "冬至到了，记得吃饺子，注意保暖。"}}, nil)
	waitFor(t, "the campaign greeting", func() bool {
		for _, ed := range owner.inbox().Notifications.Edges {
			if ed.Node.Kind == "FESTIVAL_GREETING" && ed.Node.Title == "冬至安康" {
				return true
			}
		}
		return false
	})

	// Mid-Autumn 2027 at 09:00 in Shanghai: every resident is greeted once.
	e.Clock.Set(time.Date(2027, 9, 15, 1, 0, 0, 0, time.UTC))
	ownerY = e.owner(w.OwnerY.Phone)
	waitFor(t, "the Mid-Autumn greeting", func() bool {
		n := 0
		for _, ed := range ownerY.inbox().Notifications.Edges {
			if ed.Node.Kind == "FESTIVAL_GREETING" && strings.Contains(ed.Node.Title, "中秋") {
				n++
			}
		}
		return n == 1
	})
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, ed := range ownerY.inbox().Notifications.Edges {
		if ed.Node.Kind == "FESTIVAL_GREETING" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("greeted %d times", n)
	}
}
