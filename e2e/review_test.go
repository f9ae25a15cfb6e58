package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/config"
)

const reviewFigureFields = `key count met total items(first: 10){ totalCount edges { node { kind id title at met value } } }`

type reviewFigure struct {
	Key        string
	Count      int
	Met, Total *int
	Items      struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Kind, ID, Title string
				At              time.Time
				Met             bool
				Value           int
			}
		}
	}
}

type staffReview struct {
	Staff   struct{ ID, Account string }
	Month   string
	Figures []reviewFigure
	Rating  *struct {
		Version, Rating int
		Note            *string
		Figures         []reviewFigure
		History         []struct{ Version, Rating int }
	}
}

// consistent: every figure is exactly what its items say.
func (f reviewFigure) consistent() error {
	met, total := 0, 0
	for _, e := range f.Items.Edges {
		if e.Node.Met {
			met++
		}
		total += e.Node.Value
	}
	switch {
	case f.Count != len(f.Items.Edges) || f.Items.TotalCount != f.Count:
		return fmt.Errorf("%s: count %d, %d items (totalCount %d)", f.Key, f.Count, len(f.Items.Edges), f.Items.TotalCount)
	case f.Met != nil && *f.Met != met:
		return fmt.Errorf("%s: met %d, items met %d", f.Key, *f.Met, met)
	case f.Total != nil && *f.Total != total:
		return fmt.Errorf("%s: total %d, items sum %d", f.Key, *f.Total, total)
	}
	return nil
}

// ids is the sorted "kind:id:met" of the figure's items.
func (f reviewFigure) ids() string {
	var out []string
	for _, e := range f.Items.Edges {
		out = append(out, fmt.Sprintf("%s:%s:%v", e.Node.Kind, e.Node.ID, e.Node.Met))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// A month of varied work on the test clock, reviewed through the API: every
// figure equals the items it links, and each item list is exactly the work
// done (computed here from what the test did, independently of the
// review's own rules); a rating freezes the figures; permissions.
func TestStaffReviewFiguresMatchTheirItems(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.AccessTTL = 60 * 24 * time.Hour })
	w := e.world()
	ctx := context.Background()
	id := func(acct string) string {
		id, _, _, err := e.App.Services.Staff.StaffCredentials(ctx, acct)
		if err != nil || id == "" {
			t.Fatal(acct, err)
		}
		return id
	}
	cst := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, shanghaiZone) }
	at := func(d, hh, mm int) { e.Clock.Set(cst(d, hh, mm)) }
	at(2, 8, 0)
	inspector := e.staffWithRole(w, "x.inspector", access.Inspector)
	cleaner := e.staffWithRole(w, "x.cleaner", access.Cleaner)
	lead := e.staffWithRole(w, "x.security-lead", access.SecuritySupervisor)
	guard := e.staffWithRole(w, "x.guard", access.Security)
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	butler, eng, sup := e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password), e.staff(w.supervisorX, w.Password)
	engID, butlerID, cleanerID, guardID := id(w.engineerX), id(w.butlerX), id("x.cleaner"), id("x.guard")

	step := func(c *client, mutation, rid, want string) {
		t.Helper()
		vars := raID(rid)
		if mutation == raDispatch {
			vars["e"] = engID
		}
		raStep(t, c, mutation, vars, want)
	}
	confirm := func(c *client, rid string, rating int) {
		t.Helper()
		q := `mutation($id:ID!,$s:Upload!,$r:Int){ confirmRepair(id:$id, signature:$s, rating:$r){ id } }`
		var r any = rating
		if rating == 0 {
			r = nil
		}
		if r := c.multipart(q, map[string]any{"id": rid, "s": nil, "r": r}, map[string][]byte{"variables.s": pngBytes}); len(r.Errors) > 0 {
			t.Fatalf("confirm: %+v", r.Errors)
		}
	}
	callback := func(rid string, satisfied bool) {
		t.Helper()
		butler.ok(`mutation($id:ID!,$s:Boolean!){ recordRepairCallback(id:$id, satisfied:$s, notes:"回访"){ id } }`, map[string]any{"id": rid, "s": satisfied}, nil)
	}
	work := func(rid string, startDay, startH, doneDay, doneH int) {
		t.Helper()
		at(startDay, startH, 5)
		step(butler, raTake, rid, "TAKEN")
		step(butler, raDispatch, rid, "DISPATCHED")
		step(eng, raAccept, rid, "ACCEPTED")
		step(eng, raStart, rid, "IN_PROGRESS")
		at(doneDay, doneH, 0)
		step(eng, raComplete, rid, "COMPLETED")
	}
	// R1: done within the day (finish due 24 h), rated 5, called back satisfied.
	at(2, 9, 0)
	r1 := raSubmit(t, ownerA, w.HA.ID, "WATER", "NORMAL")
	work(r1.ID, 2, 9, 2, 11)
	confirm(ownerA, r1.ID, 5)
	at(2, 15, 0)
	callback(r1.ID, true)
	// R2: done two days later (late), rated 2, called back unsatisfied:
	// the round is reopened.
	at(3, 9, 0)
	r2 := raSubmit(t, ownerB, w.HB.ID, "ELECTRICITY", "NORMAL")
	work(r2.ID, 3, 9, 5, 12)
	confirm(ownerB, r2.ID, 2)
	at(5, 15, 0)
	callback(r2.ID, false)
	// R3: done on time, signed off without a rating, never called back.
	at(6, 9, 0)
	r3 := raSubmit(t, ownerA, w.HA.ID, "DOORS_WINDOWS", "NORMAL")
	work(r3.ID, 6, 9, 6, 10)
	confirm(ownerA, r3.ID, 0)

	// Two visits in the week of 9 November, one acknowledged by the household.
	record := `mutation($in:RecordVisitInput!){ recordVisit(input:$in){ id } }`
	var v1, v2 struct{ RecordVisit struct{ ID string } }
	at(10, 10, 0)
	butler.ok(record, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "visitedAt": cst(10, 9, 30), "topics": []string{"日常走访"}}}, &v1)
	butler.ok(record, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "visitedAt": cst(10, 9, 50), "topics": []string{"日常走访"}}}, &v2)
	ownerA.ok(`mutation($v:ID!){ acknowledgeVisit(visitId:$v) }`, map[string]any{"v": v1.RecordVisit.ID}, nil)
	ownerA.fails("CONFLICT", `mutation($v:ID!){ acknowledgeVisit(visitId:$v) }`, map[string]any{"v": v1.RecordVisit.ID})
	ownerA.fails("NOT_FOUND", `mutation($v:ID!){ acknowledgeVisit(visitId:$v) }`, map[string]any{"v": v2.RecordVisit.ID})

	// A lobby inspection fails item 4, named to the cleaner; re-checked in time.
	at(12, 10, 0)
	in := lobbyInspection(w.X.ID, "rv-1", e.Clock.Now(), 4)
	in["results"].([]map[string]any)[3]["assigneeStaffId"] = cleanerID
	var rec struct{ RecordInspection recordedInspection }
	inspector.ok(recordInspectionQ, map[string]any{"in": in}, &rec)
	task := rec.RecordInspection.Results[3].CorrectiveTask
	at(12, 16, 0)
	var tv struct {
		CorrectiveTasks struct {
			Edges []struct{ Node struct{ Version int } }
		}
	}
	cleaner.ok(`query($c:ID!){ correctiveTasks(communityId:$c){ edges { node { version } } } }`, map[string]any{"c": w.X.ID}, &tv)
	inspector.ok(`mutation($in:RecheckCorrectiveTaskInput!){ recheckCorrectiveTask(input:$in){ id status } }`,
		map[string]any{"in": map[string]any{"taskId": task.ID, "version": tv.CorrectiveTasks.Edges[0].Node.Version, "passed": true}}, nil)

	// A night round: the gate scanned, the garage missed.
	var up struct {
		UpsertPatrolRoute struct {
			ID          string
			Checkpoints []struct{ ID, Code string }
		}
	}
	lead.ok(`mutation($in:UpsertPatrolRouteInput!){ upsertPatrolRoute(input:$in){ id checkpoints { id code } } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "name": "夜间巡更", "shiftStart": "22:00", "shiftEnd": "06:00", "everyMinutes": 120,
		"checkpoints": []map[string]any{
			{"name": "东门", "offsetMinutes": 0, "toleranceMinutes": 10},
			{"name": "地下车库", "offsetMinutes": 30, "toleranceMinutes": 10},
		}}}, &up)
	at(14, 22, 5)
	var sc struct{ RecordCheckpointScan struct{ ID string } }
	guard.ok(`mutation($in:RecordCheckpointScanInput!){ recordCheckpointScan(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "code": up.UpsertPatrolRoute.Checkpoints[0].Code, "doneAt": e.Clock.Now(), "idempotencyKey": "rv-scan-1"}}, &sc)

	// A training the engineer attended and the butler missed.
	at(20, 18, 0)
	var tr struct{ RecordTraining struct{ ID string } }
	sup.ok(`mutation($in:RecordTrainingInput!){ recordTraining(input:$in){ id attendees { id } absent { id } } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "SERVICE 服务礼仪", "heldAt": cst(20, 16, 0), "durationMinutes": 60, "trainer": "品质部",
		"attendeeIds": []string{engID}, "absentIds": []string{butlerID}}}, &tr)

	// 1 December: the month is over.
	at(31, 10, 0) // = 1 December 10:00
	q := `query($c:ID!,$m:String!,$s:ID){ staffReviews(communityId:$c, month:$m, staffId:$s){ staff { id account } month figures { ` + reviewFigureFields + ` }
	  rating { version rating note history { version rating } } } }`
	var all struct{ StaffReviews []staffReview }
	sup.ok(q, map[string]any{"c": w.X.ID, "m": "2026-11"}, &all)
	by := map[string]staffReview{}
	for _, r := range all.StaffReviews {
		by[r.Staff.ID] = r
		for _, f := range r.Figures {
			if err := f.consistent(); err != nil {
				t.Errorf("%s %v", r.Staff.Account, err)
			}
		}
	}
	fig := func(staffID, key string) reviewFigure {
		t.Helper()
		for _, f := range by[staffID].Figures {
			if f.Key == key {
				return f
			}
		}
		t.Fatalf("%s has no %s: %+v", staffID, key, by[staffID].Figures)
		return reviewFigure{}
	}
	keys := func(staffID string) string {
		var ks []string
		for _, f := range by[staffID].Figures {
			ks = append(ks, f.Key)
		}
		return strings.Join(ks, " ")
	}
	weeks := "VISIT_WEEK:2026-11-02:false,VISIT_WEEK:2026-11-09:false,VISIT_WEEK:2026-11-16:false,VISIT_WEEK:2026-11-23:false"
	want := []struct {
		staff, key, ids string
		met, total      int
	}{
		{engID, "REPAIRS_DONE", sorted("REPAIR:"+r1.ID+":true", "REPAIR:"+r2.ID+":false", "REPAIR:"+r3.ID+":true"), 2, -1},
		{engID, "REOPENED_ROUNDS", "REPAIR:" + r2.ID + ":false", -1, -1},
		{engID, "RATINGS", sorted("REPAIR:"+r1.ID+":true", "REPAIR:"+r2.ID+":true"), -1, 7},
		{engID, "ORDERS_DONE", "", -1, -1},
		{engID, "TRAINING", "TRAINING:" + tr.RecordTraining.ID + ":true", 1, -1},
		{butlerID, "CALLBACKS", sorted("REPAIR:"+r1.ID+":true", "REPAIR:"+r2.ID+":true", "REPAIR:"+r3.ID+":false"), 2, -1},
		{butlerID, "VISITS", sorted("VISIT:"+v1.RecordVisit.ID+":true", "VISIT:"+v2.RecordVisit.ID+":false"), 1, -1},
		{butlerID, "VISIT_WEEKS", weeks, 0, -1},
		{butlerID, "TRAINING", "TRAINING:" + tr.RecordTraining.ID + ":false", 0, -1},
		{cleanerID, "INSPECTION_FAILURES", "CORRECTIVE_TASK:" + task.ID + ":false", -1, -1},
		{cleanerID, "CORRECTIVE_ON_TIME", "CORRECTIVE_TASK:" + task.ID + ":true", 1, -1},
		{guardID, "PATROL_CHECKPOINTS", sorted("PATROL_ROUND:"+roundOf(up.UpsertPatrolRoute.ID, cst(14, 22, 0))+":true", "PATROL_ROUND:"+roundOf(up.UpsertPatrolRoute.ID, cst(14, 22, 0))+":false"), 1, -1},
	}
	for _, c := range want {
		f := fig(c.staff, c.key)
		if f.ids() != c.ids || (c.met >= 0 && (f.Met == nil || *f.Met != c.met)) || (c.total >= 0 && (f.Total == nil || *f.Total != c.total)) {
			t.Errorf("%s %s: got %s met %v total %v; want %s met %d total %d", by[c.staff].Staff.Account, c.key, f.ids(), f.Met, f.Total, c.ids, c.met, c.total)
		}
	}
	// Only the figures of each one's roles.
	if k := keys(guardID); k != "INSPECTION_FAILURES CORRECTIVE_ON_TIME PATROL_CHECKPOINTS COMPLAINTS TRAINING" {
		t.Errorf("guard's figures: %s", k)
	}
	if k := keys(butlerID); strings.Contains(k, "REPAIRS_DONE") || strings.Contains(k, "PATROL") {
		t.Errorf("butler's figures: %s", k)
	}

	// The supervisor rates the engineer: the figures are frozen with the
	// rating; a stale version is refused; a re-rating keeps the first.
	rate := `mutation($in:ReviewStaffInput!){ reviewStaff(input:$in){ rating { version rating note figures { key count } history { version rating } } } }`
	rin := map[string]any{"staffId": engID, "communityId": w.X.ID, "month": "2026-11", "rating": 4, "note": "维修及时，注意回访满意度"}
	sup.ok(rate, map[string]any{"in": rin}, nil)
	sup.fails("CONFLICT", rate, map[string]any{"in": rin})
	at(31, 11, 0)
	step(butler, raDispatch, r2.ID, "DISPATCHED") // the record moves on after the rating
	rin["rating"], rin["version"] = 3, 1
	sup.ok(rate, map[string]any{"in": rin}, nil)
	var mine struct{ StaffReviews []staffReview }
	eng.ok(`query($c:ID!,$m:String!){ staffReviews(communityId:$c, month:$m){ staff { id account }
	  rating { version rating note figures { `+reviewFigureFields+` } history { version rating } } } }`, map[string]any{"c": w.X.ID, "m": "2026-11"}, &mine)
	if len(mine.StaffReviews) != 1 || mine.StaffReviews[0].Staff.ID != engID || mine.StaffReviews[0].Rating == nil ||
		mine.StaffReviews[0].Rating.Version != 2 || mine.StaffReviews[0].Rating.Rating != 3 || len(mine.StaffReviews[0].Rating.History) != 1 ||
		mine.StaffReviews[0].Rating.History[0].Rating != 4 {
		t.Fatalf("engineer's own review: %+v", mine.StaffReviews)
	}
	for _, f := range mine.StaffReviews[0].Rating.Figures {
		if err := f.consistent(); err != nil {
			t.Error("frozen", err)
		}
	}

	// Permissions: another's review, another community's supervisor, a
	// resident, self-rating, a staff member rating.
	eng.fails("FORBIDDEN", q, map[string]any{"c": w.X.ID, "m": "2026-11", "s": butlerID})
	e.staff(w.supervisorY, w.Password).fails("FORBIDDEN", q, map[string]any{"c": w.X.ID, "m": "2026-11"})
	ownerA.fails("FORBIDDEN", q, map[string]any{"c": w.X.ID, "m": "2026-11"})
	sup.fails("FORBIDDEN", rate, map[string]any{"in": map[string]any{"staffId": id(w.supervisorX), "communityId": w.X.ID, "month": "2026-11", "rating": 5}})
	eng.fails("FORBIDDEN", rate, map[string]any{"in": map[string]any{"staffId": butlerID, "communityId": w.X.ID, "month": "2026-11", "rating": 5}})
	sup.fails("BAD_USER_INPUT", q, map[string]any{"c": w.X.ID, "m": "2027-01"})

	// Training sessions: the supervisor sees all, the engineer theirs with
	// only themself listed, the absent butler none.
	tq := `query($c:ID!){ trainingSessions(communityId:$c, from:"2026-11-01T00:00:00+08:00", to:"2026-12-01T00:00:00+08:00"){ totalCount edges { node { id attendees { id } absent { id } } } } }`
	type sessions struct {
		TrainingSessions struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID                string
					Attendees, Absent []struct{ ID string }
				}
			}
		}
	}
	var s1, s2, s3 sessions
	sup.ok(tq, map[string]any{"c": w.X.ID}, &s1)
	eng.ok(tq, map[string]any{"c": w.X.ID}, &s2)
	butler.ok(tq, map[string]any{"c": w.X.ID}, &s3)
	if s1.TrainingSessions.TotalCount != 1 || len(s1.TrainingSessions.Edges[0].Node.Absent) != 1 ||
		s2.TrainingSessions.TotalCount != 1 || len(s2.TrainingSessions.Edges[0].Node.Absent) != 0 || s3.TrainingSessions.TotalCount != 0 {
		t.Fatalf("sessions: %+v / %+v / %+v", s1, s2, s3)
	}
	ownerA.fails("FORBIDDEN", tq, map[string]any{"c": w.X.ID})
	_ = guardID
}

func sorted(s ...string) string {
	sort.Strings(s)
	return strings.Join(s, ",")
}

// roundOf is a patrol round's id: its route and start (see patrol.Round).
func roundOf(routeID string, start time.Time) string {
	return fmt.Sprintf("%s:%d", routeID, start.Unix())
}
