package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/notify/notifytest"
	"qinqing/internal/platform/config"
)

// withFCM points the server's real firebase client at a local fake FCM.
func withFCM(t testing.TB) (*notifytest.FakeFCM, envOption) {
	fcm := notifytest.NewFakeFCM(t)
	sa := notifytest.WriteServiceAccount(t, "qinqing-test")
	return fcm, func(c *config.Config) {
		c.FCMCredentialsFile, c.FCMEndpoint, c.OutboxInterval = sa, fcm.URL, 50*time.Millisecond
	}
}

// waitFor polls cond (the outbox works in the background) for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type inbox struct {
	Notifications struct {
		Edges []struct {
			Node struct {
				ID, Kind, Title, Body string
				Read                  bool
				Data                  []struct{ Key, Value string }
			}
		}
	}
	UnreadNotificationCount int
}

func (c *client) inbox() inbox {
	var in inbox
	c.ok(`{ notifications(first: 50){ edges { node { id kind title body read data { key value } } } } unreadNotificationCount }`, nil, &in)
	return in
}

// A repair step reaches the owner's inbox, their phone through FCM and their
// live subscription; quiet hours hold a push until morning; a token FCM
// calls unregistered is dropped; nobody reads another's inbox.
func TestRepairProgressReachesTheOwner(t *testing.T) {
	fcm, opt := withFCM(t)
	e := newEnv(t, opt)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	owner.ok(`mutation{ registerDevice(token:"ok-owner-a-phone-000000000001", platform:ANDROID, app:OWNER, locale:"zh-CN"){ token } }`, nil, nil)
	owner.ok(`mutation{ registerDevice(token:"gone-owner-a-old-tablet-00001", platform:IOS, app:OWNER){ token } }`, nil, nil)

	sub, err := dialWS(t, e, owner.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("n", `subscription{ notificationReceived{ kind title } }`, nil)
	time.Sleep(300 * time.Millisecond)

	// 10:00 UTC is 18:00 in Shanghai: not quiet.
	r := decodeRepair(t, owner.do(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ `+repairFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "阳台水管漏水", "inHome": true}}), "submitRepairRequest")
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, map[string]any{"id": r.ID}, nil)

	waitFor(t, "the owner's inbox", func() bool { return len(owner.inbox().Notifications.Edges) == 1 })
	in := owner.inbox()
	n := in.Notifications.Edges[0].Node
	if n.Kind != "REPAIR_PROGRESS" || !strings.Contains(n.Title, "已受理") || !strings.Contains(n.Body, "阳台水管漏水") || in.UnreadNotificationCount != 1 {
		t.Fatalf("inbox = %+v", in)
	}
	waitFor(t, "the push", func() bool { return len(fcm.ForToken("ok-owner-a-phone-000000000001")) == 1 })
	if p := fcm.ForToken("ok-owner-a-phone-000000000001")[0]; p.Title != n.Title || p.Data["repairRequestId"] != r.ID {
		t.Fatalf("push = %+v", p)
	}
	m, err := sub.read(10 * time.Second)
	if err != nil || !strings.Contains(string(m.Payload), "REPAIR_PROGRESS") {
		t.Fatalf("live notification: %s %v", m.Payload, err)
	}
	// The token FCM no longer knows is gone; the good one stays.
	waitFor(t, "the dead token's removal", func() bool {
		n, _ := e.App.Services.Devices.Count(t.Context(), w.OwnerA.ID)
		return n == 1
	})

	// Nobody reads or marks another's inbox.
	neighbour := e.owner(w.OwnerB.Phone)
	if got := neighbour.inbox(); len(got.Notifications.Edges) != 0 {
		t.Fatalf("the neighbour sees %+v", got)
	}
	var marked struct{ MarkNotificationsRead int }
	neighbour.ok(`mutation($ids:[ID!]){ markNotificationsRead(ids:$ids) }`, map[string]any{"ids": []string{n.ID}}, &marked)
	if marked.MarkNotificationsRead != 0 {
		t.Fatal("a neighbour marked the owner's notification read")
	}
	owner.ok(`mutation($ids:[ID!]){ markNotificationsRead(ids:$ids) }`, map[string]any{"ids": []string{n.ID}}, &marked)
	if marked.MarkNotificationsRead != 1 || owner.inbox().UnreadNotificationCount != 0 {
		t.Fatal("the owner could not mark it read")
	}

	// Quiet hours: 14:00 UTC is 22:00 in Shanghai. The next step lands in the
	// inbox at once but is pushed only when quiet hours end at 08:00.
	e.Clock.Advance(4 * time.Hour)
	butler = e.staff(w.butlerX, w.Password)
	owner = e.owner(w.OwnerA.Phone)
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ id } }`, map[string]any{"id": r.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	waitFor(t, "the quiet-hours notice in the inbox", func() bool { return len(owner.inbox().Notifications.Edges) == 2 })
	time.Sleep(300 * time.Millisecond)
	if got := len(fcm.ForToken("ok-owner-a-phone-000000000001")); got != 1 {
		t.Fatalf("pushed %d times during quiet hours", got)
	}
	e.Clock.Advance(10*time.Hour + time.Minute) // 08:01 in Shanghai
	waitFor(t, "the morning push", func() bool { return len(fcm.ForToken("ok-owner-a-phone-000000000001")) == 2 })
}

func TestNotificationPreferences(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	var p struct {
		NotificationPreferences struct {
			QuietStart, QuietEnd, Language string
			OptionalKinds                  []string
		}
	}
	owner.ok(`{ notificationPreferences { quietStart quietEnd language optionalKinds } }`, nil, &p)
	if p.NotificationPreferences.QuietStart != "21:30" || p.NotificationPreferences.QuietEnd != "08:00" ||
		contains(p.NotificationPreferences.OptionalKinds, "EMERGENCY_NOTICE") || !contains(p.NotificationPreferences.OptionalKinds, "FESTIVAL_GREETING") {
		t.Fatalf("defaults = %+v", p)
	}
	update := `mutation($in:NotificationPreferencesInput!){ updateNotificationPreferences(input:$in){ disabledKinds quietStart } }`
	r := owner.fails("BAD_USER_INPUT", update, map[string]any{"in": map[string]any{"disabledKinds": []string{"EMERGENCY_NOTICE"}, "disabledChannels": []string{}, "quietStart": "22:00", "quietEnd": "07:00"}})
	if r.field() != "input.disabledKinds" {
		t.Errorf("field = %q", r.field())
	}
	owner.fails("BAD_USER_INPUT", update, map[string]any{"in": map[string]any{"disabledKinds": []string{}, "disabledChannels": []string{}, "quietStart": "25:00", "quietEnd": "07:00"}})
	var out struct {
		UpdateNotificationPreferences struct {
			DisabledKinds []string
			QuietStart    string
		}
	}
	owner.ok(update, map[string]any{"in": map[string]any{"disabledKinds": []string{"FESTIVAL_GREETING"}, "disabledChannels": []string{"WECHAT"}, "quietStart": "22:00", "quietEnd": "07:00"}}, &out)
	if !contains(out.UpdateNotificationPreferences.DisabledKinds, "FESTIVAL_GREETING") || out.UpdateNotificationPreferences.QuietStart != "22:00" {
		t.Fatalf("updated = %+v", out)
	}
	e.anon().fails("UNAUTHENTICATED", `{ unreadNotificationCount }`, nil)
	owner.fails("BAD_USER_INPUT", `mutation{ registerDevice(token:"short", platform:ANDROID, app:OWNER){ token } }`, nil)
	_ = json.Valid
}

// Callback prompts: an owner who signed without rating is asked to rate;
// the owning butler is reminded when the callback is due, the supervisor
// when it is overdue; each once.
func TestCallbackPrompts(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.ScheduleInterval, c.OutboxInterval = 200*time.Millisecond, 100*time.Millisecond
		c.RatePromptAfter, c.CallbackDueAfter, c.CallbackOverdue = 2*time.Hour, 24*time.Hour, 72*time.Hour
	})
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	eng := e.staff(w.engineerX, w.Password)
	r := decodeRepair(t, owner.do(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ `+repairFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "ELECTRICITY", "description": "厨房灯不亮", "inHome": true}}), "submitRepairRequest")
	id := map[string]any{"id": r.ID}
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, id, nil)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ id } }`, map[string]any{"id": r.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	eng.ok(`mutation($id:ID!){ acceptWorkOrder(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ startWork(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false}){ id } }`, id, nil)
	v := decodeRepair(t, owner.multipart(`mutation($id:ID!,$s:Upload!){ confirmRepair(id:$id, signature:$s){ `+repairFields+` } }`,
		map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}), "confirmRepair")
	if v.Status != "CONFIRMED" || v.Acceptances[0].Rating != 0 {
		t.Fatalf("signed without rating: %+v", v)
	}
	kinds := func(c *client) map[string]int {
		m := map[string]int{}
		for _, ed := range c.inbox().Notifications.Edges {
			m[ed.Node.Kind]++
		}
		return m
	}
	// The owner is asked to rate after two hours, once.
	e.Clock.Advance(2*time.Hour + time.Minute)
	owner = e.owner(w.OwnerA.Phone)
	waitFor(t, "the rating prompt", func() bool { return kinds(owner)["CALLBACK_PROMPT"] == 1 })
	// The butler is reminded after a day; the supervisor hears of it after three.
	e.Clock.Advance(22 * time.Hour)
	butler = e.staff(w.butlerX, w.Password)
	waitFor(t, "the callback reminder", func() bool { return kinds(butler)["CALLBACK_DUE"] >= 1 })
	sup := e.staff(w.supervisorX, w.Password)
	if kinds(sup)["CALLBACK_DUE"] != 0 {
		t.Fatal("the supervisor was told before the callback was overdue")
	}
	e.Clock.Advance(48 * time.Hour)
	sup = e.staff(w.supervisorX, w.Password)
	waitFor(t, "the overdue notice", func() bool { return kinds(sup)["CALLBACK_DUE"] == 1 })
	time.Sleep(200 * time.Millisecond) // more ticks: still once each
	owner = e.owner(w.OwnerA.Phone)
	if k := kinds(owner); k["CALLBACK_PROMPT"] != 1 {
		t.Fatalf("owner prompts: %v", k)
	}
	// Rating afterwards works once.
	owner.ok(`mutation($id:ID!){ rateRepair(id:$id, rating:4, comment:"不错"){ id } }`, id, nil)
	owner.fails("CONFLICT", `mutation($id:ID!){ rateRepair(id:$id, rating:5){ id } }`, id)
}
