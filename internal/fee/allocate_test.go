package fee

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// insertBill stores a bill as bill generation would, for the allocation tests.
func insertBill(t *testing.T, s *Service, household, period string, amount int64) *Bill {
	t.Helper()
	b := &Bill{ID: BillID("c1", household, period), CommunityID: "c1", BuildingID: "b1", HouseholdID: household, Label: "1-101",
		Period: period, Amount: amount, Status: Issued, DueDate: period + "-15", Allocations: []Allocation{},
		Timeline: []lifecycle.Entry{}, IssuedAt: t0, UpdatedAt: t0}
	if _, err := s.bills.InsertOne(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestService(t *testing.T) *Service {
	db := mongo.NewTestDB(t, mongo.Options{})
	return NewService(db, func() time.Time { return t0 })
}

func TestOpenBillsOldestFirst(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	insertBill(t, s, "h1", "2026-02", 100)
	insertBill(t, s, "h1", "2026-01", 100)
	insertBill(t, s, "h2", "2025-12", 100)
	paid := insertBill(t, s, "h1", "2025-11", 100)
	if _, err := s.Allocate(ctx, paid.ID, "p0", 100, t0); err != nil {
		t.Fatal(err)
	}
	bs, err := s.OpenBills(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Period != "2026-01" || bs[1].Period != "2026-02" {
		t.Fatalf("open bills: %+v", bs)
	}
}

func TestAllocateIsIdempotentAndGuarded(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	b := insertBill(t, s, "h1", "2026-01", 10000)
	got, err := s.Allocate(ctx, b.ID, "p1", 4000, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Paid != 4000 || got.Status != PartlyPaid || len(got.Allocations) != 1 || len(got.Timeline) != 1 || got.Timeline[0].Action != "allocate" {
		t.Fatalf("after first allocation: %+v", got)
	}
	again, err := s.Allocate(ctx, b.ID, "p1", 4000, t0)
	if err != nil || again.Paid != 4000 || len(again.Allocations) != 1 {
		t.Fatalf("the same allocation twice: %+v %v", again, err)
	}
	if _, err := s.Allocate(ctx, b.ID, "p2", 6001, t0); !errors.Is(err, ErrOverAllocation) {
		t.Fatalf("over-allocation: %v", err)
	}
	full, err := s.Allocate(ctx, b.ID, "p2", 6000, t0)
	if err != nil || full.Status != Paid || full.Paid != 10000 {
		t.Fatalf("paid in full: %+v %v", full, err)
	}
	if _, err := s.Allocate(ctx, b.ID, "p3", 1, t0); !errors.Is(err, ErrBillClosed) {
		t.Fatalf("paid bill: %v", err)
	}
	part, err := s.ReduceAllocation(ctx, b.ID, "p2", 1000, t0)
	if err != nil || part.Paid != 5000 || part.Status != PartlyPaid {
		t.Fatalf("reduce: %+v %v", part, err)
	}
	if part, err = s.ReduceAllocation(ctx, b.ID, "p2", 1000, t0); err != nil || part.Paid != 5000 {
		t.Fatalf("reduce twice: %+v %v", part, err)
	}
	un, err := s.Unallocate(ctx, b.ID, "p1", t0)
	if err != nil || un.Paid != 1000 || len(un.Allocations) != 1 || un.Allocations[0].PaymentID != "p2" {
		t.Fatalf("unallocate: %+v %v", un, err)
	}
	if un, err = s.Unallocate(ctx, b.ID, "p1", t0); err != nil || un.Paid != 1000 {
		t.Fatalf("unallocate twice: %+v %v", un, err)
	}
}

// Concurrent payments to one bill: each counted once, never beyond the
// amount, paid always the sum of allocations.
func TestAllocateConcurrently(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	b := insertBill(t, s, "h1", "2026-01", 500)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Allocate(ctx, b.ID, "p"+string(rune('a'+i)), 100, t0)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrOverAllocation), errors.Is(err, ErrBillClosed):
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	got, err := mongo.FindByID[Bill](ctx, s.bills, b.ID, ErrBillNotFound)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, a := range got.Allocations {
		sum += a.Amount
	}
	if ok != 5 || got.Paid != 500 || sum != 500 || got.Status != Paid {
		t.Fatalf("ok %d, bill %+v", ok, got)
	}
}
