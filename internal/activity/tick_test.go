package activity

import (
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
)

// tickTwice runs Tick on two servers at once, twice.
func (f *fixture) tickTwice() {
	f.t.Helper()
	other := f.service()
	var wg sync.WaitGroup
	for _, s := range []*Service{f.svc, other, f.svc, other} {
		wg.Go(func() {
			if err := s.Tick(f.ctx, f.now()); err != nil {
				f.t.Errorf("tick: %v", err)
			}
		})
	}
	wg.Wait()
}

// Publishing tells everyone living in the event's buildings (owners,
// family, tenants) exactly once: also when the fan-out is cut short and
// two servers' Ticks complete it.
func TestPublishedNoticeOnce(t *testing.T) {
	f := newFixture(t)
	family := f.member(f.ha, access.Family, "13800000041")
	tenant := f.member(f.ha, access.Tenant, "13800000042")
	ev := f.event(10, 2)
	want := map[string]int{"A": 1, "family": 1, "tenant": 1, "B": 1, "C (building 2)": 0, "Y": 0}
	people := map[string]*access.Caller{"A": f.ownerA, "family": family, "tenant": tenant, "B": f.ownerB, "C (building 2)": f.ownerC, "Y": f.ownerY}
	check := func(when string) {
		t.Helper()
		for name, c := range people {
			if n := f.notices(c, ev, "published"); n != want[name] {
				t.Errorf("%s: %s got %d notices, want %d", when, name, n, want[name])
			}
		}
	}
	check("after publishing")
	// A fan-out cut short: the event is left unannounced, and later two
	// servers tick.
	_, err := f.db.Collection("activity_events").UpdateOne(f.ctx, bson.D{{Key: "_id", Value: ev.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "announced", Value: false}}}})
	f.must(err)
	f.set(start.Add(2 * time.Minute))
	f.tickTwice()
	check("after resuming")
	got, err := f.svc.Get(f.ctx, f.butler, ev.ID)
	f.must(err)
	if !got.Announced {
		t.Fatal("the fan-out is not marked complete")
	}
	list, err := f.engine.Latest(f.ctx, f.ownerA.ID, 1)
	f.must(err)
	if list[0].Title != "活动提醒：新活动「垃圾分类亲子课堂」" {
		t.Fatalf("title %q", list[0].Title)
	}
}

// The reminder the evening before, the end of the event and the feedback
// request each happen once however many servers tick, and reach the right
// households: confirmed ones for the reminder (not those waiting), those
// that checked in for the feedback.
func TestTickIsIdempotentAcrossServers(t *testing.T) {
	f := newFixture(t)
	ev := f.event(3, 2)
	a, err := f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 2)
	f.must(err)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 1)
	f.must(err)
	hw, ownerW := f.household(f.xb1)
	_, err = f.svc.SignUpFor(f.ctx, ownerW, ev.ID, hw.ID, 2)
	f.must(err)

	f.set(at(27, 17, 59))
	f.tickTwice()
	if n := f.notices(f.ownerA, ev, "reminder"); n != 0 {
		t.Fatalf("reminded %d times before 18:00 the day before", n)
	}
	f.set(at(27, 18, 0))
	f.tickTwice()
	f.tickTwice()
	for name, c := range map[string]*access.Caller{"A": f.ownerA, "B": f.ownerB, "W (waiting)": ownerW} {
		want := 1
		if c == ownerW {
			want = 0
		}
		if n := f.notices(c, ev, "reminder"); n != want {
			t.Errorf("%s reminded %d times, want %d", name, n, want)
		}
	}

	f.set(at(28, 9, 0))
	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, a.CheckInCode)
	f.must(err)
	f.set(at(28, 11, 0))
	f.tickTwice()
	f.tickTwice()
	got, err := f.svc.Get(f.ctx, f.butler, ev.ID)
	f.must(err)
	if got.Status != Ended || !got.FeedbackAsked {
		t.Fatalf("after the end: %s, feedback asked %v", got.Status, got.FeedbackAsked)
	}
	ends := 0
	for _, e := range got.Timeline {
		if e.Action == "end" {
			ends++
		}
	}
	if ends != 1 {
		t.Fatalf("%d end steps", ends)
	}
	for name, c := range map[string]*access.Caller{"A (came)": f.ownerA, "B (no-show)": f.ownerB, "W (waiting)": ownerW} {
		want := 0
		if c == f.ownerA {
			want = 1
		}
		if n := f.notices(c, ev, "feedback"); n != want {
			t.Errorf("%s asked for feedback %d times, want %d", name, n, want)
		}
	}
}

// A walker that died leaves its mark: Tick walks the waiting list.
func TestTickWalksMarkedWaitingLists(t *testing.T) {
	f := newFixture(t)
	ev := f.event(2, 2)
	_, err := f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 2)
	f.must(err)
	b, err := f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 2)
	f.must(err)
	// A's places go, as by a cancellation whose walker died after the
	// release: only the mark is left.
	a, err := f.svc.signUp(f.ctx, signUpID(ev.ID, f.ha.ID))
	f.must(err)
	f.svc.release(f.ctx, ev.ID, a.Hold)
	_, err = f.db.Collection("activity_signups").UpdateOne(f.ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: SignUpCancelled}}}})
	f.must(err)
	f.must(f.svc.mark(f.ctx, ev.ID))
	f.tickTwice()
	got, err := f.svc.signUp(f.ctx, b.ID)
	f.must(err)
	if got.Status != Confirmed || f.notices(f.ownerB, ev, "promoted") != 1 {
		t.Fatalf("B after the tick: %s", got.Status)
	}
	if n, err := f.svc.locks.CountDocuments(f.ctx, bson.D{}); err != nil || n != 0 {
		t.Fatalf("%d locks and marks left", n)
	}
}
