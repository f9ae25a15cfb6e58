package payment

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// StuckAfter is how long a payment may stay SETTLING (or a WeChat order
// PENDING) before the reconciliation lists it as unmatched: the sweeper
// finishes a SETTLING one within minutes.
const StuckAfter = 15 * time.Minute

// MethodTotal is one method's payments of a day.
type MethodTotal struct {
	Method Method
	Count  int
	Total  int64
}

// RefundLine is one refund given on the day.
type RefundLine struct {
	Payment *Payment
	Refund  Refund
}

// UnmatchedReason says why a payment needs finance's attention.
type UnmatchedReason string

const (
	UnallocatedMoney UnmatchedReason = "UNALLOCATED" // money on no bill
	Mismatch         UnmatchedReason = "MISMATCH"    // the bills hold another amount than the payment says
	Stuck            UnmatchedReason = "STUCK"       // SETTLING or PENDING for longer than StuckAfter
)

// Unmatched is a payment that needs finance's attention.
type Unmatched struct {
	Payment    *Payment
	Reason     UnmatchedReason
	Difference int64 // fen the bills hold short (negative: over) of the payment's net amount
}

// Reconciliation is a community's daily payment report (日对账).
type Reconciliation struct {
	CommunityID string
	Date        string
	ByMethod    []MethodTotal
	Count       int
	Total       int64
	Refunds     []RefundLine
	RefundTotal int64
	Unmatched   []Unmatched
	// Over the community's bills and payments of all days: bills' paid
	// amounts, the allocations behind them, and what the settled payments
	// say they put on bills. Balanced when the three agree.
	BillsPaid       int64
	BillAllocations int64
	PaymentsNet     int64
	Balanced        bool
}

// Reconcile is the finance clerk's report of date ("YYYY-MM-DD", the
// community's time) for finance clerks and supervisors.
func (s *Service) Reconcile(ctx context.Context, c *access.Caller, communityID, date string) (*Reconciliation, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, apperr.Invalid("date", "input.bad_date")
	}
	if !fee.ReadsFinance(c, communityID) {
		if c.WorksIn(communityID) {
			return nil, apperr.ErrForbidden
		}
		return nil, apperr.ErrNotFound
	}
	r := &Reconciliation{CommunityID: communityID, Date: date}
	paid, allocated, byPayment, err := s.cfg.Fees.PaidTotals(ctx, communityID)
	if err != nil {
		return nil, err
	}
	r.BillsPaid, r.BillAllocations = paid, allocated
	totals := map[Method]*MethodTotal{}
	stuckBefore := s.cfg.Now().Add(-StuckAfter)
	loc := s.zone(ctx, communityID)
	// One pass over the community's payments: the day's are counted, every
	// settled one goes into the balance, stuck ones of any day are listed.
	err = mongo.Stream(ctx, s.col, bson.D{{Key: "communityId", Value: communityID}}, bson.D{{Key: "timeline", Value: 0}}, "payments",
		func(p *Payment) error {
			switch p.Status {
			case Pending, Settling:
				if p.CreatedAt.Before(stuckBefore) {
					r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: Stuck, Difference: p.Amount})
				}
				return nil
			case Closed:
				return nil // a WeChat order that expired unpaid: no money
			}
			net := p.Amount - p.Unallocated
			for _, rf := range p.Refunds {
				for _, b := range rf.Bills {
					net -= b.Amount
				}
				if rf.At.In(loc).Format(time.DateOnly) == date {
					r.Refunds = append(r.Refunds, RefundLine{Payment: p, Refund: rf})
					r.RefundTotal += rf.Amount
				}
			}
			r.PaymentsNet += net
			if p.Day != date {
				return nil
			}
			t := totals[p.Method]
			if t == nil {
				t = &MethodTotal{Method: p.Method}
				totals[p.Method] = t
			}
			t.Count++
			t.Total += p.Amount
			r.Count++
			r.Total += p.Amount
			switch {
			case p.Unallocated > 0:
				r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: UnallocatedMoney, Difference: p.Unallocated})
			case byPayment[p.ID] != net:
				r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: Mismatch, Difference: net - byPayment[p.ID]})
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, m := range Methods {
		if t := totals[m]; t != nil {
			r.ByMethod = append(r.ByMethod, *t)
		} else {
			r.ByMethod = append(r.ByMethod, MethodTotal{Method: m})
		}
	}
	r.Balanced = r.BillsPaid == r.BillAllocations && r.BillAllocations == r.PaymentsNet
	return r, nil
}
