package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
)

// A reported incident reaches the community's security supervisor and the
// staff the report names as told, once however often the phone uploads it,
// and not the guard who reported it; the notice names no resident and no
// injury. A fire alarm or an injury is the urgent kind, the rest are not.
func TestIncidentReportedNotifiesTheSecurityLeadAndNamedStaff(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	e.Clock.Set(now)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	butler, sup := e.staff(w.butlerX, w.Password), e.staff(w.supervisorX, w.Password)

	notices := func(c *client) []string {
		var out []string
		for _, n := range c.inbox().Notifications.Edges {
			if strings.HasPrefix(n.Node.Kind, "INCIDENT_") {
				out = append(out, n.Node.Kind+" "+n.Node.Title+" "+n.Node.Body)
			}
		}
		return out
	}
	in := map[string]any{"communityId": w.X.ID, "type": "INJURY", "occurredAt": now.Add(-time.Hour),
		"buildingIds": []string{w.XB1.ID}, "location": "1栋门口台阶", "description": "王建国下台阶时摔倒",
		"residents":        []map[string]any{{"householdId": w.HA.ID, "personId": w.OwnerA.ID}},
		"notifiedStaffIds": []string{staffID(t, e, w.butlerX), staffID(t, e, "x.guard")},
		"healthDetails":    "左膝擦伤，已送社区医院", "idempotencyKey": "inj-notice-1"}
	x := decodeIncident(t, reportIncident(guard, in), "reportIncident")
	want := "INCIDENT_URGENT 紧急安全事件：人员受伤 11月20日 09:00，1栋门口台阶发生人员受伤，报告人：x.guard。请查看事件记录并跟进。"
	for name, c := range map[string]*client{"security supervisor": lead, "named butler": butler} {
		waitFor(t, "the "+name+"'s notice", func() bool { return len(notices(c)) > 0 })
		if got := notices(c); len(got) != 1 || got[0] != want {
			t.Fatalf("%s's notices: %q", name, got)
		}
	}
	// The phone lost the answer and uploads again: nothing new.
	if again := decodeIncident(t, reportIncident(guard, in), "reportIncident"); again.ID != x.ID {
		t.Fatalf("recorded twice: %s and %s", x.ID, again.ID)
	}
	for name, c := range map[string]*client{"security supervisor": lead, "named butler": butler} {
		if got := notices(c); len(got) != 1 {
			t.Fatalf("%s after a retried report: %q", name, got)
		}
	}
	for _, got := range append(notices(lead), notices(butler)...) {
		if strings.Contains(got, "王建国") || strings.Contains(got, "擦伤") || strings.Contains(got, "摔倒") {
			t.Fatalf("the notice tells of the resident: %q", got)
		}
	}
	// The reporter, though named as told, and a supervisor of a community
	// that has a security supervisor are not told.
	if got := notices(guard); len(got) != 0 {
		t.Fatalf("the reporting guard was told: %q", got)
	}
	if got := notices(sup); len(got) != 0 {
		t.Fatalf("the supervisor was told: %q", got)
	}

	// A water leak is not urgent.
	decodeIncident(t, reportIncident(guard, map[string]any{"communityId": w.X.ID, "type": "WATER_LEAK", "occurredAt": now,
		"location": "2栋地下室", "description": "水管渗漏", "idempotencyKey": "leak-notice-1"}), "reportIncident")
	waitFor(t, "the leak notice", func() bool { return len(notices(lead)) == 2 })
	if got := notices(lead); !slices.Contains(got, "INCIDENT_REPORTED 安全事件：漏水 11月20日 10:00，2栋地下室发生漏水，报告人：x.guard。请查看事件记录并跟进。") {
		t.Fatalf("leak notice: %q", got)
	}
}
