package payment

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
	"qinqing/internal/platform/wechatpay"
)

// Closed is a WeChat Pay order that expired unpaid.
const Closed Status = "CLOSED"

const (
	colNotifications = "pay_notifications"
	// colTransactions claims a WeChat transaction id for one payment: its
	// _id is the transaction id, so a second claim is a duplicate key and
	// one transaction settles one payment, once.
	colTransactions = "wechat_transactions"
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: colNotifications, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "outTradeNo", Value: 1}, {Key: "receivedAt", Value: 1}}},
		{Keys: bson.D{{Key: "transactionId", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "day", Value: 1}}},
	}})
}

// Notification is one payment result WeChat told us of (or the query
// found), kept as received, duplicates too, for finance to trace.
type Notification struct {
	ID     string `bson:"_id"`
	Kind   string `bson:"kind,omitempty"` // "" a payment result, "refund" a refund's
	Source string `bson:"source"`         // notify | query
	// The payment's community and the local day received, when the
	// payment is known: the reconciliation lists the day's unmatched.
	CommunityID   string    `bson:"communityId,omitempty"`
	Day           string    `bson:"day,omitempty"`
	OutTradeNo    string    `bson:"outTradeNo"`
	OutRefundNo   string    `bson:"outRefundNo,omitempty"`
	TransactionID string    `bson:"transactionId"`
	State         string    `bson:"state"`
	Amount        int64     `bson:"amount"` // fen
	ReceivedAt    time.Time `bson:"receivedAt"`
	// Duplicate: the transaction had settled (or was settling) its payment
	// already; nothing was counted again.
	Duplicate bool `bson:"duplicate"`
	// Unmatched says why it settled nothing: unknown_order, not_wechat,
	// amount, other_payment (refunds: unknown_refund, amount); empty when
	// it matched.
	Unmatched string `bson:"unmatched,omitempty"`
}

// Source of a payment result.
const (
	FromNotify = "notify"
	FromQuery  = "query"
)

// WechatResult takes a verified payment result (a notification or a
// query's answer): records it, and settles the payment it names exactly
// once, keyed by the transaction id. A result that cannot settle anything
// (unknown order, other amount, not paid) is recorded and answered without
// error, so WeChat stops resending it; errors are ours and worth a resend.
func (s *Service) WechatResult(ctx context.Context, tx *wechatpay.Transaction, source string) (*Notification, error) {
	ctx = context.WithoutCancel(ctx)
	n := &Notification{ID: mongo.NewID(), Source: source, OutTradeNo: tx.OutTradeNo, TransactionID: tx.TransactionID,
		State: tx.State, Amount: tx.AmountFen, ReceivedAt: s.cfg.Now().UTC()}
	p, err := s.matchWechat(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	if _, err := s.db().Collection(colNotifications).InsertOne(ctx, n); err != nil {
		return nil, fmt.Errorf("record wechat notification %s: %w", tx.OutTradeNo, err)
	}
	if p == nil {
		return n, nil
	}
	if _, err := s.wechatSettle(ctx, p, tx); err != nil {
		return nil, err
	}
	return n, nil
}

// matchWechat finds the payment a paid result settles and claims its
// transaction; nil when it settles none (n says why).
func (s *Service) matchWechat(ctx context.Context, tx *wechatpay.Transaction, n *Notification) (*Payment, error) {
	if !tx.Paid() || tx.TransactionID == "" {
		return nil, nil
	}
	p, err := s.byID(ctx, tx.OutTradeNo)
	if err == nil {
		s.placeNotification(ctx, n, p)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		n.Unmatched = "unknown_order"
		return nil, nil
	case err != nil:
		return nil, err
	case p.Method != Wechat:
		n.Unmatched = "not_wechat"
		return nil, nil
	case tx.AmountFen != p.Amount:
		n.Unmatched = "amount"
		return nil, s.markMismatch(ctx, p, tx, n.ReceivedAt)
	}
	_, err = s.db().Collection(colTransactions).InsertOne(ctx,
		bson.D{{Key: "_id", Value: tx.TransactionID}, {Key: "paymentId", Value: p.ID}, {Key: "at", Value: n.ReceivedAt}})
	if mgo.IsDuplicateKeyError(err) {
		var claim struct {
			PaymentID string `bson:"paymentId"`
		}
		if err := s.db().Collection(colTransactions).FindOne(ctx, bson.D{{Key: "_id", Value: tx.TransactionID}}).Decode(&claim); err != nil {
			return nil, fmt.Errorf("wechat transaction %s: %w", tx.TransactionID, err)
		}
		if claim.PaymentID != p.ID {
			n.Unmatched = "other_payment"
			return nil, nil
		}
		// Seen before: still finish the payment (a crash may have
		// stopped the first one halfway); every step is idempotent.
		n.Duplicate = true
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim wechat transaction %s: %w", tx.TransactionID, err)
	}
	if p.TransactionID != "" && p.TransactionID != tx.TransactionID {
		n.Unmatched = "other_payment" // paid twice at WeChat: finance refunds the second
		return nil, nil
	}
	return p, nil
}

// placeNotification files n under its payment's community and local day.
func (s *Service) placeNotification(ctx context.Context, n *Notification, p *Payment) {
	n.CommunityID = p.CommunityID
	n.Day = n.ReceivedAt.In(s.zone(ctx, p.CommunityID)).Format(time.DateOnly)
}

// markMismatch records on a PENDING payment that WeChat reported it paid
// with another amount: it settles nothing (which bills would the other
// amount pay?), the query job stops asking about it, and the
// reconciliation lists it until finance deals with it at WeChat.
func (s *Service) markMismatch(ctx context.Context, p *Payment, tx *wechatpay.Transaction, at time.Time) error {
	for p.Status == Pending && p.Mismatch == nil {
		var out Payment
		m := AmountMismatch{TransactionID: tx.TransactionID, Amount: tx.AmountFen, At: at}
		entry := lifecycle.Entry{At: at, Action: "wechat_mismatch", From: string(Pending), To: string(Pending),
			ActorID: "system:wechatpay", ActorKind: "system", Data: map[string]any{"transactionId": tx.TransactionID, "amount": tx.AmountFen}}
		err := s.steps.Apply(ctx, p.ID, p.Version, entry, bson.D{{Key: "mismatch", Value: m}}, &out)
		if err == nil || !errors.Is(err, lifecycle.ErrStale) {
			return err
		}
		if p, err = s.byID(ctx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// wechatSettle moves a PENDING (or expired) WeChat payment to SETTLING
// with its transaction, then settles it through the counter payments' path.
func (s *Service) wechatSettle(ctx context.Context, p *Payment, tx *wechatpay.Transaction) (*Payment, error) {
	for p.Status == Pending || p.Status == Closed {
		paidAt := tx.SuccessTime
		if paidAt.IsZero() {
			paidAt = s.cfg.Now()
		}
		var out Payment
		entry := lifecycle.Entry{At: s.cfg.Now().UTC(), Action: "wechat_paid", From: string(p.Status), To: string(Settling),
			ActorID: "system:wechatpay", ActorKind: "system", Data: map[string]any{"transactionId": tx.TransactionID}}
		err := s.steps.Apply(ctx, p.ID, p.Version, entry, bson.D{{Key: "transactionId", Value: tx.TransactionID},
			{Key: "paidAt", Value: paidAt.UTC()}, {Key: "day", Value: paidAt.In(s.zone(ctx, p.CommunityID)).Format(time.DateOnly)}}, &out)
		if err == nil {
			p = &out
			break
		}
		if !errors.Is(err, lifecycle.ErrStale) {
			return nil, fmt.Errorf("wechat payment %s: %w", p.ID, err)
		}
		if p, err = s.byID(ctx, p.ID); err != nil {
			return nil, err
		}
	}
	if p.Status != Settling {
		return p, nil
	}
	return s.settle(ctx, p)
}

// Notifications lists what WeChat told of one order's payment, oldest
// first (RefundNotifications: of its refunds).
func (s *Service) Notifications(ctx context.Context, outTradeNo string) ([]*Notification, error) {
	out, err := mongo.FindAll[Notification](ctx, s.db().Collection(colNotifications), bson.D{{Key: "outTradeNo", Value: outTradeNo}, {Key: "kind", Value: bson.D{{Key: "$exists", Value: false}}}}, "wechat notifications",
		options.Find().SetSort(bson.D{{Key: "receivedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryAfter leaves a new order to its notification before asking WeChat.
const queryAfter = 3 * time.Minute

// queryWechat asks WeChat about payments still PENDING a while after their
// order: settles those paid (the notification was lost) and closes those
// past their expiry that WeChat says are not paid.
func (s *Service) queryWechat(ctx context.Context, now time.Time) error {
	if s.cfg.Wechat == nil {
		return nil
	}
	ps, err := s.find(ctx, bson.D{{Key: "status", Value: Pending}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-queryAfter).UTC()}}},
		{Key: "mismatch", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		tx, err := s.cfg.Wechat.QueryByOutTradeNo(ctx, p.ID)
		switch {
		case errors.Is(err, wechatpay.ErrOrderNotFound):
			tx = &wechatpay.Transaction{OutTradeNo: p.ID, State: wechatpay.StateNotPay}
		case err != nil:
			errs = append(errs, fmt.Errorf("query wechat order %s: %w", p.ID, err))
			continue
		}
		if tx.Paid() {
			if _, err := s.WechatResult(ctx, tx, FromQuery); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if p.ExpiresAt != nil && now.After(*p.ExpiresAt) && tx.State != wechatpay.StateUserPaying {
			errs = append(errs, s.closeExpired(ctx, p, tx.State, now))
		}
	}
	return errors.Join(errs...)
}

// closeExpired marks an unpaid order past its expiry CLOSED; a payment
// WeChat reports later all the same still settles (wechatSettle).
func (s *Service) closeExpired(ctx context.Context, p *Payment, state string, now time.Time) error {
	var out Payment
	entry := lifecycle.Entry{At: now.UTC(), Action: "wechat_close", From: string(Pending), To: string(Closed),
		ActorID: "system:wechatpay", ActorKind: "system", Data: map[string]any{"state": state}}
	err := s.steps.Apply(ctx, p.ID, p.Version, entry, nil, &out)
	if err != nil && !errors.Is(err, lifecycle.ErrStale) {
		return fmt.Errorf("close wechat payment %s: %w", p.ID, err)
	}
	return nil
}

func (s *Service) db() *mongo.DB { return s.cfg.DB }

// RefundNotifications lists what WeChat told of one order's refunds,
// oldest first.
func (s *Service) RefundNotifications(ctx context.Context, outTradeNo string) ([]*Notification, error) {
	out, err := mongo.FindAll[Notification](ctx, s.db().Collection(colNotifications), bson.D{{Key: "outTradeNo", Value: outTradeNo}, {Key: "kind", Value: refundKind}}, "wechat refund notifications",
		options.Find().SetSort(bson.D{{Key: "receivedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	return out, nil
}
