package serviceorder

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
)

// The business rules of an order, written out step by step. "" as a target
// means the step keeps the state it was taken from.
var wantLegal = map[string]struct {
	from []Status
	to   Status
	why  string
}{
	"cancel":         {[]Status{Booked}, Cancelled, "the household cancels until staff confirm"},
	"staff_cancel":   {[]Status{Booked, Confirmed, InService}, Cancelled, "staff cancel, with a reason, any time before the service is done"},
	"confirm":        {[]Status{Booked}, Confirmed, "staff confirm a booking once, assigning someone"},
	"start":          {[]Status{Confirmed}, InService, "service starts once confirmed"},
	"laundry_return": {[]Status{InService}, "", "laundry is checked back while in service, before it is done"},
	"complete":       {[]Status{InService}, Done, "only a service under way can be completed"},
	"accept":         {[]Status{Done}, Accepted, "the owner accepts a done service"},
	"rate":           {[]Status{Accepted}, "", "an owner who accepted without rating may rate until the callback"},
	"callback":       {[]Status{Accepted}, CalledBack, "the callback follows the owner's acceptance"},
	"payment":        {[]Status{Done, Accepted, CalledBack}, "", "charges are final once done; payment is recorded from then on"},
}

func TestMachineEveryActionFromEveryState(t *testing.T) {
	var actions, want []string
	for a := range Machine {
		actions = append(actions, a)
	}
	for a := range wantLegal {
		want = append(want, a)
	}
	sort.Strings(actions)
	sort.Strings(want)
	if !slices.Equal(actions, want) {
		t.Fatalf("machine actions = %v, business rules cover %v", actions, want)
	}
	for _, action := range append(actions, "reopen", "") {
		rule := wantLegal[action]
		for _, from := range Statuses {
			to, err := Machine.Next(action, from)
			if slices.Contains(rule.from, from) {
				if err != nil || to != rule.to {
					t.Errorf("%s from %s: to %q, err %v; want %q: %s", action, from, to, err, rule.to, rule.why)
				}
				continue
			}
			if !errors.Is(err, lifecycle.ErrIllegal) || apperr.CodeOf(err) != apperr.Conflict || to != from {
				t.Errorf("%s from %s: to %q, err %v; want CONFLICT and no change: %s", action, from, to, err, rule.why)
			}
		}
	}
}

// Every illegal step from a real state is CONFLICT (or NOT_FOUND / FORBIDDEN
// for the wrong people) and changes nothing; the legal path runs through.
func TestIllegalStepsChangeNothing(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	illegal := lifecycle.ErrIllegal

	o := f.book(f.ownerA, f.ha, f.cleaning, 2)
	f.refused("start before confirm", o, illegal)(s.Start(ctx, f.butler, o.ID, nil))
	f.refused("complete before confirm", o, illegal)(s.Complete(ctx, f.butler, o.ID, nil, ""))
	f.refused("accept before done", o, illegal)(s.Accept(ctx, f.ownerA, o.ID, 5, ""))
	f.refused("rate before done", o, illegal)(s.Rate(ctx, f.ownerA, o.ID, 5, ""))
	f.refused("callback before anything", o, illegal)(s.Callback(ctx, f.butler, o.ID, true, ""))
	f.refused("payment before done", o, illegal)(s.SetPayment(ctx, f.butler, o.ID, PaidAtCounter, ""))
	f.refused("neighbour cancels", o, ErrNotFound)(s.Cancel(ctx, f.ownerB, o.ID, ""))
	f.refused("tenant cancels", o, apperr.ErrForbidden)(s.Cancel(ctx, f.tenantA, o.ID, ""))
	f.refused("butler of another community confirms", o, ErrNotFound)(s.Confirm(ctx, f.butlerY, o.ID, f.cleanerY.ID, nil, ""))
	f.refused("cleaner not on it confirms", o, ErrNotFound)(s.Confirm(ctx, f.cleaner, o.ID, f.cleaner.ID, nil, ""))
	f.refused("owner confirms", o, apperr.ErrForbidden)(s.Confirm(ctx, f.ownerA, o.ID, f.cleaner.ID, nil, ""))
	f.refused("assign staff of another community", o, ErrNotStaff)(s.Confirm(ctx, f.butler, o.ID, f.cleanerY.ID, nil, ""))

	o = f.ok("confirm", Confirmed)(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
	if o.HandlerID != f.butler.ID || o.AssigneeID != f.cleaner.ID || !slices.Equal(o.AssigneeHistory, []string{f.cleaner.ID}) {
		t.Fatalf("confirmed: handler %q assignee %q history %v", o.HandlerID, o.AssigneeID, o.AssigneeHistory)
	}
	f.refused("confirm twice", o, illegal)(s.Confirm(ctx, f.supervisor, o.ID, f.cleaner.ID, nil, ""))
	f.refused("owner cancels once confirmed", o, illegal)(s.Cancel(ctx, f.ownerA, o.ID, "不需要了"))
	f.refused("family cancels once confirmed", o, illegal)(s.Cancel(ctx, f.familyA, o.ID, ""))
	f.refused("staff cancels without a reason", o, apperr.Invalid("reason", "input.required"))(s.Cancel(ctx, f.butler, o.ID, " "))
	f.refused("laundry pick-up on a cleaning", o, ErrNotLaundry)(s.Start(ctx, f.cleaner, o.ID, &Pickup{PromisedReturnDate: "2026-11-26"}))

	o = f.ok("start", InService)(s.Start(ctx, f.cleaner, o.ID, nil))
	f.refused("start twice", o, illegal)(s.Start(ctx, f.cleaner, o.ID, nil))
	f.refused("laundry return on a cleaning", o, ErrNotLaundry)(s.RecordLaundryReturn(ctx, f.cleaner, o.ID, nil, ""))
	f.refused("owner completes", o, apperr.ErrForbidden)(s.Complete(ctx, f.ownerA, o.ID, nil, ""))
	o = f.ok("complete", Done)(s.Complete(ctx, f.cleaner, o.ID, []Extra{{Name: "清洁剂", AmountFen: 1500}}, "厨房重油污"))
	if base, extras := o.Charges(); base != 10000 || extras != 1500 {
		t.Fatalf("charges = %d + %d, want 10000 + 1500", base, extras)
	}
	f.refused("complete twice", o, illegal)(s.Complete(ctx, f.cleaner, o.ID, nil, ""))
	f.refused("staff cancel once done", o, illegal)(s.Cancel(ctx, f.supervisor, o.ID, "弄错了"))
	f.refused("cleaner accepts for the owner", o, apperr.ErrForbidden)(s.Accept(ctx, f.cleaner, o.ID, 5, ""))
	f.refused("tenant accepts", o, apperr.ErrForbidden)(s.Accept(ctx, f.tenantA, o.ID, 5, ""))
	f.refused("rating of 6", o, apperr.Invalid("rating", "serviceorder.bad_rating"))(s.Accept(ctx, f.ownerA, o.ID, 6, ""))
	f.refused("callback before acceptance", o, illegal)(s.Callback(ctx, f.butler, o.ID, true, ""))

	o = f.ok("accept without rating", Accepted)(s.Accept(ctx, f.familyA, o.ID, 0, ""))
	if o.Rated || o.AcceptedAt == nil || o.Acceptance.PersonID != f.familyA.ID {
		t.Fatalf("accepted: %+v", o.Acceptance)
	}
	f.refused("accept twice", o, illegal)(s.Accept(ctx, f.ownerA, o.ID, 5, ""))
	o = f.ok("rate later", Accepted)(s.Rate(ctx, f.ownerA, o.ID, 4, "干净"))
	if !o.Rated || o.Acceptance.Rating != 4 || o.Acceptance.Comment != "干净" {
		t.Fatalf("rated: %+v", o.Acceptance)
	}
	f.refused("rate twice", o, ErrAlreadyRated)(s.Rate(ctx, f.ownerA, o.ID, 5, ""))
	f.refused("cleaner calls back", o, apperr.ErrForbidden)(s.Callback(ctx, f.cleaner, o.ID, true, ""))
	f.refused("unsatisfied without notes", o, apperr.Invalid("notes", "input.required"))(s.Callback(ctx, f.butler, o.ID, false, ""))
	o = f.ok("callback", CalledBack)(s.Callback(ctx, f.butler, o.ID, false, "业主说窗台没擦"))
	if o.Callback == nil || o.Callback.Satisfied || o.Callback.Notes == "" {
		t.Fatalf("callback kept: %+v", o.Callback)
	}
	f.refused("callback twice", o, illegal)(s.Callback(ctx, f.supervisor, o.ID, true, ""))
	f.refused("rate after the callback", o, illegal)(s.Rate(ctx, f.ownerA, o.ID, 5, ""))
	if len(o.Timeline) != 7 {
		t.Fatalf("timeline has %d steps, want book confirm start complete accept rate callback", len(o.Timeline))
	}

	// Cancels: the household while booked; staff with a reason while in service.
	c := f.book(f.ownerA, f.ha, f.cleaning, 1)
	c = f.ok("owner cancels", Cancelled)(s.Cancel(ctx, f.ownerA, c.ID, ""))
	f.refused("cancel twice", c, illegal)(s.Cancel(ctx, f.ownerA, c.ID, ""))
	f.refused("confirm a cancelled order", c, illegal)(s.Confirm(ctx, f.butler, c.ID, f.cleaner.ID, nil, ""))
	d := f.book(f.familyA, f.ha, f.cleaning, 1)
	f.ok("confirm", Confirmed)(s.Confirm(ctx, f.supervisor, d.ID, f.cleaner.ID, nil, ""))
	f.ok("start", InService)(s.Start(ctx, f.supervisor, d.ID, nil))
	d = f.ok("staff cancel in service", Cancelled)(s.Cancel(ctx, f.supervisor, d.ID, "业主临时外出"))
	if d.CancelReason != "业主临时外出" {
		t.Fatalf("reason = %q", d.CancelReason)
	}
}

// Eight handlers confirm the same booking at once: exactly one wins, and
// the order carries the winner's assignment.
func TestConcurrentConfirmsHaveOneWinner(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 3; round++ {
		o := f.book(f.ownerA, f.ha, f.cleaning, 1)
		butlers := make([]*access.Caller, 8)
		for i := range butlers {
			butlers[i] = f.staffMember(access.Butler, f.x.ID)
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, len(butlers))
		)
		for i, b := range butlers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.svc.Confirm(f.ctx, b, o.ID, f.cleaner.ID, nil, fmt.Sprint(i))
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: %d and %d both confirmed", round, winner, i)
				}
				winner = i
			case apperr.CodeOf(err) != apperr.Conflict:
				t.Errorf("round %d: loser %d: %v, want CONFLICT", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody confirmed: %v", round, errs)
		}
		got, err := f.svc.byID(f.ctx, o.ID)
		f.must(err)
		if got.Status != Confirmed || got.HandlerID != butlers[winner].ID || got.Version != o.Version+1 || len(got.Timeline) != 2 {
			t.Fatalf("round %d: %s v%d handler %q (winner %q), %d steps", round, got.Status, got.Version, got.HandlerID, butlers[winner].ID, len(got.Timeline))
		}
	}
}
