package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/identity"
	"qinqing/internal/staff"
)

const patrolRoundFields = `totalCount edges { node { start route { name } scans { checkpoint { name code } guard { account } status dueAt doneAt } misses { checkpoint { name } status dueAt } } }`

type patrolRounds struct {
	Patrols struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Start time.Time
				Route struct{ Name string }
				Scans []struct {
					Checkpoint    struct{ Name, Code *string }
					Guard         struct{ Account string }
					Status        string
					DueAt, DoneAt time.Time
				}
				Misses []struct {
					Checkpoint struct{ Name string }
					Status     string
					DueAt      time.Time
				}
			}
		}
	}
}

// A night round through the API on the test clock: a checkpoint whose
// window passes unscanned alerts the security supervisor once during the
// shift and nothing is marked after it; a scan after its window is LATE and
// keeps the time it was done however late it is uploaded; a retried upload
// records once; a wrong code is refused without naming a checkpoint; guards
// read only their own rounds and not the codes.
func TestPatrolMissedCheckpointAlertsDuringTheShift(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	cst := time.FixedZone("CST", 8*3600)
	night := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, cst) }
	e.Clock.Set(night(22, 21, 50))
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	guard2 := e.staffWithRole(w, "x.guard2", access.Security)
	// Access tokens last 15 minutes of the test clock: each jump signs in again.
	at := func(t time.Time) {
		e.Clock.Set(t)
		lead, guard, guard2 = e.staff("x.security-lead", w.Password), e.staff("x.guard", w.Password), e.staff("x.guard2", w.Password)
	}

	var up struct {
		UpsertPatrolRoute struct {
			ID          string
			Checkpoints []struct{ ID, Name, Code string }
		}
	}
	lead.ok(`mutation($in:UpsertPatrolRouteInput!){ upsertPatrolRoute(input:$in){ id checkpoints { id name code } } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "name": "夜间巡更", "shiftStart": "22:00", "shiftEnd": "06:00", "everyMinutes": 120,
		"checkpoints": []map[string]any{
			{"name": "东门", "place": "东门岗亭", "offsetMinutes": 0, "toleranceMinutes": 10},
			{"name": "地下车库", "place": "B1 出口", "offsetMinutes": 30, "toleranceMinutes": 10},
		}}}, &up)
	gate, garage := up.UpsertPatrolRoute.Checkpoints[0].Code, up.UpsertPatrolRoute.Checkpoints[1].Code
	if len(gate) != 16 || gate == garage {
		t.Fatalf("codes %q %q", gate, garage)
	}
	var routes struct {
		PatrolRoutes []struct {
			Checkpoints []struct{ Code *string }
		}
	}
	guard.ok(`query($c:ID!){ patrolRoutes(communityId:$c){ checkpoints { code } } }`, map[string]any{"c": w.X.ID}, &routes)
	if len(routes.PatrolRoutes) != 1 || routes.PatrolRoutes[0].Checkpoints[0].Code != nil {
		t.Fatalf("a guard reads the codes: %+v", routes)
	}

	scan := func(c *client, code string, done time.Time, key string) *gqlResponse {
		return c.do(`mutation($in:RecordCheckpointScanInput!){ recordCheckpointScan(input:$in){ id status doneAt dueAt checkpoint { name code } } }`,
			map[string]any{"in": map[string]any{"communityId": w.X.ID, "code": code, "doneAt": done, "idempotencyKey": key}})
	}
	type scanned struct {
		RecordCheckpointScan struct {
			ID, Status    string
			DoneAt, DueAt time.Time
			Checkpoint    struct {
				Name string
				Code *string
			}
		}
	}
	decode := func(r *gqlResponse) scanned {
		t.Helper()
		var s scanned
		if len(r.Errors) > 0 {
			t.Fatalf("scan: %+v", r.Errors)
		}
		if err := jsonUnmarshal(r.Data, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	at(night(22, 22, 5))
	first := decode(scan(guard, gate, night(22, 22, 3), "phone-1-0001"))
	if s := first.RecordCheckpointScan; s.Status != "ON_TIME" || s.Checkpoint.Name != "东门" || s.Checkpoint.Code != nil {
		t.Fatalf("on time: %+v", s)
	}
	if again := decode(scan(guard, gate, night(22, 22, 3), "phone-1-0001")); again.RecordCheckpointScan.ID != first.RecordCheckpointScan.ID {
		t.Fatalf("a retried upload recorded twice: %+v", again)
	}
	bad := scan(guard, "AAAAAAAAAAAAAAAA", night(22, 22, 4), "phone-1-0002")
	if bad.code() != "BAD_USER_INPUT" || bad.field() != "input.code" || strings.Contains(bad.Errors[0].Message, "东门") || strings.Contains(bad.Errors[0].Message, "车库") {
		t.Fatalf("wrong code: %+v", bad.Errors)
	}

	// 22:41: the garage's 22:30±10 window has closed unscanned.
	tick := func() {
		t.Helper()
		if err := e.App.Services.Patrols.Tick(context.Background(), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	alerts := func(c *client) []string {
		var out []string
		for _, n := range c.inbox().Notifications.Edges {
			if n.Node.Kind == "PATROL_CHECKPOINT_MISSED" {
				out = append(out, n.Node.Title+" "+n.Node.Body)
			}
		}
		return out
	}
	at(night(22, 22, 41))
	tick()
	tick()
	waitFor(t, "the missed-checkpoint alert", func() bool { return len(alerts(lead)) > 0 })
	if got := alerts(lead); len(got) != 1 || got[0] != "巡更漏检：地下车库 巡更路线「夜间巡更」的巡更点「地下车库」（B1 出口）应于 22:30 前后打卡，至今未打卡，请安排复查。" {
		t.Fatalf("security supervisor's alerts: %q", got)
	}
	if got := alerts(guard); len(got) != 0 {
		t.Fatalf("a guard was alerted: %q", got)
	}

	// Uploaded at 23:30, scanned at 22:50: LATE for the 22:30 window, at 22:50.
	at(night(22, 23, 30))
	late := decode(scan(guard, garage, night(22, 22, 50), "phone-1-0003")).RecordCheckpointScan
	if late.Status != "LATE" || !late.DoneAt.Equal(night(22, 22, 50)) || !late.DueAt.Equal(night(22, 22, 30)) {
		t.Fatalf("late scan: %+v", late)
	}

	// After the shift nothing more is marked or told, though no round after
	// 22:00 was walked.
	at(night(23, 7, 0))
	tick()
	if got := alerts(lead); len(got) != 1 {
		t.Fatalf("alerted after the shift: %q", got)
	}

	var all patrolRounds
	lead.ok(`query($c:ID!){ patrols(communityId:$c){ `+patrolRoundFields+` } }`, map[string]any{"c": w.X.ID}, &all)
	if all.Patrols.TotalCount != 1 {
		t.Fatalf("rounds: %+v", all)
	}
	r := all.Patrols.Edges[0].Node
	if !r.Start.Equal(night(22, 22, 0)) || r.Route.Name != "夜间巡更" || len(r.Scans) != 2 || r.Scans[0].Status != "ON_TIME" || r.Scans[1].Status != "LATE" ||
		*r.Scans[0].Checkpoint.Code != gate || len(r.Misses) != 1 || r.Misses[0].Checkpoint.Name != "地下车库" || r.Misses[0].Status != "MISSED" {
		t.Fatalf("the lead's round: %+v", r)
	}
	var mine patrolRounds
	guard2.ok(`query($c:ID!){ patrols(communityId:$c){ `+patrolRoundFields+` } }`, map[string]any{"c": w.X.ID}, &mine)
	if mine.Patrols.TotalCount != 0 {
		t.Fatalf("a guard reads another guard's round: %+v", mine)
	}
	guard.ok(`query($c:ID!){ patrols(communityId:$c){ `+patrolRoundFields+` } }`, map[string]any{"c": w.X.ID}, &mine)
	if mine.Patrols.TotalCount != 1 || len(mine.Patrols.Edges[0].Node.Scans) != 2 || mine.Patrols.Edges[0].Node.Scans[0].Checkpoint.Code != nil {
		t.Fatalf("the guard's own round: %+v", mine)
	}
}

// Guards of another community, residents and guards setting routes up are
// refused.
func TestPatrolPermissions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Services.Staff.Upsert(context.Background(), &staff.Staff{Account: "y.guard", Name: "y.guard", PasswordHash: hash,
		Roles: []access.Role{access.Security}, CommunityIDs: []string{w.Y.ID}}); err != nil {
		t.Fatal(err)
	}
	yGuard := e.staff("y.guard", w.Password)
	owner := e.owner(w.OwnerA.Phone)
	route := map[string]any{"communityId": w.X.ID, "name": "白班巡更", "shiftStart": "08:00", "shiftEnd": "20:00", "everyMinutes": 60,
		"checkpoints": []map[string]any{{"name": "东门", "offsetMinutes": 0, "toleranceMinutes": 15}}}
	const upsert = `mutation($in:UpsertPatrolRouteInput!){ upsertPatrolRoute(input:$in){ checkpoints { code } } }`
	guard.fails("FORBIDDEN", upsert, map[string]any{"in": route})
	var up struct {
		UpsertPatrolRoute struct{ Checkpoints []struct{ Code string } }
	}
	lead.ok(upsert, map[string]any{"in": route}, &up)
	code := up.UpsertPatrolRoute.Checkpoints[0].Code
	// 10:00 UTC is 18:00 in Shanghai: in the day shift.
	in := map[string]any{"communityId": w.X.ID, "code": code, "doneAt": e.Clock.Now(), "idempotencyKey": "y-phone-1"}
	const scan = `mutation($in:RecordCheckpointScanInput!){ recordCheckpointScan(input:$in){ status } }`
	yGuard.fails("FORBIDDEN", scan, map[string]any{"in": in})
	owner.fails("FORBIDDEN", scan, map[string]any{"in": in})
	for _, c := range []*client{yGuard, owner} {
		c.fails("FORBIDDEN", `query($c:ID!){ patrols(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
		c.fails("FORBIDDEN", `query($c:ID!){ patrolRoutes(communityId:$c){ name } }`, map[string]any{"c": w.X.ID})
	}
	in["doneAt"] = e.Clock.Now().Add(10 * time.Minute)
	if r := guard.fails("BAD_USER_INPUT", scan, map[string]any{"in": in}); r.field() != "input.doneAt" {
		t.Fatalf("a scan in the future: %+v", r.Errors)
	}
	in["doneAt"] = e.Clock.Now()
	var ok struct{ RecordCheckpointScan struct{ Status string } }
	guard.ok(scan, map[string]any{"in": in}, &ok)
	if ok.RecordCheckpointScan.Status != "ON_TIME" {
		t.Fatalf("the guard's scan: %+v", ok)
	}
}
