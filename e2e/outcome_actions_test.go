package e2e

import (
	"testing"
	"time"
)

// Promised actions move on after publishing, with their history, and a
// correction is a new version that may carry an action on; the corrected
// version stays readable and frozen.
func TestOutcomeActionsAndVersions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	e.Clock.Set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	sup, butler, ownerA := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.owner(w.OwnerA.Phone)
	var v1 struct{ PublishOutcomes outcomes }
	sup.ok(publishOutcomesQ, map[string]any{"c": w.X.ID, "p": "2026-11", "in": map[string]any{"improvements": []any{
		map[string]any{"text": "楼道照明改为声控灯", "due": "2026-11-30"},
		map[string]any{"text": "增设两处分类垃圾桶", "due": "2027-01-15"},
	}}}, &v1)
	o1 := v1.PublishOutcomes
	a1, a2 := o1.Improvements[0].ID, o1.Improvements[1].ID
	if o1.ComplaintsTotal != 0 || len(o1.Surveys) != 0 || !o1.Improvements[0].Overdue {
		t.Fatalf("version 1: %+v", o1)
	}
	move := func(c *client, id, status string, note any) *gqlResponse {
		return c.do(updateActionQ, map[string]any{"id": id, "s": status, "n": note})
	}

	// Who may move an action, and which moves are refused.
	for name, c := range map[string]*client{"owner": ownerA, "butler": butler} {
		if r := move(c, a1, "IN_PROGRESS", nil); r.code() != "FORBIDDEN" {
			t.Fatalf("%s moves an action: %+v", name, r.Errors)
		}
	}
	for name, c := range map[string]struct {
		status, field string
		note          any
	}{
		"standing still":      {"PROMISED", "status", nil},
		"dropped without why": {"DROPPED", "note", nil},
		"a phone in the note": {"IN_PROGRESS", "note", "已联系 13812345678"},
	} {
		if r := move(sup, a1, c.status, c.note); r.code() != "BAD_USER_INPUT" || r.field() != c.field {
			t.Errorf("%s: %+v, want field %s", name, r.Errors, c.field)
		}
	}
	if r := move(sup, a1+"0", "DONE", nil); r.code() != "NOT_FOUND" {
		t.Fatalf("an action that does not exist: %+v", r.Errors)
	}

	sup.ok(updateActionQ, map[string]any{"id": a1, "s": "IN_PROGRESS", "n": "已采购声控灯"}, nil)
	e.Clock.Advance(10 * time.Minute)
	doneAt := e.Clock.Now()
	var done struct{ UpdateOutcomeAction outcomeAction }
	sup.ok(updateActionQ, map[string]any{"id": a1, "s": "DONE"}, &done)
	if d := done.UpdateOutcomeAction; d.Status != "DONE" || d.Overdue || len(d.History) != 3 || d.History[1].Note == nil || *d.History[1].Note != "已采购声控灯" {
		t.Fatalf("done: %+v", d)
	}
	if r := move(sup, a1, "IN_PROGRESS", nil); r.code() != "CONFLICT" {
		t.Fatalf("a done action moves back: %+v", r.Errors)
	}
	sup.ok(updateActionQ, map[string]any{"id": a2, "s": "IN_PROGRESS", "n": "已下单"}, nil)

	// The owner sees the latest status and when it changed.
	get := `query($id:ID!){ publishedOutcome(id:$id){ ` + outcomeFields + ` } }`
	var read struct{ PublishedOutcome outcomes }
	ownerA.ok(get, map[string]any{"id": o1.ID}, &read)
	if a := read.PublishedOutcome.Improvements[0]; a.Status != "DONE" || !sameInstant(a.StatusChangedAt, doneAt) ||
		a.History[0].Status != "PROMISED" || a.History[2].Status != "DONE" {
		t.Fatalf("the owner's view of action 1: %+v", a)
	}

	// A correction: it must say what changed, and may carry an action on once.
	fix := func(in map[string]any) map[string]any { return map[string]any{"c": w.X.ID, "p": "2026-11", "in": in} }
	imp := func(text, due string, continues any) map[string]any {
		return map[string]any{"text": text, "due": due, "continues": continues}
	}
	for name, c := range map[string]struct {
		field string
		in    map[string]any
	}{
		"no change note":   {"input.changeNote", map[string]any{"improvements": []any{imp("x", "2027-01-01", nil)}}},
		"continues nobody": {"input.improvements.0.continues", map[string]any{"changeNote": "更正", "improvements": []any{imp("x", "2027-01-01", o1.ID+":a9")}}},
		"continues twice":  {"input.improvements.1.continues", map[string]any{"changeNote": "更正", "improvements": []any{imp("x", "2027-01-01", a2), imp("y", "2027-01-01", a2)}}},
	} {
		if r := sup.fails("BAD_USER_INPUT", publishOutcomesQ, fix(c.in)); r.field() != c.field {
			t.Errorf("%s: field %q, want %q", name, r.field(), c.field)
		}
	}
	var v2 struct{ PublishOutcomes outcomes }
	sup.ok(publishOutcomesQ, fix(map[string]any{"changeNote": "垃圾桶由两处改为三处", "improvements": []any{
		imp("增设三处分类垃圾桶", "2027-01-31", a2), imp("地下车库增设照明", "2027-03-31", nil)}}), &v2)
	o2 := v2.PublishOutcomes
	if o2.Version != 2 || o2.PreviousID == nil || *o2.PreviousID != o1.ID || len(o2.Versions) != 2 || !o2.Latest ||
		o2.Improvements[0].Status != "IN_PROGRESS" || len(o2.Improvements[0].History) != 2 || o2.Improvements[0].Text != "增设三处分类垃圾桶" ||
		o2.Improvements[1].Status != "PROMISED" {
		t.Fatalf("version 2: %+v", o2)
	}
	ownerA.ok(get, map[string]any{"id": o1.ID}, &read)
	if old := read.PublishedOutcome; old.Latest || old.Improvements[1].Text != "增设两处分类垃圾桶" || old.Improvements[1].Status != "IN_PROGRESS" || len(old.Versions) != 2 {
		t.Fatalf("version 1 after the correction: %+v", old)
	}
	if r := move(sup, a2, "DONE", nil); r.code() != "CONFLICT" {
		t.Fatalf("an action of the corrected version moves: %+v", r.Errors)
	}
	sup.ok(updateActionQ, map[string]any{"id": o2.Improvements[0].ID, "s": "DONE", "n": "三处已安装"}, nil)
	var l struct {
		PublishedOutcomes struct {
			TotalCount int
			Edges      []struct{ Node outcomes }
		}
	}
	ownerA.ok(`query($c:ID!){ publishedOutcomes(communityId:$c, first:5){ totalCount edges { node { `+outcomeFields+` } } } }`, map[string]any{"c": w.X.ID}, &l)
	if n := l.PublishedOutcomes; n.TotalCount != 1 || n.Edges[0].Node.ID != o2.ID || n.Edges[0].Node.Improvements[0].Status != "DONE" {
		t.Fatalf("the list after the correction: %+v", n)
	}
}

// sameInstant compares an RFC 3339 time from the API with t.
func sameInstant(s string, t time.Time) bool {
	at, err := time.Parse(time.RFC3339, s)
	return err == nil && at.Equal(t.Truncate(time.Second))
}
