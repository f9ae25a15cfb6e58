package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
)

// textsWith are the texts to phone that carry every one of parts.
func (g *smsGateway) textsWith(phone string, parts ...string) []string {
	var out []string
	for _, m := range g.texts(phone) {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m, p)
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// The front desk takes complaints by phone for two owners: one without the
// app hears every step by SMS, one with the app by push and not by SMS; the
// rest of the complainant's household hears nothing (a complaint is
// personal), and an anonymous complainant is told nothing, so nothing
// carries who they are.
func TestStaffFiledComplaintReachesTheComplainant(t *testing.T) {
	fcm, opt := withFCM(t)
	e := newEnv(t, opt)
	w := e.world()
	desk := e.staffWithRole(w, "x.desk", access.CustomerService)
	butler := e.staff(w.butlerX, w.Password)
	// Her son lives with her and has no app either: he must not hear of it.
	if _, err := e.App.Services.Households.AddMember(context.Background(), w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "王小军", Phone: "13900000009"}, Role: access.Family}); err != nil {
		t.Fatal(err)
	}
	ownerB := e.owner(w.OwnerB.Phone)
	ownerB.ok(`mutation{ registerDevice(token:"ok-owner-b-phone-000000000001", platform:ANDROID, app:OWNER, locale:"zh-CN"){ token } }`, nil, nil)

	submit := `mutation($in:SubmitComplaintInput!,$i:IntakeInput){ submitComplaint(input:$in, intake:$i){ id } }`
	file := func(c *client, h, person, desc string, anonymous bool) string {
		var out struct{ SubmitComplaint struct{ ID string } }
		vars := map[string]any{"in": map[string]any{"householdId": h, "category": "NOISE", "description": desc, "anonymous": anonymous}}
		if person != "" {
			vars["i"] = map[string]any{"channel": "PHONE", "personId": person}
		}
		c.ok(submit, vars, &out)
		return out.SubmitComplaint.ID
	}
	walk := func(id string) {
		v := map[string]any{"id": id}
		butler.ok(`mutation($id:ID!){ acknowledgeComplaint(id:$id){ id } }`, v, nil)
		butler.ok(`mutation($id:ID!){ replyComplaint(id:$id, text:"已与楼上住户沟通，装修时间改为工作日9点至18点。"){ id } }`, v, nil)
		butler.ok(`mutation($id:ID!){ recordComplaintCallback(id:$id, satisfied:true, notes:"电话回访，满意"){ id } }`, v, nil)
	}
	a := file(desk, w.HA.ID, w.OwnerA.ID, "楼上夜间装修噪音", false)
	b := file(desk, w.HB.ID, w.OwnerB.ID, "垃圾桶满了没人清", false)
	anon := file(ownerB, w.HB.ID, "", "保安夜里睡觉", true)
	for _, id := range []string{a, b, anon} {
		walk(id)
	}

	for _, step := range []string{"投诉进度：已受理", "投诉进度：已答复", "投诉进度：已办结"} {
		waitFor(t, step+" by SMS", func() bool { return len(e.SMS.textsWith(w.OwnerA.Phone, step, "「楼上夜间装修噪音」")) == 1 })
	}
	if got := e.SMS.textsWith(w.OwnerA.Phone, "已与楼上住户沟通"); len(got) != 0 {
		t.Fatalf("the reply itself was texted: %q", got)
	}
	waitFor(t, "pushes to the owner with the app", func() bool {
		n := 0
		for _, s := range fcm.ForToken("ok-owner-b-phone-000000000001") {
			if strings.Contains(s.Title, "投诉进度") {
				n++
			}
		}
		return n == 3
	})
	// Her three pushes are of her named complaint: the anonymous one told
	// her nothing.
	var progress []string
	for _, x := range ownerB.inbox().Notifications.Edges {
		if x.Node.Kind == "COMPLAINT_PROGRESS" {
			progress = append(progress, x.Node.Body)
			for _, d := range x.Node.Data {
				if d.Key == "complaintId" && d.Value != b {
					t.Fatalf("a notice of complaint %s (anonymous %s)", d.Value, anon)
				}
			}
		}
	}
	if len(progress) != 3 {
		t.Fatalf("owner B's complaint notices: %q", progress)
	}
	if got := e.SMS.textsWith(w.OwnerB.Phone, "投诉进度"); len(got) != 0 {
		t.Fatalf("texted although reached by push: %q", got)
	}
	if n := e.SMS.count("13900000009"); n != 0 {
		t.Fatalf("the complainant's son got %d texts", n)
	}
}

// A service order the desk books for an owner without the app reaches her
// by SMS at every step; when she has signed it off, the butler's callback
// notices (at sign-off and the reminder a day later) say when she prefers
// to be called.
func TestStaffBookedOrderBySMSAndCallbackHours(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.ScheduleInterval, c.OutboxInterval = 200*time.Millisecond, 100*time.Millisecond
		c.RatePromptAfter, c.CallbackDueAfter, c.CallbackOverdue = 2*time.Hour, 24*time.Hour, 72*time.Hour
	})
	w := e.soWorld()
	desk := e.staffWithRole(w.world, "x.desk", access.CustomerService)
	butler := e.staff(w.butlerX, w.Password)
	cleaner := e.staff("x.cleaner", w.Password)
	butler.ok(`mutation($p:ID!){ updateCareProfile(personId:$p, input:{contactHours:"上午 9:00-11:00"}){ id } }`, map[string]any{"p": w.OwnerA.ID}, nil)

	var o struct{ BookService struct{ ID string } }
	desk.ok(`mutation($in:BookServiceInput!,$i:IntakeInput){ bookService(input:$in, intake:$i){ id } }`, map[string]any{
		"in": map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning, "slot": tuesday, "quantity": 1},
		"i":  map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}}, &o)
	id := map[string]any{"id": o.BookService.ID}
	butler.ok(soConfirm, map[string]any{"id": o.BookService.ID, "a": w.cleanerID}, nil)
	cleaner.ok(`mutation($id:ID!){ startServiceOrder(id:$id){ id } }`, id, nil)
	cleaner.ok(`mutation($id:ID!){ completeServiceOrder(id:$id){ id } }`, id, nil)
	for _, step := range []string{"服务进度：已确认", "服务进度：服务中", "服务进度：待确认"} {
		waitFor(t, step+" by SMS", func() bool {
			return len(e.SMS.textsWith(w.OwnerA.Phone, "【亲情物业】"+step+"：您的服务订单「日常保洁」")) == 1
		})
	}
	// She signs in by code (no device: still reached by SMS) and accepts.
	e.owner(w.OwnerA.Phone).ok(`mutation($id:ID!){ acceptServiceOrder(id:$id, rating:5){ id } }`, id, nil)
	hours := "方便联系时间：上午 9:00-11:00。"
	waitFor(t, "the callback-due notice with her hours", func() bool {
		due := kindsIn(butler)["CALLBACK_DUE"]
		return len(due) == 1 && strings.Contains(due[0], "服务订单「日常保洁」") && strings.Contains(due[0], hours)
	})
	// Her callback on the butler's list says so too.
	var tl struct {
		ButlerTasks struct {
			Edges []struct {
				Node struct {
					Kind, SubjectID string
					ContactHours    *string
				}
			}
		}
	}
	butler.ok(`{ butlerTasks { edges { node { kind subjectId contactHours } } } }`, nil, &tl)
	if len(tl.ButlerTasks.Edges) != 1 || tl.ButlerTasks.Edges[0].Node.Kind != "SERVICE_ORDER_CALLBACK" ||
		tl.ButlerTasks.Edges[0].Node.ContactHours == nil || *tl.ButlerTasks.Edges[0].Node.ContactHours != "上午 9:00-11:00" {
		t.Fatalf("the butler's list: %+v", tl)
	}
	e.Clock.Advance(24*time.Hour + time.Minute)
	butler = e.staff(w.butlerX, w.Password)
	waitFor(t, "the callback reminder with her hours", func() bool {
		due := kindsIn(butler)["CALLBACK_DUE"]
		return len(due) == 2 && strings.Contains(due[0], hours) && strings.Contains(due[1], hours)
	})
}
