package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/fee"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// number is one taken receipt number. Its _id is the community and number,
// so a second insert of the same number fails on any database; it names the
// payment, so a payment finished again finds the number it already took.
type number struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Number      int64     `bson:"number"`
	PaymentID   string    `bson:"paymentId"`
	At          time.Time `bson:"at"`
}

// numberRetries bounds the retries of one number under contention: each
// failed insert means another payment took the number, so the next read
// sees a higher last number.
const numberRetries = 500

// receiptNumber is p's receipt number in its community: the one it took
// before, else the last taken plus one, claimed by insert (DESIGN.md
// "Numbers without gaps": FerretDB's findOneAndUpdate is not atomic).
// Numbers run 1, 2, 3 ... per community without a gap: a number is taken
// only by a payment already stored, and every stored payment settles.
func (s *Service) receiptNumber(ctx context.Context, p *Payment, now time.Time) (int64, error) {
	for range numberRetries {
		var mine number
		err := s.numbers.FindOne(ctx, bson.D{{Key: "paymentId", Value: p.ID}}).Decode(&mine)
		if err == nil {
			return mine.Number, nil
		}
		if !errors.Is(err, mgo.ErrNoDocuments) {
			return 0, fmt.Errorf("receipt number of %s: %w", p.ID, err)
		}
		var last number
		err = s.numbers.FindOne(ctx, bson.D{{Key: "communityId", Value: p.CommunityID}},
			options.FindOne().SetSort(bson.D{{Key: "number", Value: -1}})).Decode(&last)
		if err != nil && !errors.Is(err, mgo.ErrNoDocuments) {
			return 0, fmt.Errorf("last receipt number of %s: %w", p.CommunityID, err)
		}
		n := last.Number + 1
		_, err = s.numbers.InsertOne(ctx, number{ID: fmt.Sprintf("%s:%d", p.CommunityID, n), CommunityID: p.CommunityID, Number: n, PaymentID: p.ID, At: now.UTC()})
		if err == nil {
			return n, nil
		}
		if !mongo.IsDuplicate(err) {
			return 0, fmt.Errorf("take receipt number %d of %s: %w", n, p.CommunityID, err)
		}
	}
	return 0, fmt.Errorf("receipt number of %s: too much contention", p.ID)
}

// Receipt is what a payer and staff see of a payment (收据).
type Receipt struct {
	Payment        *Payment
	CommunityName  string
	HouseholdLabel string
	Number         int64  // 0 until the payment settles
	No             string // Number as printed, ReceiptText
	RecordedBy     string // the staff member's name; empty for WeChat Pay
}

// ReceiptQuery names a payment: by id, or by its community and receipt number.
type ReceiptQuery struct {
	PaymentID   string
	CommunityID string
	Number      int64
}

// Receipt opens a payment's receipt: for the household's owners and family
// (tenants when the owners allow them to see bills) and staff who see the
// household's bills; NOT_FOUND for anyone else.
func (s *Service) Receipt(ctx context.Context, c *access.Caller, q ReceiptQuery) (*Receipt, error) {
	var p *Payment
	var err error
	switch {
	case q.PaymentID != "":
		if err := validate.ID("paymentId", q.PaymentID); err != nil {
			return nil, err
		}
		p, err = s.byID(ctx, q.PaymentID)
	case q.CommunityID != "" && q.Number > 0:
		var n number
		err = s.numbers.FindOne(ctx, bson.D{{Key: "communityId", Value: q.CommunityID}, {Key: "number", Value: q.Number}}).Decode(&n)
		if errors.Is(err, mgo.ErrNoDocuments) {
			return nil, ErrNotFound
		}
		if err == nil {
			p, err = s.byID(ctx, n.PaymentID)
		}
	default:
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.sees(ctx, c, p); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	r := &Receipt{Payment: p, HouseholdLabel: p.Label, Number: p.ReceiptNo, No: ReceiptText(p.ReceiptNo), RecordedBy: p.RecordedByName}
	if cs, err := s.cfg.Communities.ByIDs(ctx, []string{p.CommunityID}); err == nil && cs[p.CommunityID] != nil {
		r.CommunityName = cs[p.CommunityID].Name
	}
	return r, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Payment, error) {
	var p Payment
	err := s.col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("payment %s: %w", id, err)
	}
	return &p, nil
}

// sees applies fee.SeesHouseholdBills to the payment's household.
func (s *Service) sees(ctx context.Context, c *access.Caller, p *Payment) (bool, error) {
	ref := access.HouseholdRef{ID: p.HouseholdID, CommunityID: p.CommunityID, BuildingID: p.BuildingID}
	tenants := false
	if role, ok := c.RoleIn(p.HouseholdID); ok && role == access.Tenant && s.cfg.Tenants != nil {
		var err error
		if tenants, err = s.cfg.Tenants(ctx, p.HouseholdID); err != nil {
			return false, err
		}
	}
	return fee.SeesHouseholdBills(c, ref, tenants), nil
}

func (s *Service) zone(ctx context.Context, communityID string) *time.Location {
	if cs, err := s.cfg.Communities.ByIDs(ctx, []string{communityID}); err == nil && cs[communityID] != nil {
		return cs[communityID].Location()
	}
	loc, _ := time.LoadLocation(community.DefaultTimeZone)
	return loc
}

// tellReceived sends the household's owners the payment receipt notice
// (FEE_PAYMENT_RECEIVED, which cannot be turned off). The key is the
// payment's, so settling twice tells once.
func (s *Service) tellReceived(ctx context.Context, p *Payment) {
	if s.cfg.Sender == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ms, err := s.cfg.Households.MembershipsByHouseholds(ctx, []string{p.HouseholdID})
	if err != nil {
		s.warn(ctx, "payment notice", p.ID, err)
		return
	}
	var rs []notify.Recipient
	for _, m := range ms[p.HouseholdID] {
		if m.Role == access.Owner {
			rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: p.CommunityID})
		}
	}
	if len(rs) == 0 {
		return
	}
	_, err = s.cfg.Sender.Send(ctx, notify.Message{
		Kind: notify.FeePaymentReceived, Key: "payment:" + p.ID + ":received", Recipients: rs, At: p.PaidAt,
		Vars: map[string]any{"label": p.Label, "amount": fee.Yuan(p.Amount), "receiptNo": ReceiptText(p.ReceiptNo),
			"method": methodZH[p.Method], "methodEN": methodEN[p.Method]},
		Data: map[string]string{"paymentId": p.ID, "receiptNo": ReceiptText(p.ReceiptNo)},
	})
	if err != nil {
		s.warn(ctx, "payment notice", p.ID, err)
	}
}

var (
	methodZH = map[Method]string{Cash: "现金", Card: "刷卡", BankTransfer: "银行转账", Wechat: "微信支付"}
	methodEN = map[Method]string{Cash: "cash", Card: "card", BankTransfer: "bank transfer", Wechat: "WeChat Pay"}
)

func (s *Service) warn(ctx context.Context, what, id string, err error) {
	if s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, what, "payment", id, "err", err)
	}
}
