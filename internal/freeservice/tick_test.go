package freeservice

import (
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/notify"
)

// The evening before, at the close time, the owners and family of booked
// households get one reminder: however often, and from however many
// servers, the tick runs. Unbooked households and tenants get none.
func TestReminderTickIsIdempotent(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(5)
	family := f.member(f.ha, access.Family, "13800000011")
	tenant := f.member(f.ha, access.Tenant, "13800000012")
	if _, err := f.svc.Book(f.ctx, f.ownerA, x.ID, slots[0].ID, f.ha.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Book(f.ctx, f.ownerB, x.ID, slots[1].ID, f.hb.ID); err != nil {
		t.Fatal(err)
	}
	unbooked, unbookedOwner := f.household(f.xb1)
	_ = unbooked
	reminders := func(c *access.Caller) int {
		t.Helper()
		list, err := f.engine.Latest(f.ctx, c.ID, 50)
		f.must(err)
		n := 0
		for _, m := range list {
			if m.Kind == notify.ServiceOrderUpdate && m.Data["campaignId"] == x.ID {
				n++
			}
		}
		return n
	}

	// Before the close: nothing.
	closes := slots[0].ClosesAt
	f.set(closes.Add(-time.Minute))
	f.must(f.svc.Tick(f.ctx, f.now()))
	if n := reminders(f.ownerA); n != 0 {
		t.Fatalf("reminded %d times before the close", n)
	}
	// At the close, two servers tick at once, then again.
	f.set(closes)
	other := f.service()
	var wg sync.WaitGroup
	for _, s := range []*Service{f.svc, other, f.svc, other} {
		wg.Go(func() {
			if err := s.Tick(f.ctx, f.now()); err != nil {
				t.Errorf("tick: %v", err)
			}
		})
	}
	wg.Wait()
	f.must(f.svc.Tick(f.ctx, f.now().Add(time.Hour)))
	for name, c := range map[string]*access.Caller{"owner A": f.ownerA, "family A": family, "owner B": f.ownerB} {
		if n := reminders(c); n != 1 {
			t.Errorf("%s reminded %d times, want 1", name, n)
		}
	}
	for name, c := range map[string]*access.Caller{"tenant A": tenant, "unbooked owner": unbookedOwner, "owner C": f.ownerC} {
		if n := reminders(c); n != 0 {
			t.Errorf("%s reminded %d times, want 0", name, n)
		}
	}
	list, err := f.engine.Latest(f.ctx, f.ownerA.ID, 1)
	f.must(err)
	if want := "服务进度：明日上门"; list[0].Title != want {
		t.Errorf("title %q, want %q", list[0].Title, want)
	}
	if want := "「燃气安全检查」将于 11月25日 09:00-11:00 上门服务，请安排家中有人。如需改约请联系管家。"; list[0].Body != want {
		t.Errorf("body %q, want %q", list[0].Body, want)
	}
	var sl Slot
	f.must(f.db.Collection("freeservice_slots").FindOne(f.ctx, bson.D{{Key: "_id", Value: slots[0].ID}}).Decode(&sl))
	if !sl.Reminded {
		t.Error("slot not marked reminded")
	}
}

// After the last visit day the next cycle opens by itself, N months on,
// with fresh slots to book; after the last cycle the campaign ends.
func TestCyclesRollOver(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(5, func(in *CreateInput) {
		in.Cycles = 2
		in.Days[0].Date = "2026-11-30" // the 30th: next cycle's day is 2027-01-30
	})
	if _, err := f.svc.Book(f.ctx, f.ownerA, x.ID, slots[0].ID, f.ha.ID); err != nil {
		t.Fatal(err)
	}
	f.set(x.CycleEndsAt.Add(-time.Minute))
	f.must(f.svc.Tick(f.ctx, f.now()))
	if got, _ := f.svc.Get(f.ctx, f.supervisor, x.ID); got.CurrentCycle != 1 {
		t.Fatalf("rolled over before the cycle ended: %d", got.CurrentCycle)
	}
	f.set(x.CycleEndsAt)
	f.must(f.svc.Tick(f.ctx, f.now()))
	f.must(f.service().Tick(f.ctx, f.now())) // a second server changes nothing
	got, err := f.svc.Get(f.ctx, f.supervisor, x.ID)
	f.must(err)
	next, err := f.svc.Slots(f.ctx, f.ownerA, x.ID)
	f.must(err)
	if got.CurrentCycle != 2 || len(next) != 3 || next[0].Date != "2027-01-25" || next[2].Date != "2027-01-30" || next[0].Booked != 0 {
		t.Fatalf("cycle %d slots %+v", got.CurrentCycle, next)
	}
	// A new cycle, a new booking (the last one stays with cycle 1).
	if v, err := f.svc.Book(f.ctx, f.ownerA, x.ID, next[0].ID, f.ha.ID); err != nil || v.Cycle != 2 {
		t.Fatalf("booking cycle 2: %v", err)
	}
	if _, err := f.svc.Book(f.ctx, f.ownerA, x.ID, slots[1].ID, f.ha.ID); err == nil {
		t.Fatal("booked a slot of the past cycle")
	}
	f.set(got.CycleEndsAt)
	f.must(f.svc.Tick(f.ctx, f.now()))
	if got, _ := f.svc.Get(f.ctx, f.supervisor, x.ID); got.Status != Ended || got.CurrentCycle != 2 {
		t.Fatalf("after the last cycle: %s cycle %d", got.Status, got.CurrentCycle)
	}
	if _, err := f.svc.Get(f.ctx, f.ownerA, x.ID); err == nil {
		t.Fatal("residents still see an ended campaign")
	}
}

func TestShiftDateKeepsTheMonth(t *testing.T) {
	for _, tc := range []struct {
		date   string
		months int
		want   string
	}{
		{"2026-11-25", 2, "2027-01-25"},
		{"2026-12-31", 2, "2027-02-28"},
		{"2027-12-31", 2, "2028-02-29"},
		{"2026-08-31", 1, "2026-09-30"},
		{"2026-01-15", 0, "2026-01-15"},
	} {
		if got := shiftDate(tc.date, tc.months); got != tc.want {
			t.Errorf("%s + %d months = %s, want %s", tc.date, tc.months, got, tc.want)
		}
	}
}
