package activity

import (
	"errors"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
)

// 50 households sign up at once for 20 places, parties of 1 and 2 (25
// each): exactly 20 places are taken, each confirmed sign-up holds exactly
// its party's places (none above the capacity), and everyone else waits in
// a line numbered 1..n. With 25 parties of one, a free place would have
// been taken by a waiting party of one, so exactly 20 is the only answer.
func TestConcurrentSignUpsNeverExceedCapacity(t *testing.T) {
	f := newFixture(t)
	ev := f.event(20, 2)
	type member struct {
		h     *household.Household
		owner *access.Caller
	}
	var ms []member
	for range 50 {
		h, o := f.household(f.xb1)
		ms = append(ms, member{h, o})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ms))
	for i, m := range ms {
		wg.Go(func() { _, errs[i] = f.svc.SignUpFor(f.ctx, m.owner, ev.ID, m.h.ID, 1+i%2) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	sus := f.signUps(ev)
	holds, highest := f.held(ev)
	confirmedPeople, waiting := 0, 0
	for _, su := range sus {
		switch su.Status {
		case Confirmed:
			confirmedPeople += su.PartySize
			if holds[su.Hold] != su.PartySize {
				t.Errorf("sign-up of %d holds %d places", su.PartySize, holds[su.Hold])
			}
			delete(holds, su.Hold)
		case Waiting:
			waiting++
		default:
			t.Errorf("sign-up %s is %s", su.ID, su.Status)
		}
	}
	if len(sus) != 50 || confirmedPeople != 20 || highest > 20 || len(holds) != 0 {
		t.Fatalf("%d sign-ups, %d people confirmed, highest place %d, places held by no confirmed sign-up %v",
			len(sus), confirmedPeople, highest, holds)
	}
	got, err := f.svc.Get(f.ctx, f.butler, ev.ID)
	f.must(err)
	if got.PlacesTaken != 20 || got.WaitingCount != waiting {
		t.Fatalf("event reads %d taken, %d waiting; want 20, %d", got.PlacesTaken, got.WaitingCount, waiting)
	}
	a, err := f.svc.Attendance(f.ctx, f.supervisor, ev.ID)
	f.must(err)
	for i, w := range a.WaitingList {
		if w.Position != i+1 || (i > 0 && w.Ticket < a.WaitingList[i-1].Ticket) {
			t.Fatalf("waiting list %d: position %d ticket %d", i, w.Position, w.Ticket)
		}
	}
}

// The waiting list moves up in order; a party that does not fit the free
// places is skipped (and keeps its place at the head of the line) while a
// smaller party behind it that fits moves up, and each household moved up
// is told so.
func TestWaitingListOrderAndPromotion(t *testing.T) {
	f := newFixture(t)
	ev := f.event(4, 3)
	hd, ownerD := f.household(f.xb1)
	sign := func(c *access.Caller, h *household.Household, n int) *SignUp {
		t.Helper()
		su, err := f.svc.SignUpFor(f.ctx, c, ev.ID, h.ID, n)
		f.must(err)
		return su
	}
	if su := sign(f.ownerA, f.ha, 3); su.Status != Confirmed || su.Position != 0 || len(su.CheckInCode) != CodeLength {
		t.Fatalf("A: %+v", su)
	}
	// B (2) does not fit the one place left: it waits, first in line.
	if su := sign(f.ownerB, f.hb, 2); su.Status != Waiting || su.Position != 1 {
		t.Fatalf("B: %s position %d", su.Status, su.Position)
	}
	// C (1) joins the line behind B, and moves up at once past B, who
	// still does not fit.
	hc2, ownerC2 := f.household(f.xb1)
	if su := sign(ownerC2, hc2, 1); su.Status != Confirmed {
		t.Fatalf("C: %s", su.Status)
	}
	if su := sign(ownerD, hd, 2); su.Status != Waiting || su.Position != 2 {
		t.Fatalf("D: %s position %d", su.Status, su.Position)
	}
	if n := f.notices(ownerC2, ev, "promoted"); n != 0 {
		t.Fatalf("C was told %d times of a promotion it saw in its own answer", n)
	}

	// A cancels: B, first in line, moves up into 2 of the 3 places; D (2)
	// does not fit the one left and is now first in line.
	if _, err := f.svc.CancelSignUp(f.ctx, f.ownerA, ev.ID, f.ha.ID); err != nil {
		t.Fatal(err)
	}
	mine := func(c *access.Caller) *SignUp {
		t.Helper()
		pg, err := f.svc.MySignUps(f.ctx, c, pageOf(10))
		f.must(err)
		if len(pg.Items) != 1 {
			t.Fatalf("%d sign-ups", len(pg.Items))
		}
		return pg.Items[0]
	}
	if b := mine(f.ownerB); b.Status != Confirmed || CodeFor(f.ownerB, b) == "" {
		t.Fatalf("B after A cancelled: %s code %q", b.Status, CodeFor(f.ownerB, b))
	}
	if d := mine(ownerD); d.Status != Waiting || d.Position != 1 || CodeFor(ownerD, d) != "" {
		t.Fatalf("D after A cancelled: %s position %d", d.Status, d.Position)
	}
	if f.notices(f.ownerB, ev, "promoted") != 1 || f.notices(ownerD, ev, "promoted") != 0 {
		t.Fatalf("promotion notices: B %d D %d", f.notices(f.ownerB, ev, "promoted"), f.notices(ownerD, ev, "promoted"))
	}
	// C cancels: two places, and D fits.
	if _, err := f.svc.CancelSignUp(f.ctx, ownerC2, ev.ID, hc2.ID); err != nil {
		t.Fatal(err)
	}
	if d := mine(ownerD); d.Status != Confirmed || f.notices(ownerD, ev, "promoted") != 1 {
		t.Fatalf("D after C cancelled: %s", d.Status)
	}
	holds, _ := f.held(ev)
	if len(holds) != 2 {
		t.Fatalf("places held by %d sign-ups, want B and D", len(holds))
	}
	// A signs up again: at the back of the line (one place left, A wants 3).
	if su := sign(f.ownerA, f.ha, 3); su.Status != Waiting || su.Position != 1 {
		t.Fatalf("A again: %s position %d", su.Status, su.Position)
	}
}

// Sign-ups close at the deadline (community time), and the rules of who
// may sign up which household hold.
func TestSignUpRulesAndDeadline(t *testing.T) {
	f := newFixture(t)
	ev := f.event(10, 3)
	tenant := f.member(f.ha, access.Tenant, "13800000021")
	family := f.member(f.hb, access.Family, "13800000022")
	_, err := f.svc.SignUpFor(f.ctx, f.ownerY, ev.ID, f.hy.ID, 1)
	wantCode(t, "a resident of Y", err, apperr.NotFound)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.hb.ID, 1)
	wantCode(t, "A for a neighbour", err, apperr.NotFound)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerC, ev.ID, f.hc.ID, 1)
	wantCode(t, "C of building 2 (not in the audience)", err, apperr.NotFound)
	_, err = f.svc.SignUpFor(f.ctx, tenant, ev.ID, f.ha.ID, 1)
	wantCode(t, "a tenant", err, apperr.Forbidden)
	_, err = f.svc.SignUpFor(f.ctx, f.butler, ev.ID, f.ha.ID, 1)
	wantCode(t, "staff", err, apperr.Forbidden)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 4)
	wantCode(t, "a party over the limit", err, apperr.BadUserInput)
	if e, _ := apperr.As(err); e.Field != "partySize" {
		t.Fatalf("field %q", e.Field)
	}
	// A draft is nobody's to sign up for.
	draft := f.draft()
	_, err = f.svc.SignUpFor(f.ctx, f.ownerA, draft.ID, f.ha.ID, 1)
	wantCode(t, "a draft", err, apperr.NotFound)

	f.set(at(27, 11, 59).Add(59 * time.Second))
	if _, err := f.svc.SignUpFor(f.ctx, family, ev.ID, f.hb.ID, 2); err != nil {
		t.Fatalf("family member a second before the deadline: %v", err)
	}
	_, err = f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 1)
	wantCode(t, "the household again", err, apperr.Conflict)
	f.set(at(27, 12, 0))
	_, err = f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 1)
	wantCode(t, "at the deadline", err, apperr.Conflict)
	if !errors.Is(err, ErrSignUpsClosed) || apperr.Message(err.(*apperr.Error), apperr.ZH) != "报名已于 2026-11-27 12:00 截止" {
		t.Fatalf("deadline error %v", err)
	}
	// A household may still cancel until the start, and nobody moves up
	// after it.
	if _, err := f.svc.CancelSignUp(f.ctx, f.ownerB, ev.ID, f.hb.ID); err != nil {
		t.Fatal(err)
	}
	f.set(at(28, 9, 0))
	_, err = f.svc.CancelSignUp(f.ctx, f.ownerB, ev.ID, f.hb.ID)
	wantCode(t, "cancelling after the start", err, apperr.Conflict)
}

// The capacity of a published event cannot drop below the places taken;
// places above a lower capacity are closed (their holders moved down), and
// a larger capacity moves waiting households up.
func TestCapacityChanges(t *testing.T) {
	f := newFixture(t)
	ev := f.event(5, 2)
	hd, ownerD := f.household(f.xb1)
	for _, s := range []struct {
		c *access.Caller
		h *household.Household
	}{{f.ownerA, f.ha}, {f.ownerB, f.hb}} {
		if _, err := f.svc.SignUpFor(f.ctx, s.c, ev.ID, s.h.ID, 2); err != nil {
			t.Fatal(err)
		}
	}
	capacity := func(n int) error {
		_, err := f.svc.Update(f.ctx, f.supervisor, ev.ID, Input{Capacity: &n})
		return err
	}
	err := capacity(3)
	wantCode(t, "below the places taken", err, apperr.Conflict)
	if !errors.Is(err, ErrBelowTaken) {
		t.Fatalf("lowering below 4 taken: %v", err)
	}
	// A gives back places 1-2: B holds 3-4.
	if _, err := f.svc.CancelSignUp(f.ctx, f.ownerA, ev.ID, f.ha.ID); err != nil {
		t.Fatal(err)
	}
	f.must(capacity(2))
	if _, highest := f.held(ev); highest > 2 {
		t.Fatalf("B still holds place %d", highest)
	}
	// Full now: D waits, and moves up when the capacity grows again.
	su, err := f.svc.SignUpFor(f.ctx, ownerD, ev.ID, hd.ID, 2)
	f.must(err)
	if su.Status != Waiting {
		t.Fatalf("D: %s", su.Status)
	}
	f.must(capacity(4))
	got, err := f.svc.Get(f.ctx, ownerD, ev.ID)
	f.must(err)
	if got.PlacesTaken != 4 || len(got.MySignUps) != 1 || got.MySignUps[0].Status != Confirmed {
		t.Fatalf("after growing: %d taken, mine %+v", got.PlacesTaken, got.MySignUps)
	}
	if _, highest := f.held(ev); highest > 4 {
		t.Fatalf("place %d taken", highest)
	}
}
