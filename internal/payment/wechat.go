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
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/platform/wechatpay"
)

// Channel is where a resident pays with WeChat Pay.
type Channel string

const (
	MiniProgram Channel = "MINI_PROGRAM" // JSAPI, needs the payer's openid
	App         Channel = "APP"
)

// wechatExpiry is how long a WeChat Pay order takes money; after it the
// sweeper closes the payment unless WeChat says it was paid.
const wechatExpiry = 30 * time.Minute

// Errors of WeChat Pay payments.
var (
	ErrWechatOff      = apperr.New(apperr.Unavailable, "payment.wechat_off")
	ErrWechatChannel  = apperr.New(apperr.Unavailable, "payment.wechat_channel_off")
	ErrWechatNoOpenID = apperr.New(apperr.BadUserInput, "payment.wechat_no_openid")
	ErrWechatProvider = apperr.New(apperr.Unavailable, "payment.wechat_provider")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"payment.wechat_off":         {ZH: "微信支付暂未开通，请到物业服务中心缴费", EN: "WeChat Pay is not available; please pay at the property office"},
		"payment.wechat_channel_off": {ZH: "该渠道暂不支持微信支付", EN: "WeChat Pay is not available on this channel"},
		"payment.wechat_no_openid":   {ZH: "请先在小程序中绑定微信后再支付", EN: "Bind your WeChat account in the mini program before paying"},
		"payment.wechat_provider":    {ZH: "微信支付暂时无法下单，请稍后再试", EN: "WeChat Pay could not take the order; please try again later"},
		"payment.wechat_channel":     {ZH: "只能是 MINI_PROGRAM 或 APP", EN: "must be MINI_PROGRAM or APP"},
	})
}

// WechatInput is a resident's WeChat Pay order for a household's bills.
type WechatInput struct {
	HouseholdID string
	BillIDs     []string // none: every open bill
	Channel     Channel
}

// WechatOrder is a PENDING payment with what the client hands to WeChat
// (one of JSAPI or App set).
type WechatOrder struct {
	Payment *Payment
	JSAPI   *wechatpay.JSAPIParams
	App     *wechatpay.AppParams
}

// CreateWechat opens a WeChat Pay order for the outstanding total of the
// chosen (or all open) bills: owners and family, and tenants the owners let
// see the bills. The payment is PENDING until WeChat reports the money
// (notification or query); its id is the order's out-trade-no, so asking
// WeChat again for the same payment finds the same order.
func (s *Service) CreateWechat(ctx context.Context, c *access.Caller, in WechatInput) (*WechatOrder, error) {
	if s.cfg.Wechat == nil {
		return nil, ErrWechatOff
	}
	if in.Channel != MiniProgram && in.Channel != App {
		return nil, apperr.Invalid("input.channel", "payment.wechat_channel")
	}
	if (in.Channel == MiniProgram && !s.cfg.Wechat.MiniProgramEnabled()) || (in.Channel == App && !s.cfg.Wechat.AppEnabled()) {
		return nil, ErrWechatChannel
	}
	h, err := s.payerHousehold(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if _, err := validate.List("input.billIds", in.BillIDs, 120, 200); err != nil {
		return nil, err
	}
	if err := s.ownBills(ctx, h.ID, in.BillIDs); err != nil {
		return nil, err
	}
	openID := ""
	if in.Channel == MiniProgram {
		if openID, err = s.openID(ctx, c.ID); err != nil {
			return nil, err
		}
		if openID == "" {
			return nil, ErrWechatNoOpenID
		}
	}
	plan, err := s.plan(ctx, h, in.BillIDs, -1)
	if err != nil {
		return nil, err
	}
	var amount int64
	for _, a := range plan {
		amount += a.Amount
	}
	now := s.cfg.Now()
	expires := now.Add(wechatExpiry).UTC()
	p := &Payment{
		ID: mongo.NewID(), CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID, Label: h.Label,
		Method: Wechat, Amount: amount, Status: Pending, Allocations: plan, RecordedBy: c.ID, Channel: in.Channel,
		PaidAt: now.UTC(), Day: now.In(s.zone(ctx, h.CommunityID)).Format(time.DateOnly), ExpiresAt: &expires,
		Refunds: []Refund{}, RefundDays: []string{}, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		Timeline: []lifecycle.Entry{{At: now.UTC(), Action: "wechat_order", To: string(Pending), ActorID: c.ID, ActorKind: string(c.Kind),
			Data: map[string]any{"method": string(Wechat), "amount": amount, "channel": string(in.Channel)}}},
	}
	if _, err := s.col.InsertOne(ctx, p); err != nil {
		return nil, fmt.Errorf("insert payment: %w", err)
	}
	desc := "物业费 " + h.Label
	out := &WechatOrder{Payment: p}
	if in.Channel == MiniProgram {
		out.JSAPI, err = s.cfg.Wechat.PrepayJSAPI(ctx, p.ID, desc, amount, openID, expires)
	} else {
		out.App, err = s.cfg.Wechat.PrepayApp(ctx, p.ID, desc, amount, expires)
	}
	if err != nil {
		// The order may exist at WeChat all the same (a lost answer): the
		// payment stays PENDING and the sweeper asks WeChat about it.
		s.warn(ctx, "wechat prepay", p.ID, err)
		return nil, ErrWechatProvider
	}
	return out, nil
}

// payerHousehold is a household whose bills the caller may pay; anyone
// else does not learn it exists.
func (s *Service) payerHousehold(ctx context.Context, c *access.Caller, id string) (*household.Household, error) {
	if err := validate.ID("input.householdId", id); err != nil {
		return nil, err
	}
	hs, err := s.cfg.Households.ByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	h := hs[id]
	if h == nil || !c.IsPerson() {
		return nil, household.ErrNotFound
	}
	ok, err := s.sees(ctx, c, &Payment{HouseholdID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, household.ErrNotFound
	}
	return h, nil
}

// ownBills refuses bills of another household as not found: a resident
// does not learn that another household's bill exists.
func (s *Service) ownBills(ctx context.Context, householdID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	byID, err := s.cfg.Fees.BillsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if b := byID[id]; b == nil || b.HouseholdID != householdID {
			return fee.ErrBillNotFound
		}
	}
	return nil
}

// openID is the person's WeChat openid, the one bound last (as the
// notification engine reaches them); "" when not bound.
func (s *Service) openID(ctx context.Context, personID string) (string, error) {
	var b struct {
		OpenID string `bson:"_id"`
	}
	err := s.bindings.FindOne(ctx, bson.D{{Key: "personId", Value: personID}},
		options.FindOne().SetSort(bson.D{{Key: "boundAt", Value: -1}})).Decode(&b)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("wechat binding: %w", err)
	}
	return b.OpenID, nil
}
