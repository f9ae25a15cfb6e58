package renovation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// approved applies and approves a renovation starting on start.
func (f *fixture) approved(start string) *Renovation {
	f.t.Helper()
	in := application()
	in.StartDate = start
	r, err := f.svc.Apply(ctx, f.ownerA, f.ha.ID, in)
	f.must(err)
	r, err = f.svc.Review(ctx, f.supervisor, r.ID, true, nil, "")
	f.must(err)
	return r
}

// The works start on the start date in the community's time, once, however
// many servers tick.
func TestTickStartsOnTheStartDate(t *testing.T) {
	f := newFixture(t)
	r := f.approved("2026-11-23")
	// 23:59 on the 22nd in Shanghai (15:59 UTC): not yet.
	f.clock.Set(time.Date(2026, 11, 22, 15, 59, 0, 0, time.UTC))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	if got, _ := f.svc.byID(ctx, r.ID); got.Status != Approved {
		t.Fatalf("started before its date: %s", got.Status)
	}
	// 00:01 on the 23rd in Shanghai, still the 22nd in UTC: due. Three
	// servers tick at once.
	f.clock.Set(time.Date(2026, 11, 22, 16, 1, 0, 0, time.UTC))
	servers := []*Service{f.svc, NewService(f.cfg), NewService(f.cfg)}
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func(s *Service) {
			defer wg.Done()
			if err := s.Tick(ctx, f.clock.Now()); err != nil {
				t.Error(err)
			}
		}(s)
	}
	wg.Wait()
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	got, err := f.svc.byID(ctx, r.ID)
	f.must(err)
	starts := 0
	for _, e := range got.Timeline {
		if e.Action == "start" {
			starts++
		}
	}
	if got.Status != InProgress || got.Version != r.Version+1 || starts != 1 || got.StartedAt == nil {
		t.Fatalf("after the ticks: %s v%d (%d starts)", got.Status, got.Version, starts)
	}
}

// Completion orders the free cleaning: pending while no orders service is
// wired, made by the next tick once it is, never twice.
func TestCompletionOrdersFreeCleaning(t *testing.T) {
	f := newFixture(t)
	complete := func(s *Service) *Renovation {
		t.Helper()
		r := f.approved("2026-11-22")
		_, err := s.Inspect(ctx, f.guard, r.ID, InspectionInput{Result: OK})
		f.must(err)
		r, err = s.Complete(ctx, f.butler, r.ID, "验收合格")
		f.must(err)
		return r
	}
	// Not wired: the renovation says the cleaning is pending.
	pending := complete(f.svc)
	if !pending.CleaningPending || pending.CleaningOrderID != "" || pending.Status != Completed {
		t.Fatalf("without orders: %+v", pending)
	}
	f.must(f.svc.Tick(ctx, f.clock.Now())) // nothing to call: no error

	// Wired: completion makes the order at once.
	orders := &cleaningOrders{}
	cfg := f.cfg
	cfg.Cleaning = orders
	wired := NewService(cfg)
	done := complete(wired)
	if done.CleaningPending || done.CleaningOrderID != "order-1" {
		t.Fatalf("with orders: pending %v order %q", done.CleaningPending, done.CleaningOrderID)
	}
	if len(orders.calls) != 1 || orders.calls[0] != f.ha.ID+" renovation:"+done.ID {
		t.Fatalf("calls: %v", orders.calls)
	}
	// The earlier one is made by the tick, once (a minute on: a fresh
	// completion is left to its own request).
	f.must(wired.Tick(ctx, f.clock.Now()))
	if len(orders.calls) != 1 {
		t.Fatalf("a fresh completion retried at once: %v", orders.calls)
	}
	f.clock.Advance(2 * time.Minute)
	f.must(wired.Tick(ctx, f.clock.Now()))
	f.must(wired.Tick(ctx, f.clock.Now()))
	got, err := wired.Get(ctx, f.ownerA, pending.ID)
	f.must(err)
	if got.CleaningPending || got.CleaningOrderID != "order-2" || len(orders.calls) != 2 {
		t.Fatalf("after the tick: pending %v order %q calls %v", got.CleaningPending, got.CleaningOrderID, orders.calls)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.Action != "cleaning_ordered" || last.Note != "order-2" {
		t.Errorf("timeline ends with %+v", last)
	}
	// A failing orders service leaves it pending, and the step is stored.
	cfg.Cleaning = failingOrders{}
	r := complete(NewService(cfg))
	if !r.CleaningPending || r.Status != Completed {
		t.Fatalf("with failing orders: %+v", r)
	}
}

type failingOrders struct{}

func (failingOrders) CreateFreeCleaning(_ context.Context, _, _, _ string) (string, error) {
	return "", errors.New("orders are down")
}

// An owner asks for more time; a supervisor refuses or approves.
func TestExtensions(t *testing.T) {
	f := newFixture(t)
	r := f.approved("2026-11-23")
	if _, err := f.svc.RequestExtension(ctx, f.ownerA, r.ID, r.EndDate, "再给几天"); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("extension to the same end date: %v", err)
	}
	if _, err := f.svc.RequestExtension(ctx, f.ownerA, r.ID, "2027-12-01", "再给一年"); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("extension beyond the total limit: %v", err)
	}
	r, err := f.svc.RequestExtension(ctx, f.ownerA, r.ID, "2027-02-01", "材料延误")
	f.must(err)
	if _, err := f.svc.DecideExtension(ctx, f.butler, r.ID, true, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("butler decides: %v", err)
	}
	r, err = f.svc.DecideExtension(ctx, f.supervisor, r.ID, false, "春节前必须完工")
	f.must(err)
	if r.EndDate != "2027-01-20" || r.Extensions[0].Status != ExtensionRefused || r.Extensions[0].DecidedBy != f.supervisor.ID {
		t.Fatalf("refused: end %s, %+v", r.EndDate, r.Extensions)
	}
	r, err = f.svc.RequestExtension(ctx, f.ownerA, r.ID, "2027-01-25", "只要五天")
	f.must(err)
	r, err = f.svc.DecideExtension(ctx, f.supervisor, r.ID, true, "")
	f.must(err)
	if _, p := r.PendingExtension(); r.EndDate != "2027-01-25" || len(r.Extensions) != 2 || r.Extensions[1].Status != ExtensionApproved ||
		r.Extensions[1].PreviousEndDate != "2027-01-20" || p != nil || r.Status != Approved {
		t.Fatalf("approved: end %s, %+v", r.EndDate, r.Extensions)
	}
}

func TestIDCard(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"11010519491231002X", true},
		{"11010519491231002x", true},
		{"110105194912310021", false}, // wrong check character
		{"11010519491331002X", false}, // month 13
		{"1101051949123100", false},
		{"11010519491231002Y", false},
	} {
		_, err := idCard("f", tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.in, err)
		}
	}
}
