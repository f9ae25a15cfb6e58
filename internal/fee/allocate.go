package fee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Payments change a bill only here, through guarded steps on the bill's
// version (claimed in the "bills_steps" ledger, so two servers on FerretDB
// cannot both write the same version): a bill's paid amount is always the
// sum of its allocations, and a payment is allocated to a bill at most once.

func init() {
	lifecycle.Declare(colBills)
	mongo.Declare(mongo.Indexes{Collection: colBills, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "status", Value: 1}, {Key: "period", Value: 1}}},
		{Keys: bson.D{{Key: "allocations.paymentId", Value: 1}}},
	}})
}

// allocateRetries bounds how often a step lost to a concurrent change of the
// same bill (relief, another payment) is re-read and tried again. Each
// loss means another step won, so a bill busy with k payments at once
// costs at most k retries; the bound only stops a pathological loop. 8 was
// too few: under -race, 8 payments at once on one bill exhausted it
// (TestReceiptNumbersWithoutGapsOnTwoServers).
const allocateRetries = 64

// OpenBills are a household's bills that still take payment (ISSUED or
// PARTLY_PAID), oldest period first.
func (s *Service) OpenBills(ctx context.Context, householdID string) ([]*Bill, error) {
	cur, err := s.bills.Find(ctx, bson.D{{Key: "householdId", Value: householdID},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []BillStatus{Issued, PartlyPaid}}}}},
		options.Find().SetSort(bson.D{{Key: "period", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("open bills of %s: %w", householdID, err)
	}
	var out []*Bill
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("open bills of %s: %w", householdID, err)
	}
	return out, nil
}

// BillsByIDs loads bills by id (without timelines), for payments that name them.
func (s *Service) BillsByIDs(ctx context.Context, ids []string) (map[string]*Bill, error) {
	bs, err := mongo.FindAll[Bill](ctx, s.bills, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, "bills by ids",
		options.Find().SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Bill, len(bs))
	for _, b := range bs {
		out[b.ID] = b
	}
	return out, nil
}

// AllocationOf is paymentID's allocation on b, if any.
func (b *Bill) AllocationOf(paymentID string) (Allocation, bool) {
	for _, a := range b.Allocations {
		if a.PaymentID == paymentID {
			return a, true
		}
	}
	return Allocation{}, false
}

// Allocate applies amount fen of payment paymentID to bill billID. It is
// idempotent per payment: a bill already holding the payment's allocation
// is returned unchanged, so a payment finished twice (a retry, the sweeper)
// is counted once. It refuses more than the outstanding amount
// (ErrOverAllocation) and bills that take no payment (ErrBillClosed).
func (s *Service) Allocate(ctx context.Context, billID, paymentID string, amount int64, at time.Time) (*Bill, error) {
	if amount <= 0 {
		return nil, fmt.Errorf("allocate %d fen of %s to %s: amount must be positive", amount, paymentID, billID)
	}
	return s.step(ctx, billID, func(b *Bill) (*change, error) {
		if _, done := b.AllocationOf(paymentID); done {
			return nil, nil
		}
		if b.Status != Issued && b.Status != PartlyPaid {
			return nil, ErrBillClosed
		}
		if amount > b.Outstanding() {
			return nil, ErrOverAllocation
		}
		paid := b.Paid + amount
		return &change{action: "allocate", paymentID: paymentID, to: StatusFor(b.Amount, b.Relieved, paid), paid: paid,
			update: bson.D{{Key: "$push", Value: bson.D{{Key: "allocations", Value: Allocation{PaymentID: paymentID, Amount: amount, At: at.UTC()}}}}},
			data:   map[string]any{"paymentId": paymentID, "amount": amount}}, nil
	}, at)
}

// Unallocate takes payment paymentID's allocation off bill billID (a
// refund); a bill without it is returned unchanged.
func (s *Service) Unallocate(ctx context.Context, billID, paymentID string, at time.Time) (*Bill, error) {
	return s.ReduceAllocation(ctx, billID, paymentID, 0, at)
}

// ReduceAllocation lowers payment paymentID's allocation on bill billID to
// keep fen (0 removes it), for a partial refund. Setting a target rather
// than subtracting makes a repeated call change nothing; it never raises
// an allocation.
func (s *Service) ReduceAllocation(ctx context.Context, billID, paymentID string, keep int64, at time.Time) (*Bill, error) {
	return s.step(ctx, billID, func(b *Bill) (*change, error) {
		a, ok := b.AllocationOf(paymentID)
		if !ok || a.Amount <= keep {
			return nil, nil
		}
		paid := b.Paid - (a.Amount - keep)
		to := StatusFor(b.Amount, b.Relieved, paid)
		if b.Status == Cancelled {
			to = Cancelled
		}
		// The list is set whole: FerretDB v1's $pull ignores a condition.
		set := bson.D{{Key: "allocations", Value: withAllocation(b.Allocations, paymentID, keep)}}
		return &change{action: "unallocate", paymentID: paymentID, to: to, paid: paid, set: set,
			data: map[string]any{"paymentId": paymentID, "amount": a.Amount - keep}}, nil
	}, at)
}

// RestoreAllocation raises payment paymentID's allocation on bill billID
// back toward target fen, as far as the bill still owes (a refund that
// WeChat Pay closed: the money stayed with us). A bill that takes no
// payment, or holds target already, is returned unchanged. Aiming at a
// target makes a repeated call change nothing; the caller reads what the
// bill holds afterwards (AllocationOf) to learn what could not go back.
func (s *Service) RestoreAllocation(ctx context.Context, billID, paymentID string, target int64, at time.Time) (*Bill, error) {
	return s.step(ctx, billID, func(b *Bill) (*change, error) {
		a, _ := b.AllocationOf(paymentID)
		if a.Amount >= target || (b.Status != Issued && b.Status != PartlyPaid) {
			return nil, nil
		}
		raise := min(target-a.Amount, b.Outstanding())
		if raise <= 0 {
			return nil, nil
		}
		paid := b.Paid + raise
		if a.Amount == 0 {
			a = Allocation{PaymentID: paymentID, At: at.UTC()}
		}
		as := withAllocation(b.Allocations, paymentID, 0)
		a.Amount += raise
		as = append(as, a)
		return &change{action: "allocate", paymentID: paymentID, to: StatusFor(b.Amount, b.Relieved, paid), paid: paid,
			set: bson.D{{Key: "allocations", Value: as}}, data: map[string]any{"paymentId": paymentID, "amount": raise, "restored": true}}, nil
	}, at)
}

func withAllocation(as []Allocation, paymentID string, keep int64) []Allocation {
	out := make([]Allocation, 0, len(as))
	for _, a := range as {
		if a.PaymentID == paymentID {
			if keep == 0 {
				continue
			}
			a.Amount = keep
		}
		out = append(out, a)
	}
	return out
}

// change is one guarded step a payment makes on a bill.
type change struct {
	action, paymentID string
	to                BillStatus
	paid              int64
	set, update       bson.D
	data              map[string]any
}

// step reads the bill, decides the change on what it read, and writes it
// guarded by the version read; a lost race is read and decided again. A nil
// change means there is nothing to do (already done).
func (s *Service) step(ctx context.Context, billID string, decide func(*Bill) (*change, error), at time.Time) (*Bill, error) {
	// The service keeps collections, not the database; the store needs only
	// the database the bills live in.
	store := lifecycle.NewStore(&mongo.DB{Database: s.bills.Database()}, colBills, s.now)
	for attempt := 0; ; attempt++ {
		b, err := mongo.FindByID[Bill](ctx, s.bills, billID, ErrBillNotFound)
		if err != nil {
			return nil, err
		}
		ch, err := decide(b)
		if err != nil || ch == nil {
			return b, err
		}
		entry := lifecycle.Entry{At: at.UTC(), Action: ch.action, From: string(b.Status), To: string(ch.to),
			ActorID: "payment:" + ch.paymentID, ActorKind: "system", Data: ch.data}
		set := append(bson.D{{Key: "paid", Value: ch.paid}}, ch.set...)
		var out Bill
		err = store.ApplyWith(ctx, b.ID, b.Version, entry, set, ch.update, &out)
		if err == nil {
			return &out, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) || attempt >= allocateRetries {
			return nil, fmt.Errorf("%s %s on bill %s: %w", ch.action, ch.paymentID, billID, err)
		}
	}
}

// PaidTotals sums, over a community's bills, the paid amounts and the
// allocations behind them: the two are equal unless something wrote a bill
// around Allocate. Summed in the database (two round trips whatever the
// community's history), so the daily reconciliation ships no bills.
func (s *Service) PaidTotals(ctx context.Context, communityID string) (paid, allocated int64, err error) {
	match := bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID}}}}
	if paid, err = mongo.SumInt64(ctx, s.bills, bson.A{match}, "$paid"); err != nil {
		return 0, 0, err
	}
	allocated, err = mongo.SumInt64(ctx, s.bills, bson.A{match, bson.D{{Key: "$unwind", Value: "$allocations"}}}, "$allocations.amount")
	return paid, allocated, err
}

// AllocatedTo is, per payment, what the bills hold of it: one read
// through the allocations.paymentId index.
func (s *Service) AllocatedTo(ctx context.Context, paymentIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(paymentIDs))
	if len(paymentIDs) == 0 {
		return out, nil
	}
	want := make(map[string]bool, len(paymentIDs))
	for _, id := range paymentIDs {
		want[id] = true
	}
	err := mongo.Stream(ctx, s.bills, bson.D{{Key: "allocations.paymentId", Value: bson.D{{Key: "$in", Value: paymentIDs}}}},
		bson.D{{Key: "allocations", Value: 1}}, "allocations of payments", func(b *Bill) error {
			for _, a := range b.Allocations {
				if want[a.PaymentID] {
					out[a.PaymentID] += a.Amount
				}
			}
			return nil
		})
	return out, err
}
