package e2e

import "testing"

func TestVisitsAndFollowUpsDue(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	butler := e.staff(w.butlerX, w.Password)
	record := `mutation($in:RecordVisitInput!){ recordVisit(input:$in){ id followUpDone staff { account } household { id } } }`
	var v struct {
		RecordVisit struct {
			ID           string
			FollowUpDone bool
		}
	}
	butler.ok(record, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "visitedAt": "2026-11-22T09:30:00+08:00",
		"attendees": []string{"王建国"}, "topics": []string{"楼道灯不亮"}, "followUp": "安排电工", "followUpDue": "2026-11-25"}}, &v)
	butler.ok(record, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "visitedAt": "2026-11-22T10:00:00+08:00", "topics": []string{"节日问候"}}}, nil)
	r := butler.fails("BAD_USER_INPUT", record, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "visitedAt": "2026-11-22T10:00:00+08:00", "topics": []string{}}})
	if r.field() != "input.topics" {
		t.Errorf("empty topics names %q", r.field())
	}
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", record, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "visitedAt": "2026-11-22T10:00:00+08:00", "topics": []string{"x"}}})
	e.owner(w.OwnerA.Phone).fails("FORBIDDEN", `{ visits { edges { cursor } } }`, nil)

	due := `query($c:ID!,$d:Date!){ visits(filter:{communityId:$c, followUpDueBy:$d}){ edges { node { id followUp followUpDue } } } }`
	var list struct {
		Visits struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	butler.ok(due, map[string]any{"c": w.X.ID, "d": "2026-11-30"}, &list)
	if len(list.Visits.Edges) != 1 || list.Visits.Edges[0].Node.ID != v.RecordVisit.ID {
		t.Fatalf("visits due = %+v", list.Visits.Edges)
	}
	butler.ok(due, map[string]any{"c": w.X.ID, "d": "2026-11-24"}, &list)
	if len(list.Visits.Edges) != 0 {
		t.Fatalf("a follow-up due on 11-25 is listed as due by 11-24")
	}
	done := `mutation($id:ID!){ completeVisitFollowUp(visitId:$id){ followUpDone } }`
	butler.ok(done, map[string]any{"id": v.RecordVisit.ID}, nil)
	butler.fails("CONFLICT", done, map[string]any{"id": v.RecordVisit.ID})
	butler.ok(due, map[string]any{"c": w.X.ID, "d": "2026-11-30"}, &list)
	if len(list.Visits.Edges) != 0 {
		t.Fatal("a completed follow-up is still due")
	}
	butler.fails("BAD_USER_INPUT", due, map[string]any{"c": w.X.ID, "d": "2026-13-01"})
}
