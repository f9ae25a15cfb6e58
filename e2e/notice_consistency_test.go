package e2e

import (
	"strconv"
	"testing"
	"time"
)

// dataOf is an inbox entry's data as a map.
func dataOf(kv []struct{ Key, Value string }) map[string]string {
	m := make(map[string]string, len(kv))
	for _, p := range kv {
		m[p.Key] = p.Value
	}
	return m
}

// inboxEntry waits for the caller's entry whose data names key=value.
func inboxEntry(t *testing.T, c *client, key, value string) (id, kind string, data map[string]string, read bool) {
	t.Helper()
	waitFor(t, "the inbox entry with "+key+"="+value, func() bool {
		for _, ed := range c.inbox().Notifications.Edges {
			if d := dataOf(ed.Node.Data); d[key] == value {
				id, kind, data, read = ed.Node.ID, ed.Node.Kind, d, ed.Node.Read
				return true
			}
		}
		return false
	})
	return id, kind, data, read
}

// announcementRead is whether the caller's view of the announcement says read.
func announcementRead(c *client, id string) bool {
	var a struct{ Announcement struct{ Read bool } }
	c.ok(`query($id:ID!){ announcement(id:$id){ read } }`, map[string]any{"id": id}, &a)
	return a.Announcement.Read
}

// Reading an announcement marks its inbox entry read, and marking the inbox
// entry read (one entry, or all) marks the announcement read: one read state.
func TestAnnouncementAndInboxShareReadState(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	butler := e.staff(w.butlerX, w.Password)
	owner := e.owner(w.OwnerA.Phone)
	publish := func(title string) string {
		var pub struct{ PublishAnnouncement struct{ ID string } }
		butler.ok(`mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`, map[string]any{"in": map[string]any{
			"communityId": w.X.ID, "title": title, "body": "明日 9:00-12:00 检修", "kind": "OUTAGE"}}, &pub)
		return pub.PublishAnnouncement.ID
	}
	first, second, third := publish("停水通知"), publish("停电通知"), publish("停气通知")

	// The announcement's page marks the inbox entry read.
	owner.ok(`mutation($id:ID!){ markAnnouncementRead(id:$id){ read } }`, map[string]any{"id": first}, nil)
	if _, _, _, read := inboxEntry(t, owner, "announcementId", first); !read {
		t.Fatal("the announcement was read, its inbox entry is unread")
	}
	entry, _, _, read := inboxEntry(t, owner, "announcementId", second)
	if read || announcementRead(owner, second) {
		t.Fatal("an unread announcement shows read")
	}
	if n := owner.inbox().UnreadNotificationCount; n != 2 {
		t.Fatalf("unread = %d, want 2", n)
	}

	// The inbox marks the announcement read.
	owner.ok(`mutation($ids:[ID!]){ markNotificationsRead(ids:$ids) }`, map[string]any{"ids": []string{entry}}, nil)
	if !announcementRead(owner, second) {
		t.Fatal("the inbox entry was read, the announcement is unread")
	}
	// Marking everything read marks the rest.
	inboxEntry(t, owner, "announcementId", third)
	owner.ok(`mutation{ markNotificationsRead }`, nil, nil)
	if !announcementRead(owner, third) {
		t.Fatal("mark-all left an announcement unread")
	}
	// Staff see the receipts the inbox recorded.
	var rc struct{ Announcement struct{ ReadCount int } }
	e.staff(w.supervisorX, w.Password).ok(`query($id:ID!){ announcement(id:$id){ readCount } }`, map[string]any{"id": second}, &rc)
	if rc.Announcement.ReadCount != 1 {
		t.Fatalf("read count = %d, want 1", rc.Announcement.ReadCount)
	}
}

// A push names the same kind as the inbox entry, the event's time, and its
// subject and sequence number, increasing with each notice about a repair.
func TestPushMatchesTheInbox(t *testing.T) {
	fcm, opt := withFCM(t)
	e := newEnv(t, opt)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	const token = "ok-owner-a-phone-000000000002"
	owner.ok(`mutation{ registerDevice(token:"`+token+`", platform:ANDROID, app:OWNER){ token } }`, nil, nil)

	var pub struct{ PublishAnnouncement struct{ ID string } }
	butler.ok(`mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "停水通知", "body": "明日 9:00-12:00 检修", "kind": "OUTAGE"}}, &pub)
	_, kind, data, _ := inboxEntry(t, owner, "announcementId", pub.PublishAnnouncement.ID)
	waitFor(t, "the announcement's push", func() bool { return len(fcm.ForToken(token)) == 1 })
	p := fcm.ForToken(token)[0]
	if kind != "ANNOUNCEMENT" || p.Data["kind"] != kind || data["kind"] != kind || p.Data["announcementKind"] != "OUTAGE" {
		t.Fatalf("inbox kind %s data %v; push data %v", kind, data, p.Data)
	}
	if at, err := time.Parse(time.RFC3339, p.Data["eventAt"]); err != nil || !at.Equal(testEpoch) || p.Data["eventAt"] != data["eventAt"] {
		t.Fatalf("push eventAt %q (inbox %q): %v", p.Data["eventAt"], data["eventAt"], err)
	}

	r := decodeRepair(t, owner.do(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ `+repairFields+` } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "阳台水管漏水", "inHome": true}}), "submitRepairRequest")
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, map[string]any{"id": r.ID}, nil)
	waitFor(t, "the first repair push", func() bool { return len(fcm.ForToken(token)) == 2 })
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ id } }`, map[string]any{"id": r.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	waitFor(t, "the second repair push", func() bool { return len(fcm.ForToken(token)) == 3 })

	pushes := fcm.ForToken(token)[1:]
	seqs := make([]int, len(pushes))
	for i, p := range pushes {
		n, err := strconv.Atoi(p.Data["seq"])
		if err != nil || p.Data["subject"] != "repair:"+r.ID || p.Data["kind"] != "REPAIR_PROGRESS" {
			t.Fatalf("repair push data %v", p.Data)
		}
		if _, err := time.Parse(time.RFC3339, p.Data["eventAt"]); err != nil {
			t.Fatalf("repair push eventAt %q: %v", p.Data["eventAt"], err)
		}
		seqs[i] = n
	}
	if seqs[0] < 1 || seqs[1] <= seqs[0] {
		t.Fatalf("repair pushes numbered %v, want increasing", seqs)
	}
	// The inbox entries carry the same numbers.
	got := map[string]bool{}
	for _, ed := range owner.inbox().Notifications.Edges {
		if d := dataOf(ed.Node.Data); d["subject"] == "repair:"+r.ID {
			if ed.Node.Kind != d["kind"] {
				t.Fatalf("entry kind %s, data kind %s", ed.Node.Kind, d["kind"])
			}
			got[d["seq"]] = true
		}
	}
	if len(got) != 2 || !got[strconv.Itoa(seqs[0])] || !got[strconv.Itoa(seqs[1])] {
		t.Fatalf("inbox numbers %v, pushes %v", got, seqs)
	}
}
