package activity

import (
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// Who may create and run events, and what an edit of a published event may
// change: its buildings stay, the households signed up hear of a new time,
// and nothing changes once it has started.
func TestCreateAndEditRules(t *testing.T) {
	f := newFixture(t)
	title, place, capacity, party := "健康讲座", "会所", 10, 2
	starts, ends, deadline := at(28, 14, 0), at(28, 16, 0), at(28, 10, 0)
	in := Input{CommunityID: f.x.ID, Title: &title, Place: &place, StartsAt: &starts, EndsAt: &ends, SignUpDeadline: &deadline,
		Capacity: &capacity, MaxPartySize: &party}
	_, err := f.svc.Create(f.ctx, f.ownerA, in)
	wantCode(t, "an owner", err, apperr.Forbidden)
	_, err = f.svc.Create(f.ctx, f.engineer, in)
	wantCode(t, "an engineer", err, apperr.Forbidden)
	_, err = f.svc.Create(f.ctx, f.supervisorY, in)
	wantCode(t, "a supervisor of Y", err, apperr.NotFound)
	for field, mod := range map[string]func(*Input){
		"input.endsAt":         func(in *Input) { e := starts.Add(-time.Hour); in.EndsAt = &e },
		"input.startsAt":       func(in *Input) { s := start.Add(-time.Hour); in.StartsAt = &s },
		"input.signUpDeadline": func(in *Input) { d := starts.Add(time.Minute); in.SignUpDeadline = &d },
		"input.capacity":       func(in *Input) { c := 0; in.Capacity = &c },
		"input.maxPartySize":   func(in *Input) { p := 11; in.MaxPartySize = &p },
		"input.title":          func(in *Input) { s := " "; in.Title = &s },
		"input.buildingIds":    func(in *Input) { in.BuildingIDs = &[]string{f.xb1.ID, f.hy.BuildingID} },
		"input.audience":       func(in *Input) { in.Audience = []Tag{"PETS"} },
	} {
		bad := in
		mod(&bad)
		_, err := f.svc.Create(f.ctx, f.supervisor, bad)
		if e, ok := apperr.As(err); !ok || e.Field != field {
			t.Errorf("bad %s: %v", field, err)
		}
	}
	ev, err := f.svc.Create(f.ctx, f.supervisor, in)
	f.must(err)
	if !ev.AllBuildings || len(ev.Audience) != 1 || ev.Audience[0] != ForAll || !ev.RemindAt.Equal(at(27, 18, 0)) {
		t.Fatalf("created %+v", ev)
	}
	ev, err = f.svc.Publish(f.ctx, f.butler, ev.ID)
	f.must(err)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerC, ev.ID, f.hc.ID, 2)
	f.must(err)

	_, err = f.svc.Update(f.ctx, f.ownerC, ev.ID, Input{Title: &title})
	wantCode(t, "an owner editing", err, apperr.Forbidden)
	_, err = f.svc.Update(f.ctx, f.supervisor, ev.ID, Input{BuildingIDs: &[]string{f.xb1.ID}})
	wantCode(t, "narrowing a published event", err, apperr.BadUserInput)
	later, laterEnd := at(28, 15, 0), at(28, 17, 0)
	got, err := f.svc.Update(f.ctx, f.supervisor, ev.ID, Input{StartsAt: &later, EndsAt: &laterEnd})
	f.must(err)
	if !got.StartsAt.Equal(later) || got.Version != ev.Version+1 || got.PlacesTaken != 2 {
		t.Fatalf("edited %+v", got)
	}
	if n := f.notices(f.ownerC, ev, "changed"); n != 1 {
		t.Fatalf("C told of the new time %d times", n)
	}
	if n := f.notices(f.ownerA, ev, "changed"); n != 0 {
		t.Fatalf("A (not signed up) told of the new time %d times", n)
	}
	f.set(at(28, 15, 0))
	_, err = f.svc.Update(f.ctx, f.supervisor, ev.ID, Input{Title: &title})
	wantCode(t, "editing after the start", err, apperr.Conflict)
}

// Cancelling tells the households signed up (confirmed and waiting), once;
// the event stays visible to its residents as CANCELLED and takes no more
// sign-ups; an event that is over cannot be cancelled.
func TestCancelEvent(t *testing.T) {
	f := newFixture(t)
	ev := f.event(2, 2)
	_, err := f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 2)
	f.must(err)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 1)
	f.must(err)
	_, err = f.svc.Cancel(f.ctx, f.butler, ev.ID, " ")
	wantCode(t, "without a reason", err, apperr.BadUserInput)
	_, err = f.svc.Cancel(f.ctx, f.ownerA, ev.ID, "下雨")
	wantCode(t, "an owner", err, apperr.Forbidden)
	got, err := f.svc.Cancel(f.ctx, f.butler, ev.ID, "暴雨预警，为安全起见取消")
	f.must(err)
	if got.Status != Cancelled || got.CancelReason != "暴雨预警，为安全起见取消" || !got.Announced {
		t.Fatalf("cancelled %+v", got)
	}
	f.set(start.Add(5 * time.Minute))
	f.tickTwice()
	for name, c := range map[string]int{"A": f.notices(f.ownerA, ev, "cancelled"), "B": f.notices(f.ownerB, ev, "cancelled"),
		"C": f.notices(f.ownerC, ev, "cancelled")} {
		want := 1
		if name == "C" {
			want = 0
		}
		if c != want {
			t.Errorf("%s told %d times", name, c)
		}
	}
	seen, err := f.svc.Get(f.ctx, f.ownerB, ev.ID)
	f.must(err)
	if seen.Status != Cancelled || len(seen.MySignUps) != 1 {
		t.Fatalf("B sees %+v", seen)
	}
	hd, ownerD := f.household(f.xb1)
	_, err = f.svc.SignUpFor(f.ctx, ownerD, ev.ID, hd.ID, 1)
	wantCode(t, "signing up for a cancelled event", err, apperr.Conflict)

	done := f.event(5, 2)
	f.set(at(28, 12, 0))
	if _, err = f.svc.Cancel(f.ctx, f.butler, done.ID, "补录"); err == nil || apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("cancelling an event that is over: %v", err)
	}
}
