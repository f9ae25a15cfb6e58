package e2e

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
)

const incidentFields = `id type status version occurredAt location residentsInvolvedCount
	reporter { kind staff { account } name phone } notifiedStaff { account } notifiedParties
	actions { at text actor { account } } policeCalledAt
	announcement { id kind audience { buildingIds } } repairRequestId repairRequest { id status }
	closedAt closedBy { account } closingSummary timeline { action actor }`

type incidentView struct {
	ID, Type, Status       string
	Version                int
	OccurredAt             time.Time
	Location               string
	ResidentsInvolvedCount int
	Reporter               struct {
		Kind        string
		Staff       *struct{ Account string }
		Name, Phone *string
	}
	NotifiedStaff   []struct{ Account string }
	NotifiedParties []string
	Actions         []struct {
		At    time.Time
		Text  string
		Actor struct{ Account string }
	}
	PoliceCalledAt *time.Time
	Announcement   *struct {
		ID, Kind string
		Audience struct{ BuildingIDs []string }
	}
	RepairRequestID *string
	RepairRequest   *struct{ ID, Status string }
	ClosedAt        *time.Time
	ClosedBy        *struct{ Account string }
	ClosingSummary  *string
	Timeline        []struct{ Action, Actor string }
}

func reportIncident(c *client, in map[string]any) *gqlResponse {
	return c.do(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ `+incidentFields+` } }`, map[string]any{"in": in})
}

func decodeIncident(t *testing.T, r *gqlResponse, field string) incidentView {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]incidentView
	if err := jsonUnmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

// A water leak through the API on the test clock: a guard's phone reports
// it (twice, the first answer lost: recorded once), records what was done,
// the security supervisor publishes the EMERGENCY announcement, which
// reaches the residents of the leaking building only, the guard files the
// public-area repair, and the supervisor closes it at the version read.
func TestIncidentReportedHandledAnnouncedRepairedClosed(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	e.Clock.Set(now)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	leadID := staffID(t, e, "x.security-lead")

	in := map[string]any{"communityId": w.X.ID, "type": "WATER_LEAK", "occurredAt": now.Add(-20 * time.Minute),
		"buildingIds": []string{w.XB1.ID}, "location": "1栋1单元三楼走廊", "description": "楼上水管爆裂，走廊积水",
		"notifiedStaffIds": []string{leadID}, "notifiedParties": []string{"物业经理"},
		"actions":        []map[string]any{{"at": now.Add(-15 * time.Minute), "text": "关闭单元供水总阀"}},
		"idempotencyKey": "guard-phone-7f3a"}
	first := decodeIncident(t, reportIncident(guard, in), "reportIncident")
	if first.Status != "OPEN" || first.Reporter.Kind != "STAFF" || first.Reporter.Staff.Account != "x.guard" || len(first.Actions) != 1 ||
		first.Actions[0].Actor.Account != "x.guard" || len(first.NotifiedStaff) != 1 || first.NotifiedStaff[0].Account != "x.security-lead" ||
		!first.OccurredAt.Equal(now.Add(-20*time.Minute)) || len(first.Timeline) != 1 || first.Timeline[0].Action != "REPORT" {
		t.Fatalf("reported: %+v", first)
	}
	// The phone did not get the answer and uploads again, a little later.
	e.Clock.Set(now.Add(3 * time.Minute))
	guard = e.staff("x.guard", w.Password)
	if again := decodeIncident(t, reportIncident(guard, in), "reportIncident"); again.ID != first.ID {
		t.Fatalf("a retried report recorded twice: %s and %s", first.ID, again.ID)
	}
	var list struct {
		Incidents struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	lead.ok(`query($c:ID!){ incidents(communityId:$c){ totalCount edges { node { id } } } }`, map[string]any{"c": w.X.ID}, &list)
	if list.Incidents.TotalCount != 1 {
		t.Fatalf("the supervisor's list after a retried report: %+v", list)
	}

	act := func(c *client, vars map[string]any) *gqlResponse {
		return c.do(`mutation($id:ID!,$in:RecordIncidentActionInput!){ recordIncidentAction(id:$id,input:$in){ `+incidentFields+` } }`, vars)
	}
	x := decodeIncident(t, act(guard, map[string]any{"id": first.ID, "in": map[string]any{
		"action": map[string]any{"at": now.Add(2 * time.Minute), "text": "通知工程部到场"}, "notifiedParties": []string{"业主", "物业经理"}}}), "recordIncidentAction")
	if len(x.Actions) != 2 || x.Actions[1].Text != "通知工程部到场" || strings.Join(x.NotifiedParties, ",") != "物业经理,业主" || x.Version != first.Version+1 {
		t.Fatalf("after an action: %+v", x)
	}

	publish := `mutation($id:ID!,$in:PublishIncidentAnnouncementInput!){ publishIncidentAnnouncement(id:$id,input:$in){ ` + incidentFields + ` } }`
	ann := map[string]any{"id": first.ID, "in": map[string]any{"title": "1栋紧急停水通知", "body": "1栋1单元水管爆裂，正在抢修，请暂勿用水。"}}
	guard.fails("FORBIDDEN", publish, ann)
	var pub map[string]incidentView
	lead.ok(publish, ann, &pub)
	a := pub["publishIncidentAnnouncement"].Announcement
	if a == nil || a.Kind != "EMERGENCY" || len(a.Audience.BuildingIDs) != 1 || a.Audience.BuildingIDs[0] != w.XB1.ID {
		t.Fatalf("announcement: %+v", a)
	}
	lead.fails("CONFLICT", publish, ann)
	seen := func(phone string) bool {
		var got struct {
			Announcements struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		e.owner(phone).ok(`query($c:ID!){ announcements(communityId:$c){ edges { node { id } } } }`, map[string]any{"c": w.X.ID}, &got)
		for _, ed := range got.Announcements.Edges {
			if ed.Node.ID == a.ID {
				return true
			}
		}
		return false
	}
	if !seen(w.OwnerA.Phone) || !seen(w.OwnerB.Phone) {
		t.Fatal("residents of the leaking building did not get the emergency announcement")
	}
	if seen("13900000003") { // building 2
		t.Fatal("a resident of another building got the emergency announcement")
	}

	file := `mutation($id:ID!,$in:FileIncidentRepairInput!){ fileIncidentRepair(id:$id,input:$in){ ` + incidentFields + ` } }`
	rep := map[string]any{"id": first.ID, "in": map[string]any{"publicArea": map[string]any{"buildingId": w.XB1.ID, "floor": 3, "kind": "CORRIDOR", "place": "1栋1单元三楼走廊"},
		"category": "WATER", "description": "走廊吊顶内水管爆裂", "urgency": "EMERGENCY"}}
	bad := guard.fails("BAD_USER_INPUT", file, map[string]any{"id": first.ID, "in": map[string]any{"publicArea": map[string]any{"kind": "CORRIDOR", "place": ""},
		"category": "WATER", "description": "x"}})
	if bad.field() != "input.publicArea.place" {
		t.Fatalf("the repair's validation names %q", bad.field())
	}
	var filed map[string]incidentView
	guard.ok(file, rep, &filed)
	r := filed["fileIncidentRepair"].RepairRequest
	if r == nil || r.Status != "SUBMITTED" {
		t.Fatalf("repair: %+v", r)
	}
	var pr struct {
		RepairRequest struct {
			ID     string
			Public *struct{ Kind string }
		}
	}
	guard.ok(`query($id:ID!){ repairRequest(id:$id){ id public: publicArea { kind } } }`, map[string]any{"id": r.ID}, &pr)
	if pr.RepairRequest.Public == nil || pr.RepairRequest.Public.Kind != "CORRIDOR" {
		t.Fatalf("the filed repair is not a public-area one: %+v", pr)
	}
	guard.fails("CONFLICT", file, rep)

	closeQ := `mutation($id:ID!,$v:Int!,$s:String!){ closeIncident(id:$id,version:$v,summary:$s){ ` + incidentFields + ` } }`
	cur := filed["fileIncidentRepair"]
	guard.fails("FORBIDDEN", closeQ, map[string]any{"id": first.ID, "v": cur.Version, "s": "已处理"})
	lead.fails("CONFLICT", closeQ, map[string]any{"id": first.ID, "v": cur.Version - 1, "s": "已处理"})
	e.Clock.Set(now.Add(40 * time.Minute))
	lead = e.staff("x.security-lead", w.Password)
	var closed map[string]incidentView
	lead.ok(closeQ, map[string]any{"id": first.ID, "v": cur.Version, "s": "水管已更换，走廊已清理"}, &closed)
	c := closed["closeIncident"]
	var steps []string
	for _, s := range c.Timeline {
		steps = append(steps, s.Action)
	}
	if c.Status != "CLOSED" || c.ClosedBy == nil || c.ClosedBy.Account != "x.security-lead" || c.ClosedAt == nil || !c.ClosedAt.Equal(now.Add(40*time.Minute)) ||
		strings.Join(steps, ",") != "REPORT,RECORD_ACTION,ANNOUNCE,FILE_REPAIR,CLOSE" || c.Announcement == nil || c.RepairRequestID == nil || *c.RepairRequestID != r.ID {
		t.Fatalf("closed: %+v (steps %v)", c, steps)
	}
	guard = e.staff("x.guard", w.Password)
	if r := act(guard, map[string]any{"id": first.ID, "in": map[string]any{"action": map[string]any{"at": now.Add(39 * time.Minute), "text": "复查"}}}); r.code() != "CONFLICT" {
		t.Fatalf("an action on a closed incident: %+v", r.Errors)
	}
	var byStatus struct{ Incidents struct{ TotalCount int } }
	lead.ok(`query($c:ID!){ incidents(communityId:$c, status: OPEN){ totalCount } }`, map[string]any{"c": w.X.ID}, &byStatus)
	if byStatus.Incidents.TotalCount != 0 {
		t.Fatalf("open incidents after closing: %+v", byStatus)
	}
	lead.ok(`query($c:ID!,$f:Time,$to:Time){ incidents(communityId:$c, type: WATER_LEAK, from:$f, to:$to){ totalCount } }`,
		map[string]any{"c": w.X.ID, "f": now.Add(-20 * time.Minute), "to": now.Add(-19 * time.Minute)}, &byStatus)
	if byStatus.Incidents.TotalCount != 1 {
		t.Fatalf("the window holding occurredAt: %+v", byStatus)
	}
	lead.ok(`query($c:ID!,$f:Time){ incidents(communityId:$c, from:$f){ totalCount } }`,
		map[string]any{"c": w.X.ID, "f": now.Add(-20*time.Minute + time.Millisecond)}, &byStatus)
	if byStatus.Incidents.TotalCount != 0 {
		t.Fatalf("a window starting after occurredAt: %+v", byStatus)
	}
}

// Who sees what: a guard sees the incidents they reported or were told of,
// the community's leads all of them; another community's supervisor, a
// resident and staff of other roles none, by list, by id or by naming its
// community's buildings, households and staff in their own reports. The
// residents involved and the injury are the care archive's: the household's
// butler and the community's supervisors read them, each read on the
// archive's audit log; everyone else sees how many residents were involved.
func TestIncidentAccessAndSensitiveDetails(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	e.Clock.Set(now)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	guard2 := e.staffWithRole(w, "x.guard2", access.Security)
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	sup, supY := e.staff(w.supervisorX, w.Password), e.staff(w.supervisorY, w.Password)
	butler, butler2 := e.staff(w.butlerX, w.Password), e.staff(w.butlerX2, w.Password)
	engineer, owner := e.staff(w.engineerX, w.Password), e.owner(w.OwnerA.Phone)

	x := decodeIncident(t, reportIncident(guard, map[string]any{"communityId": w.X.ID, "type": "INJURY", "occurredAt": now.Add(-time.Hour),
		"buildingIds": []string{w.XB1.ID}, "location": "1栋门口台阶", "description": "住户下台阶时摔倒",
		"residents":     []map[string]any{{"householdId": w.HA.ID, "personId": w.OwnerA.ID}},
		"healthDetails": "左膝擦伤，已送社区医院", "idempotencyKey": "inj-1"}), "reportIncident")
	if x.ResidentsInvolvedCount != 1 {
		t.Fatalf("count: %+v", x)
	}
	one := `query($id:ID!){ incident(id:$id){ id residentsInvolvedCount residentsInvolved { household { id } person { id name } } healthDetails } }`
	vars := map[string]any{"id": x.ID}
	type sensitive struct {
		Incident *struct {
			ID                     string
			ResidentsInvolvedCount int
			ResidentsInvolved      []struct {
				Household struct{ ID string }
				Person    *struct{ ID, Name string }
			}
			HealthDetails *string
		}
	}
	// Those who see it but may not read the archive: the count, and the two
	// fields refused with the archive's error.
	for name, c := range map[string]*client{"guard": guard, "security supervisor": lead} {
		r := c.do(one, vars)
		var got sensitive
		if err := jsonUnmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Incident == nil || got.Incident.ResidentsInvolvedCount != 1 || got.Incident.ResidentsInvolved != nil || got.Incident.HealthDetails != nil ||
			len(r.Errors) != 2 || r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "管家") {
			t.Fatalf("%s reads the residents involved: %s %+v", name, r.Data, r.Errors)
		}
	}
	var got sensitive
	sup.ok(one, vars, &got)
	if g := got.Incident; len(g.ResidentsInvolved) != 1 || g.ResidentsInvolved[0].Person == nil || g.ResidentsInvolved[0].Person.ID != w.OwnerA.ID ||
		g.ResidentsInvolved[0].Household.ID != w.HA.ID || g.HealthDetails == nil || *g.HealthDetails != "左膝擦伤，已送社区医院" {
		t.Fatalf("the supervisor reads %+v", g)
	}

	// Neither butler sees the incident until told of it; then the butler of
	// the household involved reads who it was, the other butler does not.
	guard2.fails("NOT_FOUND", one, vars)
	butler.fails("NOT_FOUND", one, vars)
	var none struct{ Incidents struct{ TotalCount int } }
	guard2.ok(`query($c:ID!){ incidents(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID}, &none)
	if none.Incidents.TotalCount != 0 {
		t.Fatalf("another guard lists %d incidents", none.Incidents.TotalCount)
	}
	guard.ok(`mutation($id:ID!,$in:RecordIncidentActionInput!){ recordIncidentAction(id:$id,input:$in){ id } }`, map[string]any{"id": x.ID,
		"in": map[string]any{"notifiedStaffIds": []string{staffID(t, e, w.butlerX), staffID(t, e, w.butlerX2)}}}, nil)
	got = sensitive{}
	butler.ok(one, vars, &got)
	if len(got.Incident.ResidentsInvolved) != 1 || got.Incident.HealthDetails == nil {
		t.Fatalf("the household's butler reads %+v", got.Incident)
	}
	if r := butler2.do(one, vars); r.code() != "FORBIDDEN" || !strings.Contains(string(r.Data), `"residentsInvolvedCount":1`) {
		t.Fatalf("another building's butler: %s %+v", r.Data, r.Errors)
	}

	// Every read shown is on the archive's audit log, by whom and of whom.
	var log struct {
		ArchiveAuditLog struct {
			Edges []struct {
				Node struct {
					Action string
					Fields []string
					Staff  struct{ Account string }
					Person *struct{ ID string }
				}
			}
		}
	}
	sup.ok(`query($c:ID!){ archiveAuditLog(communityId:$c){ edges { node { action fields staff { account } person { id } } } } }`, map[string]any{"c": w.X.ID}, &log)
	reads := map[string]int{}
	for _, ed := range log.ArchiveAuditLog.Edges {
		n := ed.Node
		if len(n.Fields) != 2 || n.Fields[1] != "incident:"+x.ID || n.Person == nil || n.Person.ID != w.OwnerA.ID {
			t.Fatalf("unexpected audit entry %+v", n)
		}
		reads[n.Staff.Account+" "+n.Fields[0]]++
	}
	if len(reads) != 4 || reads["x.supervisor incident.residents"] != 1 || reads["x.supervisor incident.healthDetails"] != 1 ||
		reads["x.butler incident.residents"] != 1 || reads["x.butler incident.healthDetails"] != 1 {
		t.Fatalf("audited reads: %v", reads)
	}

	// Another community's supervisor, a resident: nothing; an engineer of
	// the community told of nothing: an empty list.
	list := `query($c:ID!){ incidents(communityId:$c){ totalCount } }`
	supY.fails("FORBIDDEN", list, map[string]any{"c": w.X.ID})
	owner.fails("FORBIDDEN", list, map[string]any{"c": w.X.ID})
	none.Incidents.TotalCount = -1
	engineer.ok(list, map[string]any{"c": w.X.ID}, &none)
	if none.Incidents.TotalCount != 0 {
		t.Fatalf("an engineer told of nothing lists %d incidents", none.Incidents.TotalCount)
	}
	var told struct{ Incidents struct{ TotalCount int } }
	butler.ok(list, map[string]any{"c": w.X.ID}, &told)
	if told.Incidents.TotalCount != 1 {
		t.Fatalf("the butler told of it lists %d incidents", told.Incidents.TotalCount)
	}
	for _, c := range []*client{supY, owner, engineer} {
		c.fails("NOT_FOUND", one, vars)
		c.fails("NOT_FOUND", `mutation($id:ID!){ closeIncident(id:$id,version:0,summary:"x"){ id } }`, vars)
		c.fails("NOT_FOUND", `mutation($id:ID!,$in:RecordIncidentActionInput!){ recordIncidentAction(id:$id,input:$in){ id } }`,
			map[string]any{"id": x.ID, "in": map[string]any{"notifiedParties": []string{"业主"}}})
	}
	owner.fails("FORBIDDEN", `mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "type": "DISPUTE", "occurredAt": now, "location": "x", "description": "x", "idempotencyKey": "o-1"}})
	supY.fails("FORBIDDEN", `mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "type": "DISPUTE", "occurredAt": now, "location": "x", "description": "x", "idempotencyKey": "y-0"}})
	// In their own community, naming X's building, household or staff.
	base := func(k string, v any) map[string]any {
		in := map[string]any{"communityId": w.Y.ID, "type": "DISPUTE", "occurredAt": now, "location": "x", "description": "x", "idempotencyKey": "y-" + k}
		in[k] = v
		return map[string]any{"in": in}
	}
	for field, vars := range map[string]map[string]any{
		"input.buildingIds":             base("buildingIds", []string{w.XB1.ID}),
		"input.residents.0.householdId": base("residents", []map[string]any{{"householdId": w.HA.ID}}),
		"input.notifiedStaffIds":        base("notifiedStaffIds", []string{staffID(t, e, w.supervisorX)}),
		"input.reporter.personId":       base("reporter", map[string]any{"kind": "RESIDENT", "personId": w.OwnerA.ID}),
		"input.reporter.staffId":        base("reporter", map[string]any{"kind": "STAFF", "staffId": staffID(t, e, "x.guard")}),
	} {
		r := supY.do(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, vars)
		if r.field() != field {
			t.Errorf("naming X in Y's report: want an error on %s, got %+v", field, r.Errors)
		}
	}
	// The resident's own announcements and repairs are untouched: nothing
	// of the incident leaks through them.
	var mine struct {
		Announcements struct {
			Edges []struct{ Node struct{ Title string } }
		}
	}
	owner.ok(`query($c:ID!){ announcements(communityId:$c){ edges { node { title } } } }`, map[string]any{"c": w.X.ID}, &mine)
	if len(mine.Announcements.Edges) != 0 {
		t.Fatalf("announcements: %+v", mine)
	}
}

// Validation names the field, in Chinese by default.
func TestIncidentValidationNamesTheField(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	e.Clock.Set(now)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	valid := func() map[string]any {
		return map[string]any{"communityId": w.X.ID, "type": "THEFT", "occurredAt": now.Add(-time.Hour), "location": "3号车位",
			"description": "电动车被盗", "idempotencyKey": "v-" + time.Now().Format("150405.000000000")}
	}
	cases := []struct {
		field, msg string
		set        func(m map[string]any)
	}{
		{"input.occurredAt", "不能晚于现在", func(m map[string]any) { m["occurredAt"] = now.Add(10 * time.Minute) }},
		{"input.occurredAt", "7 天", func(m map[string]any) { m["occurredAt"] = now.Add(-8 * 24 * time.Hour) }},
		{"input.location", "", func(m map[string]any) { m["location"] = " " }},
		{"input.reporter.phone", "", func(m map[string]any) { m["reporter"] = map[string]any{"kind": "CALLER", "name": "张先生"} }},
		{"input.reporter", "报告人", func(m map[string]any) { m["reporter"] = map[string]any{"kind": "STAFF", "name": "张先生"} }},
		{"input.actions.0.at", "不能早于事件发生时间", func(m map[string]any) {
			m["actions"] = []map[string]any{{"at": now.Add(-2 * time.Hour), "text": "报警"}}
		}},
		{"input.policeCalledAt", "", func(m map[string]any) { m["policeCalledAt"] = now.Add(time.Hour) }},
		{"input.notifiedParties", "", func(m map[string]any) {
			m["notifiedParties"] = []string{"一个非常非常非常非常非常非常长的被通知方名称"}
		}},
		{"input.residents.0.personId", "", func(m map[string]any) {
			m["residents"] = []map[string]any{{"householdId": w.HB.ID, "personId": w.OwnerA.ID}}
		}},
	}
	for _, c := range cases {
		in := valid()
		c.set(in)
		r := guard.fails("BAD_USER_INPUT", `mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": in})
		if r.field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
			t.Errorf("%s: got %s %q", c.field, r.field(), r.Errors[0].Message)
		}
	}
	// A caller with a landline is fine; the report is the caller's.
	in := valid()
	in["reporter"] = map[string]any{"kind": "CALLER", "name": "张先生", "phone": "010-62345678"}
	x := decodeIncident(t, reportIncident(guard, in), "reportIncident")
	if x.Reporter.Kind != "CALLER" || x.Reporter.Phone == nil || *x.Reporter.Phone != "010-62345678" {
		t.Fatalf("caller: %+v", x.Reporter)
	}
	// A guard of X cannot report in Y.
	in["communityId"] = w.Y.ID
	if r := guard.do(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": in}); r.code() != "FORBIDDEN" {
		t.Fatalf("a guard of X reporting in Y: %+v", r.Errors)
	}
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	r := lead.fails("BAD_USER_INPUT", `mutation($id:ID!){ closeIncident(id:$id,version:1,summary:" "){ id } }`, map[string]any{"id": x.ID})
	if r.field() != "summary" {
		t.Fatalf("close without a summary: %s", r.field())
	}
	r = guard.fails("BAD_USER_INPUT", `mutation($id:ID!,$in:RecordIncidentActionInput!){ recordIncidentAction(id:$id,input:$in){ id } }`,
		map[string]any{"id": x.ID, "in": map[string]any{}})
	if r.field() != "input.action" {
		t.Fatalf("an empty follow-up: %s", r.field())
	}
}
