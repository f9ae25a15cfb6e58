package payment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// refunds: finance clerks and supervisors of the community give money back
// (a payment made in error); the front desk that took it does not.
func refunds(c *access.Caller, communityID string) bool { return fee.ReadsFinance(c, communityID) }

// Refund gives amount fen of a payment back: it records the refund on the
// payment (one guarded step), then takes the money back from the payment's
// bills, newest period first, and what no bill holds (unallocated) last.
// A counter payment's refund is given at the counter (SUCCESS at once); a
// WeChat Pay payment's is asked of WeChat after it is recorded
// (refundWechat), PROCESSING until WeChat reports the outcome.
func (s *Service) Refund(ctx context.Context, c *access.Caller, paymentID string, amount int64, reason string) (*Payment, error) {
	if err := validate.ID("paymentId", paymentID); err != nil {
		return nil, err
	}
	reason, err := validate.Text("reason", reason, true, 200)
	if err != nil {
		return nil, err
	}
	p, err := s.byID(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	if ok, err := s.sees(ctx, c, p); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	if !refunds(c, p.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	wechat := p.Method == Wechat
	if wechat && s.cfg.Wechat == nil {
		return nil, ErrWechatOff
	}
	// An earlier refund not yet finished is finished first, so this one is
	// planned on what the bills really hold.
	if p, err = s.finishRefund(ctx, p); err != nil {
		return nil, err
	}
	if p, err = s.restoreClosed(ctx, p); err != nil {
		return nil, err
	}
	// A closed WeChat refund gives its bills back what it took (Keep +
	// Amount), which holds only while no later refund took from them.
	if slices.ContainsFunc(p.Refunds, Refund.open) {
		return nil, ErrRefundOpen
	}
	if p.Status != Settled && p.Status != PartlyRefunded {
		return nil, ErrNotRefundable
	}
	left := p.Amount - p.Refunded
	if amount <= 0 {
		return nil, apperr.Invalid("amountFen", "input.bad_value")
	}
	if amount > left {
		return nil, apperr.Invalid("amountFen", "payment.refund_too_large", fee.Yuan(left))
	}
	now := s.cfg.Now()
	r := Refund{ID: mongo.NewID(), Amount: amount, Reason: reason, By: c.ID, ByName: s.staffName(ctx, c.ID), At: now.UTC(), State: RefundSuccess}
	if r.Bills, err = s.refundPlan(ctx, p, amount); err != nil {
		return nil, err
	}
	if wechat {
		r.State, r.OutRefundNo = RefundProcessing, r.ID
		// The check is scheduled before the refund exists, so no refund
		// can wait on WeChat without the query job knowing of it.
		if err := s.scheduleCheck(ctx, r.ID, p.ID, now.Add(queryAfter)); err != nil {
			return nil, err
		}
	}
	to := PartlyRefunded
	if amount == left {
		to = Refunded
	}
	entry := lifecycle.Entry{At: now.UTC(), Action: "refund", From: string(p.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind),
		Note: reason, Data: map[string]any{"refundId": r.ID, "amount": amount}}
	day := now.In(s.zone(ctx, p.CommunityID)).Format(time.DateOnly)
	var out Payment
	err = s.steps.ApplyWith(ctx, p.ID, p.Version, entry, bson.D{{Key: "refunded", Value: p.Refunded + amount}, {Key: "takenBack", Value: p.TakenBack + r.takes()}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "refunds", Value: r}}}, {Key: "$set", Value: bson.D{{Key: "refundDays", Value: appendDay(p.RefundDays, day)}}}}, &out)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	done, err := s.finishRefund(ctx, &out)
	if err != nil || !wechat {
		return done, err
	}
	return s.askWechatRefund(ctx, done, r)
}

// takes is what r takes back from bills.
func (r Refund) takes() int64 {
	var n int64
	for _, b := range r.Bills {
		n += b.Amount
	}
	return n
}

func appendDay(days []string, day string) []string {
	if slices.Contains(days, day) {
		return days
	}
	return append(slices.Clone(days), day)
}

// refundPlan takes amount back from the payment's allocations as the bills
// hold them now, newest period first.
func (s *Service) refundPlan(ctx context.Context, p *Payment, amount int64) ([]RefundBill, error) {
	ids := make([]string, len(p.Allocations))
	for i, a := range p.Allocations {
		ids[i] = a.BillID
	}
	bills, err := s.cfg.Fees.BillsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	planned := slices.Clone(p.Allocations)
	slices.SortStableFunc(planned, func(a, b Planned) int {
		if a.Period != b.Period {
			if a.Period > b.Period {
				return -1
			}
			return 1
		}
		return 0
	})
	var out []RefundBill
	for _, a := range planned {
		if amount == 0 {
			break
		}
		b := bills[a.BillID]
		if b == nil {
			continue
		}
		held, ok := b.AllocationOf(p.ID)
		if !ok || held.Amount == 0 {
			continue
		}
		take := min(amount, held.Amount)
		out = append(out, RefundBill{BillID: b.ID, Period: b.Period, Amount: take, Keep: held.Amount - take})
		amount -= take
	}
	return out, nil
}

// finishRefund takes back from the bills what p's unfinished refunds
// planned, then marks them done. Reducing to a target is idempotent, so a
// refund finished twice takes back once.
func (s *Service) finishRefund(ctx context.Context, p *Payment) (*Payment, error) {
	for {
		pending := false
		rs := slices.Clone(p.Refunds)
		for i := range rs {
			if rs[i].Done {
				continue
			}
			pending = true
			for _, b := range rs[i].Bills {
				if _, err := s.cfg.Fees.ReduceAllocation(ctx, b.BillID, p.ID, b.Keep, rs[i].At); err != nil {
					return nil, fmt.Errorf("refund %s of payment %s: %w", rs[i].ID, p.ID, err)
				}
			}
			rs[i].Done = true
		}
		if !pending {
			return p, nil
		}
		var out Payment
		entry := lifecycle.Entry{At: s.cfg.Now().UTC(), Action: "refund_done", From: string(p.Status), To: string(p.Status), ActorID: "system:payment", ActorKind: "system"}
		err := s.steps.Apply(ctx, p.ID, p.Version, entry, bson.D{{Key: "refunds", Value: rs}}, &out)
		if err == nil {
			return &out, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) {
			return nil, fmt.Errorf("finish refunds of payment %s: %w", p.ID, err)
		}
		if p, err = s.byID(ctx, p.ID); err != nil {
			return nil, err
		}
	}
}

// finishRefunds is the sweeper's part for refunds a server left
// unfinished: bills not yet reduced, or a closed WeChat refund's money not
// yet back on its bills.
func (s *Service) finishRefunds(ctx context.Context, now time.Time) error {
	var errs []error
	before := bson.D{{Key: "$lt", Value: now.Add(-settleAfter).UTC()}}
	for _, q := range []bson.D{
		{{Key: "refunds.done", Value: false}, {Key: "updatedAt", Value: before}},
		{{Key: "refunds.restored", Value: false}, {Key: "updatedAt", Value: before}},
	} {
		ps, err := s.find(ctx, q)
		errs = append(errs, err)
		for _, p := range ps {
			p, err := s.finishRefund(ctx, p)
			if err == nil {
				_, err = s.restoreClosed(ctx, p)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) staffName(ctx context.Context, id string) string {
	if st, err := s.cfg.Staff.ByIDs(ctx, []string{id}); err == nil && st[id] != nil {
		return st[id].Name
	}
	return id
}
