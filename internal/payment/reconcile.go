package payment

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// StuckAfter is how long a payment may stay SETTLING (or a WeChat order
// PENDING, or a WeChat refund PROCESSING) before the reconciliation lists
// it: the sweeper finishes a SETTLING one within minutes.
const StuckAfter = 15 * time.Minute

// MethodTotal is one method's payments of a day.
type MethodTotal struct {
	Method Method
	Count  int
	Total  int64
}

// RefundLine is one refund of a payment.
type RefundLine struct {
	Payment *Payment
	Refund  Refund
}

// UnmatchedReason says why a payment needs finance's attention.
type UnmatchedReason string

const (
	UnallocatedMoney UnmatchedReason = "UNALLOCATED"     // money on no bill
	Mismatch         UnmatchedReason = "MISMATCH"        // the bills hold another amount than the payment says
	Stuck            UnmatchedReason = "STUCK"           // SETTLING or PENDING for longer than StuckAfter
	AmountDiffers    UnmatchedReason = "AMOUNT_MISMATCH" // WeChat reported the order paid with another amount
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
	// Refunds asked for on the day, each with its state; RefundTotal is
	// theirs less those CLOSED (the money stayed).
	Refunds     []RefundLine
	RefundTotal int64
	// RefundsToCheck are WeChat refunds of any day that need finance:
	// ABNORMAL, PROCESSING for longer than StuckAfter, and those that
	// CLOSED on the day.
	RefundsToCheck []RefundLine
	Unmatched      []Unmatched
	// Notifications from WeChat received on the day that settled nothing
	// (another amount, another payment, a refund we do not know).
	UnmatchedNotifications []*Notification
	// Over the community's bills and payments of all days: bills' paid
	// amounts, the allocations behind them, and what the settled payments
	// say they put on bills. Balanced when the three agree.
	BillsPaid       int64
	BillAllocations int64
	PaymentsNet     int64
	Balanced        bool
}

// Reconcile is the finance clerk's report of date ("YYYY-MM-DD", the
// community's time) for finance clerks and supervisors. Its cost does not
// grow with the community's history in round trips or documents shipped:
// the balance is summed in the database, and the lists read only the
// day's payments, refunds and notifications and the open ones, each
// through an index (see BenchmarkPaymentReconciliation).
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
	var err error
	if r.BillsPaid, r.BillAllocations, err = s.cfg.Fees.PaidTotals(ctx, communityID); err != nil {
		return nil, err
	}
	if r.PaymentsNet, err = s.paymentsNet(ctx, communityID); err != nil {
		return nil, err
	}
	in := func(field string, v any) bson.D {
		return bson.D{{Key: "communityId", Value: communityID}, {Key: field, Value: v}}
	}
	day, err := s.list(ctx, in("day", date))
	if err != nil {
		return nil, err
	}
	refunded, err := s.list(ctx, in("refundDays", date))
	if err != nil {
		return nil, err
	}
	open, err := s.list(ctx, in("status", bson.D{{Key: "$in", Value: []Status{Pending, Settling}}}))
	if err != nil {
		return nil, err
	}
	openRefunds, err := s.list(ctx, in("refunds.state", bson.D{{Key: "$in", Value: []RefundState{RefundProcessing, RefundAbnormal}}}))
	if err != nil {
		return nil, err
	}
	r.UnmatchedNotifications, err = s.unmatchedNotifications(ctx, communityID, date)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(day))
	for _, p := range day {
		ids = append(ids, p.ID)
	}
	held, err := s.cfg.Fees.AllocatedTo(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	loc := s.zone(ctx, communityID)
	r.count(day, held)
	for _, p := range open {
		switch {
		case p.Mismatch != nil:
			r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: AmountDiffers, Difference: p.Amount - p.Mismatch.Amount})
		case p.CreatedAt.Before(now.Add(-StuckAfter)):
			r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: Stuck, Difference: p.Amount})
		}
	}
	for _, p := range refunded {
		for _, rf := range p.Refunds {
			if rf.At.In(loc).Format(time.DateOnly) == date {
				r.Refunds = append(r.Refunds, RefundLine{Payment: p, Refund: rf})
				if rf.State != RefundClosed {
					r.RefundTotal += rf.Amount
				}
			}
			if rf.State == RefundClosed && rf.FinishedAt != nil && rf.FinishedAt.In(loc).Format(time.DateOnly) == date {
				r.RefundsToCheck = append(r.RefundsToCheck, RefundLine{Payment: p, Refund: rf})
			}
		}
	}
	for _, p := range openRefunds {
		for _, rf := range p.Refunds {
			if rf.State == RefundAbnormal || (rf.State == RefundProcessing && rf.At.Before(now.Add(-StuckAfter))) {
				r.RefundsToCheck = append(r.RefundsToCheck, RefundLine{Payment: p, Refund: rf})
			}
		}
	}
	r.Balanced = r.BillsPaid == r.BillAllocations && r.BillAllocations == r.PaymentsNet
	return r, nil
}

// count totals the day's payments by method and lists those whose bills
// hold another amount than they say (held: what the bills hold of each).
func (r *Reconciliation) count(day []*Payment, held map[string]int64) {
	totals := map[Method]*MethodTotal{}
	for _, p := range day {
		if p.Status == Pending || p.Status == Settling || p.Status == Closed {
			continue // no money yet (listed when stuck), or none ever
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
		switch net := p.Net(); {
		case p.Unallocated > 0:
			r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: UnallocatedMoney, Difference: p.Unallocated})
		case held[p.ID] != net:
			r.Unmatched = append(r.Unmatched, Unmatched{Payment: p, Reason: Mismatch, Difference: net - held[p.ID]})
		}
	}
	for _, m := range Methods {
		if t := totals[m]; t != nil {
			r.ByMethod = append(r.ByMethod, *t)
		} else {
			r.ByMethod = append(r.ByMethod, MethodTotal{Method: m})
		}
	}
}

// Net is what a settled payment says its bills hold: its amount less what
// went on no bill and what its refunds took back (a CLOSED refund took
// nothing in the end: its money went back to the bills or to unallocated).
func (p *Payment) Net() int64 {
	net := p.Amount - p.Unallocated
	for _, rf := range p.Refunds {
		if rf.State != RefundClosed {
			net -= rf.takes()
		}
	}
	return net
}

// settledStatuses are the payments whose money is on bills.
var settledStatuses = []Status{Settled, PartlyRefunded, Refunded}

// paymentsNet sums Net over the community's settled payments in the
// database: three sums, one accumulator each (FerretDB's $group).
func (s *Service) paymentsNet(ctx context.Context, communityID string) (int64, error) {
	match := bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: bson.D{{Key: "$in", Value: settledStatuses}}}}}}}
	var sums [3]int64
	for i, f := range []string{"$amount", "$unallocated", "$takenBack"} {
		var err error
		if sums[i], err = mongo.SumInt64(ctx, s.col, match, f); err != nil {
			return 0, err
		}
	}
	return sums[0] - sums[1] - sums[2], nil
}

// list reads a community's payments matching q, without timelines.
func (s *Service) list(ctx context.Context, q bson.D) ([]*Payment, error) {
	var out []*Payment
	err := mongo.Stream(ctx, s.col, q, bson.D{{Key: "timeline", Value: 0}}, "payments", func(p *Payment) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// unmatchedNotifications are the day's WeChat results of the community's
// payments that settled nothing.
func (s *Service) unmatchedNotifications(ctx context.Context, communityID, date string) ([]*Notification, error) {
	cur, err := s.db().Collection(colNotifications).Find(ctx,
		bson.D{{Key: "communityId", Value: communityID}, {Key: "day", Value: date}, {Key: "unmatched", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetSort(bson.D{{Key: "receivedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wechat notifications: %w", err)
	}
	var out []*Notification
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("wechat notifications: %w", err)
	}
	return out, nil
}
