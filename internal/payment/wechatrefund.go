package payment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/fee"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/wechatpay"
)

// WeChat Pay refunds. Refund records the refund (PROCESSING) and takes the
// money back from the bills before it asks WeChat, so a crash never leaves
// money refunded at WeChat that the bills still count. The out_refund_no
// is the refund's id: asking again (a retry, the query job) never refunds
// twice. The outcome comes in the answer, a refund notification, or the
// query job, whichever is first; each applies once (refundOutcome):
//   - SUCCESS: recorded.
//   - ABNORMAL: WeChat holds the money because the payer's account cannot
//     take it; it goes out once finance re-routes it on the merchant
//     platform. The bills stay reopened (the money has left the
//     community's account); the reconciliation lists the refund until
//     WeChat reports SUCCESS (or CLOSED).
//   - CLOSED (or refused outright, e.g. NOT_ENOUGH): nothing was refunded,
//     the money is still the community's. The bills get back what the
//     refund took from them (restoreClosed), as far as they still owe it,
//     so the household is not chased for fees it paid and never got back;
//     what a bill no longer takes (paid otherwise, cancelled) stays on the
//     payment as unallocated. The reconciliation lists the refund on the
//     day it closed. Finance may refund again.
// While a refund is open, the payment takes no other refund (ErrRefundOpen):
// a closed refund's bills go back to what they held before it.

// colRefundChecks schedules the query job's questions about open WeChat
// refunds, apart from the payment so rescheduling never races a guarded
// step: _id = refund id (= out_refund_no), paymentId, checkAt.
const colRefundChecks = "wechat_refund_checks"

// abnormalRecheck is how often WeChat is asked about an ABNORMAL refund;
// finance resolves those by hand, which takes days, not minutes.
const abnormalRecheck = time.Hour

// Notification kinds.
const refundKind = "refund"

func init() {
	mongo.Declare(mongo.Indexes{Collection: colRefundChecks, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "checkAt", Value: 1}}},
	}})
}

type refundCheck struct {
	ID        string    `bson:"_id"`
	PaymentID string    `bson:"paymentId"`
	CheckAt   time.Time `bson:"checkAt"`
}

func (s *Service) scheduleCheck(ctx context.Context, refundID, paymentID string, at time.Time) error {
	_, err := s.db().Collection(colRefundChecks).UpdateOne(ctx, bson.D{{Key: "_id", Value: refundID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "paymentId", Value: paymentID}, {Key: "checkAt", Value: at.UTC()}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("schedule refund check %s: %w", refundID, err)
	}
	return nil
}

func (s *Service) dropCheck(ctx context.Context, refundID string) error {
	if _, err := s.db().Collection(colRefundChecks).DeleteOne(ctx, bson.D{{Key: "_id", Value: refundID}}); err != nil {
		return fmt.Errorf("drop refund check %s: %w", refundID, err)
	}
	return nil
}

// askWechatRefund asks WeChat to refund r of p and records the answer. An
// answer lost (timeout, a 5xx) leaves the refund PROCESSING for the query
// job; it is not an error to the caller, whose refund is recorded.
func (s *Service) askWechatRefund(ctx context.Context, p *Payment, r Refund) (*Payment, error) {
	wr, err := s.cfg.Wechat.Refund(ctx, p.ID, r.ID, r.Amount, p.Amount, r.Reason)
	switch {
	case wechatpay.RefundRefused(err):
		s.warn(ctx, "wechat refund refused", p.ID, apiErr(err))
		wr = &wechatpay.Refund{OutRefundNo: r.ID, Status: string(RefundClosed)}
		out, _, err := s.refundOutcome(ctx, p.ID, wr, wechatpay.APIErrorCode(err))
		return out, err
	case err != nil:
		s.warn(ctx, "wechat refund without an answer (left to the query job)", p.ID, apiErr(err))
		return p, nil
	}
	out, _, err := s.refundOutcome(ctx, p.ID, wr, "")
	if err != nil {
		// The refund is recorded and no other can start while it is
		// open, so the caller gets it as it stands; the query job
		// records the outcome.
		s.warn(ctx, "wechat refund outcome (left to the query job)", p.ID, err)
		return p, nil
	}
	return out, nil
}

// refundOutcome records what WeChat says of one refund of payment
// paymentID (wr.OutRefundNo is the refund id). It changes the payment at
// most once per state, so a notification delivered twice, or after the
// query, changes nothing; changed says whether this call did. A CLOSED
// refund's money goes back to the bills (restoreClosed).
func (s *Service) refundOutcome(ctx context.Context, paymentID string, wr *wechatpay.Refund, failure string) (p *Payment, changed bool, err error) {
	ctx = context.WithoutCancel(ctx)
	st := RefundState(wr.Status)
	for {
		if p, err = s.byID(ctx, paymentID); err != nil {
			return nil, false, err
		}
		i := slices.IndexFunc(p.Refunds, func(r Refund) bool { return r.ID == wr.OutRefundNo })
		if i < 0 {
			return p, false, fmt.Errorf("payment %s has no refund %s", paymentID, wr.OutRefundNo)
		}
		cur := p.Refunds[i].State
		if cur == RefundSuccess || cur == RefundClosed || cur == st ||
			(st != RefundSuccess && st != RefundAbnormal && st != RefundClosed) {
			break // settled before, or nothing new (PROCESSING)
		}
		now := s.cfg.Now().UTC()
		rs := slices.Clone(p.Refunds)
		rs[i].State = st
		if wr.RefundID != "" {
			rs[i].WechatID = wr.RefundID
		}
		set := bson.D{}
		to := p.Status
		switch st {
		case RefundSuccess:
			at := now
			if !wr.SuccessTime.IsZero() {
				at = wr.SuccessTime.UTC()
			}
			rs[i].FinishedAt = &at
		case RefundClosed:
			restored := false
			rs[i].FinishedAt, rs[i].Failure, rs[i].Restored = &now, failure, &restored
			refunded := p.Refunded - rs[i].Amount
			to = PartlyRefunded
			if refunded == 0 {
				to = Settled
			}
			day := now.In(s.zone(ctx, p.CommunityID)).Format(time.DateOnly)
			set = append(set, bson.E{Key: "refunded", Value: refunded}, bson.E{Key: "takenBack", Value: p.TakenBack - rs[i].takes()},
				bson.E{Key: "refundDays", Value: appendDay(p.RefundDays, day)})
		}
		set = append(set, bson.E{Key: "refunds", Value: rs})
		data := map[string]any{"refundId": rs[i].ID, "state": string(st)}
		if failure != "" {
			data["failure"] = failure
		}
		entry := lifecycle.Entry{At: now, Action: "wechat_refund", From: string(p.Status), To: string(to),
			ActorID: "system:wechatpay", ActorKind: "system", Data: data}
		var out Payment
		err = s.steps.Apply(ctx, p.ID, p.Version, entry, set, &out)
		if err == nil {
			p, changed = &out, true
			break
		}
		if !errors.Is(err, lifecycle.ErrStale) {
			return nil, false, fmt.Errorf("wechat refund %s of %s: %w", wr.OutRefundNo, paymentID, err)
		}
	}
	r := p.Refunds[slices.IndexFunc(p.Refunds, func(r Refund) bool { return r.ID == wr.OutRefundNo })]
	if r.State == RefundClosed {
		if p, err = s.finishRefund(ctx, p); err != nil {
			return nil, changed, err
		}
		if p, err = s.restoreClosed(ctx, p); err != nil {
			return nil, changed, err
		}
	}
	if r.State == RefundSuccess || r.State == RefundClosed {
		err = s.dropCheck(ctx, r.ID)
	}
	return p, changed, err
}

// restoreClosed gives the bills of p's closed refunds back what those
// refunds took (to Keep + Amount), as far as each bill still owes it, and
// keeps the rest on the payment as unallocated. Raising to a target is
// idempotent and what a bill holds afterwards is read back, so finishing
// it again after a crash counts nothing twice.
func (s *Service) restoreClosed(ctx context.Context, p *Payment) (*Payment, error) {
	for {
		var short int64
		pending := false
		rs := slices.Clone(p.Refunds)
		now := s.cfg.Now()
		for i := range rs {
			if rs[i].Restored == nil || *rs[i].Restored || !rs[i].Done {
				continue
			}
			pending = true
			for _, b := range rs[i].Bills {
				target := b.Keep + b.Amount
				bill, err := s.cfg.Fees.RestoreAllocation(ctx, b.BillID, p.ID, target, now)
				if errors.Is(err, fee.ErrBillNotFound) {
					short += b.Amount
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("restore refund %s of payment %s: %w", rs[i].ID, p.ID, err)
				}
				held, _ := bill.AllocationOf(p.ID)
				short += max(0, target-held.Amount)
			}
			done := true
			rs[i].Restored = &done
		}
		if !pending {
			return p, nil
		}
		var out Payment
		entry := lifecycle.Entry{At: now.UTC(), Action: "refund_restore", From: string(p.Status), To: string(p.Status),
			ActorID: "system:payment", ActorKind: "system", Data: map[string]any{"unallocated": short}}
		err := s.steps.Apply(ctx, p.ID, p.Version, entry, bson.D{{Key: "refunds", Value: rs}, {Key: "unallocated", Value: p.Unallocated + short}}, &out)
		if err == nil {
			return &out, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) {
			return nil, fmt.Errorf("restore refunds of payment %s: %w", p.ID, err)
		}
		var rerr error
		if p, rerr = s.byID(ctx, p.ID); rerr != nil {
			return nil, rerr
		}
	}
}

// WechatRefundResult takes a verified refund result (a notification):
// records it, duplicates too, and applies it to its refund once. A result
// naming no refund of ours is recorded as unmatched and answered without
// error, so WeChat stops resending it.
func (s *Service) WechatRefundResult(ctx context.Context, wr *wechatpay.Refund, source string) (*Notification, error) {
	ctx = context.WithoutCancel(ctx)
	n := &Notification{ID: mongo.NewID(), Kind: refundKind, Source: source, OutTradeNo: wr.OutTradeNo, OutRefundNo: wr.OutRefundNo,
		TransactionID: wr.TransactionID, State: wr.Status, Amount: wr.RefundFen, ReceivedAt: s.cfg.Now().UTC()}
	p, err := s.byID(ctx, wr.OutTradeNo)
	switch {
	case errors.Is(err, ErrNotFound):
		n.Unmatched = "unknown_order"
	case err != nil:
		return nil, err
	default:
		s.placeNotification(ctx, n, p)
		i := slices.IndexFunc(p.Refunds, func(r Refund) bool { return r.ID == wr.OutRefundNo })
		switch {
		case i < 0 || p.Method != Wechat:
			n.Unmatched = "unknown_refund"
		case p.Refunds[i].Amount != wr.RefundFen:
			n.Unmatched = "amount"
		default:
			_, changed, err := s.refundOutcome(ctx, p.ID, wr, "")
			if err != nil {
				return nil, err
			}
			n.Duplicate = !changed
		}
	}
	if _, err := s.db().Collection(colNotifications).InsertOne(ctx, n); err != nil {
		return nil, fmt.Errorf("record wechat refund notification %s: %w", wr.OutRefundNo, err)
	}
	return n, nil
}

// queryRefunds asks WeChat about refunds whose outcome has not come:
// PROCESSING ones a few minutes after they were asked, ABNORMAL ones
// hourly. A refund WeChat does not know never reached it and is asked
// again under the same out_refund_no.
func (s *Service) queryRefunds(ctx context.Context, now time.Time) error {
	if s.cfg.Wechat == nil {
		return nil
	}
	cur, err := s.db().Collection(colRefundChecks).Find(ctx, bson.D{{Key: "checkAt", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}},
		options.Find().SetLimit(tickBatch))
	if err != nil {
		return fmt.Errorf("refund checks: %w", err)
	}
	var checks []refundCheck
	if err := cur.All(ctx, &checks); err != nil {
		return fmt.Errorf("refund checks: %w", err)
	}
	var errs []error
	for _, ch := range checks {
		errs = append(errs, s.checkRefund(ctx, ch, now))
	}
	return errors.Join(errs...)
}

func (s *Service) checkRefund(ctx context.Context, ch refundCheck, now time.Time) error {
	p, err := s.byID(ctx, ch.PaymentID)
	if errors.Is(err, ErrNotFound) {
		return s.dropCheck(ctx, ch.ID)
	}
	if err != nil {
		return err
	}
	i := slices.IndexFunc(p.Refunds, func(r Refund) bool { return r.ID == ch.ID })
	if i < 0 || !p.Refunds[i].open() {
		// Never recorded (the request died between scheduling and
		// recording, so WeChat was never asked), or settled meanwhile.
		return s.dropCheck(ctx, ch.ID)
	}
	r := p.Refunds[i]
	if r.State == RefundClosed { // its money not yet back on the bills
		_, _, err := s.refundOutcome(ctx, p.ID, &wechatpay.Refund{OutRefundNo: r.ID, Status: string(RefundClosed)}, r.Failure)
		return err
	}
	wr, err := s.cfg.Wechat.QueryRefund(ctx, r.ID)
	failure := ""
	if errors.Is(err, wechatpay.ErrRefundNotFound) {
		wr, err = s.cfg.Wechat.Refund(ctx, p.ID, r.ID, r.Amount, p.Amount, r.Reason)
		if wechatpay.RefundRefused(err) {
			failure = wechatpay.APIErrorCode(err)
			wr, err = &wechatpay.Refund{OutRefundNo: r.ID, Status: string(RefundClosed)}, nil
		}
	}
	if err != nil {
		return fmt.Errorf("query wechat refund %s: %w", r.ID, apiErr(err))
	}
	out, _, err := s.refundOutcome(ctx, p.ID, wr, failure)
	if err != nil {
		return err
	}
	next := now.Add(queryAfter)
	if j := slices.IndexFunc(out.Refunds, func(x Refund) bool { return x.ID == r.ID }); j >= 0 {
		switch out.Refunds[j].State {
		case RefundSuccess, RefundClosed:
			return nil
		case RefundAbnormal:
			next = now.Add(abnormalRecheck)
		}
	}
	return s.scheduleCheck(ctx, r.ID, p.ID, next)
}

// apiErr keeps WeChat's error code and drops the answer body the SDK's
// error carries: no body goes to a log.
func apiErr(err error) error {
	if code := wechatpay.APIErrorCode(err); code != "" {
		return errors.New("wechat pay answered " + code)
	}
	return err
}
