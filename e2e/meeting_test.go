package e2e

import (
	"sync"
	"testing"
	"time"
)

const recordMeetingQ = `mutation($in: RecordCommitteeMeetingInput!){ recordCommitteeMeeting(input:$in){ id kind heldAt place agenda minutes
	openActionItems recordedByName community { id }
	attendees { party name title committeeMemberId committeeRole staff { id } }
	actionItems { id meetingId title responsible { id name } dueDate dueAt status overdue doneAt doneBy { id } note } } }`

const completeActionQ = `mutation($id:ID!, $n:String){ completeCommitteeAction(id:$id, note:$n){ id status doneAt doneBy { id } note overdue } }`

const meetingQ = `query($id:ID!){ committeeMeeting(id:$id){ id kind openActionItems actionItems { id status overdue note } } }`

const meetingsQ = `query($c:ID!, $k:CommitteeMeetingKind){ committeeMeetings(communityId:$c, kind:$k){ totalCount edges { node { id kind } } } }`

type actionItem struct {
	ID, MeetingID, Title, DueDate, Status, Note string
	Responsible                                 struct{ ID, Name string }
	DoneBy                                      *struct{ ID string }
	DueAt                                       time.Time
	DoneAt                                      *time.Time
	Overdue                                     bool
}

type recordedMeeting struct {
	RecordCommitteeMeeting struct {
		ID, Kind, Place, Minutes, RecordedByName string
		HeldAt                                   time.Time
		Agenda                                   []string
		OpenActionItems                          int
		Community                                struct{ ID string }
		Attendees                                []struct {
			Party, Name       string
			Title             *string
			CommitteeMemberID *string
			CommitteeRole     *string
			Staff             *struct{ ID string }
		}
		ActionItems []actionItem
	}
}

// seated is community X's committee: OwnerA chairs it, OwnerB sits on it.
type seated struct {
	chair, member                 *client
	chairMemberID, memberMemberID string
	chairName                     string
}

// seatCommittee appoints OwnerA chair and OwnerB member of community X's
// committee for a term running from a month before the clock, through the API.
func seatCommittee(t *testing.T, e *env, w *world) seated {
	t.Helper()
	sup := e.staff(w.supervisorX, w.Password)
	today := e.Clock.Now().In(time.FixedZone("CST", 8*3600))
	appoint := func(person, role string) (id, name string) {
		var out struct{ AppointCommitteeMember struct{ ID, Name string } }
		sup.ok(`mutation($in: AppointCommitteeMemberInput!){ appointCommitteeMember(input:$in){ id name } }`, map[string]any{"in": map[string]any{
			"communityId": w.X.ID, "personId": person, "role": role,
			"termStart": today.AddDate(0, -1, 0).Format(time.DateOnly), "termEnd": today.AddDate(4, 0, 0).Format(time.DateOnly)}}, &out)
		return out.AppointCommitteeMember.ID, out.AppointCommitteeMember.Name
	}
	s := seated{chair: e.owner(w.OwnerA.Phone), member: e.owner(w.OwnerB.Phone)}
	s.chairMemberID, s.chairName = appoint(w.OwnerA.ID, "CHAIR")
	s.memberMemberID, _ = appoint(w.OwnerB.ID, "MEMBER")
	return s
}

// staffID is the signed-in staff member's own id.
func (c *client) staffID() string {
	var me struct {
		Me struct{ Staff struct{ ID string } }
	}
	c.ok(`{ me { staff { id } } }`, nil, &me)
	return me.Me.Staff.ID
}

// meetingIDs are the ids of a page of meetings as the caller reads them.
func (c *client) meetingIDs(communityID, kind string) []string {
	vars := map[string]any{"c": communityID}
	if kind != "" {
		vars["k"] = kind
	}
	var out struct {
		CommitteeMeetings struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Kind string } }
		}
	}
	c.ok(meetingsQ, vars, &out)
	ids := []string{}
	for _, e := range out.CommitteeMeetings.Edges {
		ids = append(ids, e.Node.ID)
	}
	if out.CommitteeMeetings.TotalCount != len(ids) {
		c.e.t.Fatalf("totalCount %d for %d meetings", out.CommitteeMeetings.TotalCount, len(ids))
	}
	return ids
}

// threeParty is a three-party meeting of community X held an hour before
// the clock, with one action item for each of two staff members.
func threeParty(e *env, w *world, chairMemberID, butlerID, engineerID string) map[string]any {
	return map[string]any{"communityId": w.X.ID, "kind": "THREE_PARTY", "heldAt": e.Clock.Now().Add(-time.Hour).Format(time.RFC3339),
		"place": "物业服务中心二楼会议室",
		"attendees": []map[string]any{
			{"party": "COMMITTEE", "committeeMemberId": chairMemberID},
			{"party": "COMPANY", "staffId": butlerID, "title": "楼栋管家"},
			{"party": "NEIGHBOURHOOD_OFFICE", "name": "刘主任", "title": "社区居委会主任"},
		},
		"agenda":  []string{"地下车库雨后积水", "电梯维保情况通报"},
		"minutes": "一、地下车库积水：物业于本周内清理排水沟并加装挡水板。二、电梯：1号楼电梯钢丝绳磨损，更换后报业委会。",
		"actionItems": []map[string]any{
			{"title": "清理地下车库排水沟并加装挡水板", "responsibleStaffId": butlerID, "dueDate": "2026-12-10"},
			{"title": "更换1号楼电梯钢丝绳", "responsibleStaffId": engineerID, "dueDate": "2026-12-08"},
		}}
}

// A meeting's action items are on their responsible staff members' task
// lists (no one else's), overdue once their day has ended there, and leave
// the lists when done, by the one responsible or a supervisor; other staff
// of the community may not mark them done, staff of another community do
// not find them, and the butler-task mutation points to where they are done.
func TestCommitteeActionItemsOnTheTaskList(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 12, 7, 16, 0, 0, 0, shanghai))
	c := seatCommittee(t, e, w)
	sup, butler, eng := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password)
	butlerID, engID := butler.staffID(), eng.staffID()

	var rec recordedMeeting
	sup.ok(recordMeetingQ, map[string]any{"in": threeParty(e, w, c.chairMemberID, butlerID, engID)}, &rec)
	m := rec.RecordCommitteeMeeting
	if m.Kind != "THREE_PARTY" || m.OpenActionItems != 2 || len(m.ActionItems) != 2 || m.RecordedByName != w.supervisorX ||
		m.Community.ID != w.X.ID || len(m.Agenda) != 2 || len(m.Attendees) != 3 {
		t.Fatalf("recorded: %+v", m)
	}
	if a := m.Attendees[0]; a.Party != "COMMITTEE" || a.Name != c.chairName || a.CommitteeMemberID == nil || *a.CommitteeMemberID != c.chairMemberID ||
		a.CommitteeRole == nil || *a.CommitteeRole != "CHAIR" {
		t.Fatalf("the chair attending: %+v", a)
	}
	if a := m.Attendees[1]; a.Name != w.butlerX || a.Staff == nil || a.Staff.ID != butlerID || a.Title == nil || *a.Title != "楼栋管家" {
		t.Fatalf("the butler attending: %+v", a)
	}
	wash, lift := m.ActionItems[0], m.ActionItems[1]
	if wash.Responsible.ID != butlerID || wash.Status != "OPEN" || wash.MeetingID != m.ID || wash.DueDate != "2026-12-10" ||
		!wash.DueAt.Equal(time.Date(2026, 12, 10, 23, 59, 59, 0, shanghai)) || wash.Overdue || wash.DoneAt != nil {
		t.Fatalf("the butler's item: %+v", wash)
	}

	l := butler.tasks(t, "")
	x := l.taskOf("COMMITTEE_ACTION", wash.ID)
	if x == nil || l.ButlerTasks.Total != 1 || x.Overdue || x.Title != "三方联席会议事项：清理地下车库排水沟并加装挡水板" || x.Household.ID != "" ||
		!x.DueAt.Equal(wash.DueAt) {
		t.Fatalf("the butler's list: %+v", l.ButlerTasks)
	}
	if l := eng.tasks(t, ""); l.taskOf("COMMITTEE_ACTION", lift.ID) == nil || l.ButlerTasks.Total != 1 {
		t.Fatalf("the engineer's list: %+v", l.ButlerTasks)
	}
	if l := sup.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("the supervisor owes none: %+v", l.ButlerTasks)
	}
	if l := sup.tasks(t, butlerID); l.taskOf("COMMITTEE_ACTION", wash.ID) == nil {
		t.Fatalf("the butler's list as the supervisor opens it: %+v", l.ButlerTasks)
	}
	if l := e.staff(w.butlerX2, w.Password).tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("another butler's list: %+v", l.ButlerTasks)
	}

	// The lift's day ends: overdue on the list and on the meeting.
	e.Clock.Set(time.Date(2026, 12, 9, 0, 0, 1, 0, shanghai))
	eng = e.staff(w.engineerX, w.Password)
	l = eng.tasks(t, "")
	if x := l.taskOf("COMMITTEE_ACTION", lift.ID); x == nil || !x.Overdue || l.ButlerTasks.Overdue != 1 {
		t.Fatalf("the engineer's list once late: %+v", l.ButlerTasks)
	}
	var got struct {
		CommitteeMeeting struct {
			OpenActionItems int
			ActionItems     []actionItem
		}
	}
	sup = e.staff(w.supervisorX, w.Password)
	sup.ok(meetingQ, map[string]any{"id": m.ID}, &got)
	if a := got.CommitteeMeeting.ActionItems; !a[1].Overdue || a[0].Overdue {
		t.Fatalf("overdue on the meeting: %+v", a)
	}

	// Done where it is owed, by the one responsible or a supervisor only.
	butler = e.staff(w.butlerX, w.Password)
	butler.fails("BAD_USER_INPUT", `mutation($id:ID!){ completeButlerTask(id:$id){ id } }`, map[string]any{"id": x.ID})
	e.staff(w.butlerX2, w.Password).fails("FORBIDDEN", completeActionQ, map[string]any{"id": wash.ID})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", completeActionQ, map[string]any{"id": wash.ID})
	e.owner(w.OwnerB.Phone).fails("FORBIDDEN", completeActionQ, map[string]any{"id": wash.ID}) // a member reads, not does
	var done struct{ CompleteCommitteeAction actionItem }
	butler.ok(completeActionQ, map[string]any{"id": wash.ID, "n": "排水沟已清淤，挡水板已安装"}, &done)
	if d := done.CompleteCommitteeAction; d.Status != "DONE" || d.DoneBy == nil || d.DoneBy.ID != butlerID || d.Note != "排水沟已清淤，挡水板已安装" ||
		d.DoneAt == nil || d.Overdue {
		t.Fatalf("done: %+v", d)
	}
	butler.fails("CONFLICT", completeActionQ, map[string]any{"id": wash.ID})
	if l := butler.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("still on the butler's list: %+v", l.ButlerTasks)
	}
	sup.ok(completeActionQ, map[string]any{"id": lift.ID, "n": "钢丝绳已更换，维保单位出具报告"}, nil)
	if l := eng.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("still on the engineer's list: %+v", l.ButlerTasks)
	}
	sup.ok(meetingQ, map[string]any{"id": m.ID}, &got)
	if got.CommitteeMeeting.OpenActionItems != 0 || got.CommitteeMeeting.ActionItems[1].Status != "DONE" || got.CommitteeMeeting.ActionItems[1].Overdue {
		t.Fatalf("the meeting once done: %+v", got)
	}
	sup.fails("NOT_FOUND", completeActionQ, map[string]any{"id": m.ID + ":3"})
	sup.fails("BAD_USER_INPUT", completeActionQ, map[string]any{"id": m.ID + ":0"})
}

// Who reads and records a community's meetings: its staff read every kind
// and its supervisors record; the committee's chair records and its members
// read every kind; its other residents read the owners' forums only; staff
// and residents of another community find nothing.
func TestCommitteeMeetingAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 12, 7, 16, 0, 0, 0, shanghai))
	c := seatCommittee(t, e, w)
	sup, butler := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password)
	butlerID := butler.staffID()
	var three, forum, board recordedMeeting
	sup.ok(recordMeetingQ, map[string]any{"in": threeParty(e, w, c.chairMemberID, butlerID, butlerID)}, &three)
	sup.ok(recordMeetingQ, map[string]any{"in": map[string]any{"communityId": w.X.ID, "kind": "OWNERS_FORUM",
		"heldAt": e.Clock.Now().Add(-48 * time.Hour).Format(time.RFC3339), "place": "小区中心广场",
		"attendees": []map[string]any{{"party": "COMPANY", "staffId": butlerID}, {"party": "OWNER", "name": "业主代表 12 人"}},
		"agenda":    []string{"停车位调整方案征求意见"}, "minutes": "业主提出夜间临时停车需求，物业将在两周内提出方案。"}}, &forum)
	// The chair records the committee's own meeting.
	c.chair.ok(recordMeetingQ, map[string]any{"in": map[string]any{"communityId": w.X.ID, "kind": "COMMITTEE",
		"heldAt": e.Clock.Now().Add(-2 * time.Hour).Format(time.RFC3339), "place": "业委会办公室",
		"attendees": []map[string]any{{"party": "COMMITTEE", "committeeMemberId": c.chairMemberID}, {"party": "COMMITTEE", "committeeMemberId": c.memberMemberID}},
		"agenda":    []string{"审议第四季度管理报告草稿"}, "minutes": "委员对绿化支出提出疑问，请物业在报告中说明。",
		"actionItems": []map[string]any{{"title": "在管理报告中说明绿化支出构成", "responsibleStaffId": butlerID, "dueDate": "2026-12-14"}}}}, &board)
	if b := board.RecordCommitteeMeeting; b.RecordedByName != c.chairName || b.Kind != "COMMITTEE" || b.OpenActionItems != 1 {
		t.Fatalf("the chair's record: %+v", b)
	}
	if l := butler.tasks(t, ""); l.taskOf("COMMITTEE_ACTION", board.RecordCommitteeMeeting.ActionItems[0].ID) == nil || l.ButlerTasks.Total != 3 {
		t.Fatalf("the chair's action item on the butler's list: %+v", l.ButlerTasks)
	}
	// Newest held first: an hour ago, two hours ago, two days ago.
	all := []string{three.RecordCommitteeMeeting.ID, board.RecordCommitteeMeeting.ID, forum.RecordCommitteeMeeting.ID}
	for who, r := range map[string]*client{"supervisor": sup, "butler": butler, "chair": c.chair, "member": c.member} {
		if got := r.meetingIDs(w.X.ID, ""); len(got) != 3 || got[0] != all[0] || got[1] != all[1] || got[2] != all[2] {
			t.Fatalf("%s reads %v, want %v", who, got, all)
		}
		r.ok(meetingQ, map[string]any{"id": all[1]}, nil)
	}
	if got := sup.meetingIDs(w.X.ID, "THREE_PARTY"); len(got) != 1 || got[0] != all[0] {
		t.Fatalf("three-party meetings: %v", got)
	}

	// A resident who is not on the committee: the owners' forum only.
	resident := e.owner("13900000003")
	if got := resident.meetingIDs(w.X.ID, ""); len(got) != 1 || got[0] != all[2] {
		t.Fatalf("a resident reads %v", got)
	}
	if got := resident.meetingIDs(w.X.ID, "COMMITTEE"); len(got) != 0 {
		t.Fatalf("a resident reads committee meetings: %v", got)
	}
	resident.ok(meetingQ, map[string]any{"id": all[2]}, nil)
	resident.fails("NOT_FOUND", meetingQ, map[string]any{"id": all[0]})
	resident.fails("NOT_FOUND", meetingQ, map[string]any{"id": all[1]})
	resident.fails("NOT_FOUND", completeActionQ, map[string]any{"id": board.RecordCommitteeMeeting.ActionItems[0].ID})

	// Another community's staff and residents: nothing is there.
	for who, r := range map[string]*client{"supervisor of Y": e.staff(w.supervisorY, w.Password), "owner in Y": e.owner(w.OwnerY.Phone)} {
		if f := r.fails("NOT_FOUND", meetingsQ, map[string]any{"c": w.X.ID}).field(); f != "communityId" {
			t.Fatalf("%s: field %q", who, f)
		}
		r.fails("NOT_FOUND", meetingQ, map[string]any{"id": all[2]})
		r.fails("NOT_FOUND", recordMeetingQ, map[string]any{"in": threeParty(e, w, c.chairMemberID, butlerID, butlerID)})
	}

	// Recording: not a butler, not a member, not a resident.
	for _, r := range []*client{butler, c.member, resident} {
		r.fails("FORBIDDEN", recordMeetingQ, map[string]any{"in": threeParty(e, w, c.chairMemberID, butlerID, butlerID)})
	}
	e.anon().fails("UNAUTHENTICATED", meetingsQ, map[string]any{"c": w.X.ID})
}

// Invalid meetings are refused naming the field, and nothing is recorded.
func TestCommitteeMeetingValidation(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 12, 7, 16, 0, 0, 0, shanghai))
	c := seatCommittee(t, e, w)
	sup := e.staff(w.supervisorX, w.Password)
	butlerID, yID := e.staff(w.butlerX, w.Password).staffID(), e.staff(w.supervisorY, w.Password).staffID()
	for _, tc := range []struct {
		field string
		edit  func(in map[string]any)
	}{
		{"input.heldAt", func(in map[string]any) { in["heldAt"] = e.Clock.Now().Add(time.Hour).Format(time.RFC3339) }},
		{"input.heldAt", func(in map[string]any) { in["heldAt"] = e.Clock.Now().AddDate(-2, 0, 0).Format(time.RFC3339) }},
		{"input.place", func(in map[string]any) { in["place"] = "  " }},
		{"input.agenda", func(in map[string]any) { in["agenda"] = []string{} }},
		{"input.agenda", func(in map[string]any) { in["agenda"] = []string{"议程", ""} }},
		{"input.minutes", func(in map[string]any) { in["minutes"] = "" }},
		{"input.attendees", func(in map[string]any) { in["attendees"] = in["attendees"].([]map[string]any)[:2] }},
		{"input.attendees.2.name", func(in map[string]any) { delete(in["attendees"].([]map[string]any)[2], "name") }},
		{"input.attendees.1.staffId", func(in map[string]any) { in["attendees"].([]map[string]any)[1]["staffId"] = yID }},
		{"input.attendees.0.committeeMemberId", func(in map[string]any) {
			in["attendees"].([]map[string]any)[0]["committeeMemberId"] = c.memberMemberID
			in["attendees"].([]map[string]any)[0]["party"] = "OWNER"
		}},
		{"input.attendees.0.committeeMemberId", func(in map[string]any) {
			in["attendees"].([]map[string]any)[0]["committeeMemberId"] = "0123456789abcdef01234567"
		}},
		{"input.actionItems.1.responsibleStaffId", func(in map[string]any) { in["actionItems"].([]map[string]any)[1]["responsibleStaffId"] = yID }},
		{"input.actionItems.0.dueDate", func(in map[string]any) { in["actionItems"].([]map[string]any)[0]["dueDate"] = "2026-12-06" }},
		{"input.actionItems.0.title", func(in map[string]any) { in["actionItems"].([]map[string]any)[0]["title"] = "" }},
		{"input.attendees.3.staffId", func(in map[string]any) {
			in["attendees"] = append(in["attendees"].([]map[string]any), map[string]any{"party": "COMPANY", "staffId": butlerID})
		}},
	} {
		in := threeParty(e, w, c.chairMemberID, butlerID, butlerID)
		tc.edit(in)
		if f := sup.fails("BAD_USER_INPUT", recordMeetingQ, map[string]any{"in": in}).field(); f != tc.field {
			t.Errorf("want field %s, got %s", tc.field, f)
		}
	}
	in := threeParty(e, w, c.chairMemberID, butlerID, butlerID)
	in["kind"] = "COMMITTEE"
	in["attendees"] = []map[string]any{{"party": "COMPANY", "staffId": butlerID}}
	if f := sup.fails("BAD_USER_INPUT", recordMeetingQ, map[string]any{"in": in}).field(); f != "input.attendees" {
		t.Errorf("a committee meeting without members: field %s", f)
	}
	if got := sup.meetingIDs(w.X.ID, ""); len(got) != 0 {
		t.Fatalf("recorded after all: %v", got)
	}
	if l := e.staff(w.butlerX, w.Password).tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Fatalf("tasks from a refused meeting: %+v", l.ButlerTasks)
	}
}

// Action items of one meeting completed at the same moment are all done:
// none overwrites another's completion; of two completions of one item,
// one wins and the other is CONFLICT.
func TestCommitteeActionsCompletedTogether(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 12, 7, 16, 0, 0, 0, shanghai))
	c := seatCommittee(t, e, w)
	sup, butler := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password)
	butlerID := butler.staffID()
	in := threeParty(e, w, c.chairMemberID, butlerID, butlerID)
	in["actionItems"] = append(in["actionItems"].([]map[string]any), map[string]any{"title": "公示电梯维保合同", "responsibleStaffId": butlerID, "dueDate": "2026-12-20"})
	var rec recordedMeeting
	sup.ok(recordMeetingQ, map[string]any{"in": in}, &rec)
	items := rec.RecordCommitteeMeeting.ActionItems
	if len(items) != 3 {
		t.Fatalf("items: %+v", items)
	}
	ids := []string{items[0].ID, items[1].ID, items[2].ID, items[0].ID}
	res := make([]*gqlResponse, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = butler.do(completeActionQ, map[string]any{"id": id, "n": "已办"})
		}()
	}
	wg.Wait()
	for i, r := range res[1:3] {
		if len(r.Errors) > 0 {
			t.Errorf("completing item %d: %+v", i+1, r.Errors)
		}
	}
	if codes := res[0].code() + "," + res[3].code(); codes != ",CONFLICT" && codes != "CONFLICT," {
		t.Errorf("two completions of one item: %q", codes)
	}
	var got struct {
		CommitteeMeeting struct {
			OpenActionItems int
			ActionItems     []actionItem
		}
	}
	sup.ok(meetingQ, map[string]any{"id": rec.RecordCommitteeMeeting.ID}, &got)
	for _, a := range got.CommitteeMeeting.ActionItems {
		if a.Status != "DONE" || a.Note != "已办" {
			t.Errorf("after completing together: %+v", a)
		}
	}
	if got.CommitteeMeeting.OpenActionItems != 0 {
		t.Errorf("open items left: %d", got.CommitteeMeeting.OpenActionItems)
	}
	if l := butler.tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Errorf("still on the list: %+v", l.ButlerTasks)
	}
}
