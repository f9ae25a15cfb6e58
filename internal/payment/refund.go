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

// Refund gives amount fen of a counter payment back: it records the refund
// on the payment (one guarded step), then takes the money back from the
// payment's bills, newest period first, and what no bill holds (unallocated)
// last. WeChat Pay payments are refunded through WeChat Pay, which this
// refuses with ErrWechatRefund until that client is wired.
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
	if p.Method == Wechat {
		return nil, ErrWechatRefund
	}
	// An earlier refund not yet finished is finished first, so this one is
	// planned on what the bills really hold.
	if p, err = s.finishRefund(ctx, p); err != nil {
		return nil, err
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
	r := Refund{ID: mongo.NewID(), Amount: amount, Reason: reason, By: c.ID, ByName: s.staffName(ctx, c.ID), At: now.UTC()}
	if r.Bills, err = s.refundPlan(ctx, p, amount); err != nil {
		return nil, err
	}
	to := PartlyRefunded
	if amount == left {
		to = Refunded
	}
	entry := lifecycle.Entry{At: now.UTC(), Action: "refund", From: string(p.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind),
		Note: reason, Data: map[string]any{"refundId": r.ID, "amount": amount}}
	day := now.In(s.zone(ctx, p.CommunityID)).Format(time.DateOnly)
	var out Payment
	err = s.steps.ApplyWith(ctx, p.ID, p.Version, entry, bson.D{{Key: "refunded", Value: p.Refunded + amount}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "refunds", Value: r}}}, {Key: "$set", Value: bson.D{{Key: "refundDays", Value: appendDay(p.RefundDays, day)}}}}, &out)
	if err != nil {
		return nil, err
	}
	return s.finishRefund(context.WithoutCancel(ctx), &out)
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

// finishRefunds is the sweeper's part for refunds a server left unfinished.
func (s *Service) finishRefunds(ctx context.Context, now time.Time) error {
	ps, err := s.find(ctx, bson.D{{Key: "refunds.done", Value: false}, {Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-settleAfter).UTC()}}}})
	var errs []error
	for _, p := range ps {
		if _, err := s.finishRefund(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, err)...)
}

func (s *Service) staffName(ctx context.Context, id string) string {
	if st, err := s.cfg.Staff.ByIDs(ctx, []string{id}); err == nil && st[id] != nil {
		return st[id].Name
	}
	return id
}
