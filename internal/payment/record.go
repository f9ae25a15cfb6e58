package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// RecordInput is a payment taken at the counter.
type RecordInput struct {
	HouseholdID string
	Method      Method
	Amount      int64 // fen
	// BillIDs chooses the bills, paid in this order; none: the household's
	// open bills, oldest period first.
	BillIDs   []string
	Reference string     // the bank's or card terminal's reference
	PaidAt    *time.Time // nil: now
	// IdempotencyKey, when set, makes sending the same request again
	// return the payment first recorded with it (see idempotency.go).
	IdempotencyKey string
}

// futureSkew tolerates a counter PC whose clock runs a little ahead.
const futureSkew = 5 * time.Minute

// Record takes a counter payment (cash, card, bank transfer): the front desk,
// finance clerks and supervisors of the household's community. The amount
// must not exceed what the chosen (or open) bills still owe.
func (s *Service) Record(ctx context.Context, c *access.Caller, in RecordInput) (*Payment, error) {
	h, err := s.householdFor(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if in.Method != Cash && in.Method != Card && in.Method != BankTransfer {
		return nil, apperr.Invalid("input.method", "payment.method_not_counter")
	}
	if in.Amount <= 0 {
		return nil, apperr.Invalid("input.amountFen", "input.bad_value")
	}
	ref, err := validate.Text("input.reference", in.Reference, false, 64)
	if err != nil {
		return nil, err
	}
	// Bill ids are derived ("bill:<community>:<household>:<period>"), not
	// object ids; an unknown one is refused by the plan.
	if _, err := validate.List("input.billIds", in.BillIDs, 120, 200); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	paidAt := now
	if in.PaidAt != nil {
		if in.PaidAt.After(now.Add(futureSkew)) {
			return nil, apperr.Invalid("input.paidAt", "payment.paid_at_future")
		}
		paidAt = *in.PaidAt
	}
	if err := checkKey(in.IdempotencyKey); err != nil {
		return nil, err
	}
	id := mongo.NewID()
	claimed := false
	if in.IdempotencyKey != "" {
		// Claimed before planning: a resend must find the first payment
		// even though its bills are paid by now.
		var existing bool
		if id, existing, err = s.claimKey(ctx, h.CommunityID, in); err != nil {
			return nil, err
		}
		claimed = !existing
		if existing {
			p, err := s.byID(ctx, id)
			switch {
			case err == nil && p.Status == Settling:
				return s.settle(context.WithoutCancel(ctx), p)
			case err == nil:
				return p, nil
			case !errors.Is(err, ErrNotFound):
				return nil, err
			}
			// Claimed, not stored yet (the first request is at it, or
			// died): store it here under the same id; insertOnce keeps one.
		}
	}
	plan, err := s.plan(ctx, h, in.BillIDs, in.Amount)
	if err != nil {
		if claimed {
			// Refused: nothing was recorded, so the key is free for the
			// corrected request.
			s.releaseKey(ctx, h.CommunityID, in.IdempotencyKey, id)
		}
		return nil, err
	}
	name := s.staffName(ctx, c.ID)
	p := &Payment{
		ID: id, CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID, Label: h.Label,
		Method: in.Method, Amount: in.Amount, Status: Settling, Allocations: plan, RecordedBy: c.ID, RecordedByName: name,
		PaidAt: paidAt.UTC(), Day: paidAt.In(s.zone(ctx, h.CommunityID)).Format(time.DateOnly), Reference: ref,
		Refunds: []Refund{}, RefundDays: []string{}, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), IdempotencyKey: in.IdempotencyKey,
		Timeline: []lifecycle.Entry{{At: now.UTC(), Action: "record", To: string(Settling), ActorID: c.ID, ActorKind: string(c.Kind),
			Data: map[string]any{"method": string(in.Method), "amount": in.Amount}}},
	}
	if p, err = s.insertOnce(ctx, p); err != nil {
		return nil, err
	}
	if p.Status != Settling {
		return p, nil // settled by a request with the same key meanwhile
	}
	// From here the payment exists: whatever interrupts the rest, Tick
	// finishes it. The request finishes it now, detached from the client.
	return s.settle(context.WithoutCancel(ctx), p)
}

// householdFor is the household a caller takes a payment for; staff of
// other communities and residents do not learn it exists.
func (s *Service) householdFor(ctx context.Context, c *access.Caller, id string) (*household.Household, error) {
	if err := validate.ID("input.householdId", id); err != nil {
		return nil, err
	}
	hs, err := s.cfg.Households.ByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	h := hs[id]
	switch {
	case h == nil || (!c.IsAdmin() && !c.WorksIn(h.CommunityID)):
		return nil, household.ErrNotFound
	case !fee.RecordsPayments(c, h.CommunityID):
		return nil, apperr.ErrForbidden
	}
	return h, nil
}

// plan splits amount over the chosen bills in their order, or over the open
// bills oldest first, each up to what it still owes; a negative amount
// pays everything they owe (a WeChat Pay order).
func (s *Service) plan(ctx context.Context, h *household.Household, billIDs []string, amount int64) ([]Planned, error) {
	var bills []*fee.Bill
	if len(billIDs) == 0 {
		open, err := s.cfg.Fees.OpenBills(ctx, h.ID)
		if err != nil {
			return nil, err
		}
		bills = open
	} else {
		byID, err := s.cfg.Fees.BillsByIDs(ctx, billIDs)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, id := range billIDs {
			b := byID[id]
			if b == nil || b.HouseholdID != h.ID || (b.Status != fee.Issued && b.Status != fee.PartlyPaid) || seen[id] {
				return nil, apperr.Invalid("input.billIds", "payment.bill_not_open", id)
			}
			seen[id] = true
			bills = append(bills, b)
		}
	}
	var owed int64
	for _, b := range bills {
		owed += b.Outstanding()
	}
	if owed == 0 {
		return nil, apperr.Invalid("input.amountFen", "payment.no_open_bills")
	}
	if amount < 0 {
		amount = owed
	}
	if amount > owed {
		return nil, apperr.Invalid("input.amountFen", "payment.over_outstanding", fee.Yuan(owed))
	}
	var plan []Planned
	for _, b := range bills {
		if amount == 0 {
			break
		}
		take := min(amount, b.Outstanding())
		if take == 0 {
			continue
		}
		plan = append(plan, Planned{BillID: b.ID, Period: b.Period, Amount: take})
		amount -= take
	}
	return plan, nil
}

// settle allocates each planned bill, takes the receipt number and marks the
// payment SETTLED. Every step is idempotent, so it may run again on the
// same payment (the sweeper after a crash, or beside the request) and
// counts nothing twice.
func (s *Service) settle(ctx context.Context, p *Payment) (*Payment, error) {
	now := s.cfg.Now()
	var short int64
	for _, a := range p.Allocations {
		_, err := s.cfg.Fees.Allocate(ctx, a.BillID, p.ID, a.Amount, now)
		switch {
		case errors.Is(err, fee.ErrOverAllocation), errors.Is(err, fee.ErrBillClosed), errors.Is(err, fee.ErrBillNotFound):
			// The bill changed since the plan (cancelled, relieved): the
			// money was received all the same, so it is kept on the
			// payment as unallocated and shown to finance.
			short += a.Amount
		case err != nil:
			return nil, fmt.Errorf("settle payment %s: %w", p.ID, err)
		}
	}
	no, err := s.receiptNumber(ctx, p, now)
	if err != nil {
		return nil, err
	}
	for {
		var out Payment
		entry := lifecycle.Entry{At: now.UTC(), Action: "settle", From: string(Settling), To: string(Settled), ActorID: "system:payment", ActorKind: "system",
			Data: map[string]any{"receiptNo": no, "unallocated": short}}
		err := s.steps.Apply(ctx, p.ID, p.Version, entry,
			bson.D{{Key: "receiptNo", Value: no}, {Key: "unallocated", Value: short}, {Key: "settledAt", Value: now.UTC()}}, &out)
		if err == nil {
			s.tellReceived(ctx, &out)
			return &out, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) {
			return nil, fmt.Errorf("settle payment %s: %w", p.ID, err)
		}
		cur, err := mongo.FindByID[Payment](ctx, s.col, p.ID, ErrNotFound)
		if err != nil {
			return nil, err
		}
		if cur.Status != Settling {
			return cur, nil // settled by the sweeper or another server meanwhile
		}
		p = cur
	}
}

// settleAfter leaves a payment to the request that recorded it before the
// sweeper finishes it.
const settleAfter = time.Minute

// tickBatch bounds the payments one Tick finishes.
const tickBatch = 200

// Tick finishes payments left SETTLING and refunds left unfinished (a
// server died between the steps), and asks WeChat Pay about orders whose
// notification has not come. Every server runs it; each step is
// idempotent and guarded, so two finishing one payment count it once.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	var errs []error
	ps, err := s.find(ctx, bson.D{{Key: "status", Value: Settling}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-settleAfter).UTC()}}}})
	errs = append(errs, err)
	for _, p := range ps {
		if _, err := s.settle(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.finishRefunds(ctx, now))
	errs = append(errs, s.queryWechat(ctx, now))
	errs = append(errs, s.queryRefunds(ctx, now))
	return errors.Join(errs...)
}

func (s *Service) find(ctx context.Context, q bson.D) ([]*Payment, error) {
	out, err := mongo.FindAll[Payment](ctx, s.col, q, "find payments", options.Find().SetLimit(tickBatch))
	if err != nil {
		return nil, err
	}
	return out, nil
}
