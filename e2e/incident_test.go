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
