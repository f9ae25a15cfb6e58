// Package payment records the payments that settle property fee bills: at
// the counter (cash, card, bank transfer) by the front desk, and later WeChat
// Pay. A payment is written first with its planned allocations (SETTLING),
// then each bill is allocated through fee.Allocate (idempotent per payment),
// then it takes the community's next receipt number and becomes SETTLED. A
// payment interrupted between those steps is finished by Tick, so money
// never disappears and nothing is counted twice. Refunds take allocations
// back through fee.ReduceAllocation, newest bills first.
package payment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/community"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/staff"
)

// Method is how a payment was made.
type Method string

const (
	Cash         Method = "CASH"
	Card         Method = "CARD"          // bank card at the counter (POS)
	BankTransfer Method = "BANK_TRANSFER" // 银行转账
	Wechat       Method = "WECHAT"        // WeChat Pay, online
)

// Methods in display order.
var Methods = []Method{Cash, Card, BankTransfer, Wechat}

// Status is where a payment stands.
type Status string

const (
	Pending        Status = "PENDING"         // WeChat: the order exists, the money has not arrived
	Settling       Status = "SETTLING"        // money received, bills being allocated
	Settled        Status = "SETTLED"         // allocated, receipt numbered
	Refunded       Status = "REFUNDED"        // refunded in full
	PartlyRefunded Status = "PARTLY_REFUNDED" // some refunded
)

// Planned is part of a payment meant for one bill.
type Planned struct {
	BillID string `bson:"billId"`
	Period string `bson:"period"`
	Amount int64  `bson:"amount"` // fen
}

// Refund gives part of a payment back. Bills lists, per bill, how much of
// the payment's allocation it took back and what stays (Keep), so finishing
// it again after a crash changes nothing.
type Refund struct {
	ID     string       `bson:"id"`
	Amount int64        `bson:"amount"`
	Reason string       `bson:"reason"`
	By     string       `bson:"by"`
	ByName string       `bson:"byName"`
	At     time.Time    `bson:"at"`
	Bills  []RefundBill `bson:"bills"`
	Done   bool         `bson:"done"` // every bill reduced
	// State is where the money stands: SUCCESS for a counter refund (given
	// at the counter); a WeChat Pay refund is PROCESSING until WeChat
	// reports SUCCESS, ABNORMAL or CLOSED.
	State       RefundState `bson:"state,omitempty"`
	OutRefundNo string      `bson:"outRefundNo,omitempty"` // WeChat Pay refunds: ID, the merchant's refund number
	WechatID    string      `bson:"wechatId,omitempty"`    // WeChat's refund_id
	FinishedAt  *time.Time  `bson:"finishedAt,omitempty"`  // when it reached SUCCESS or CLOSED
	// Failure is WeChat's code when it refused the request outright
	// (NOT_ENOUGH...); the refund is then CLOSED.
	Failure string `bson:"failure,omitempty"`
	// Restored is set when the refund is CLOSED: false until the bills it
	// took money from were given it back (restoreClosed), then true.
	Restored *bool `bson:"restored,omitempty"`
}

// RefundState is where a refund's money stands.
type RefundState string

const (
	RefundProcessing RefundState = "PROCESSING" // asked of WeChat Pay, no outcome yet
	RefundSuccess    RefundState = "SUCCESS"    // the money is back with the payer
	RefundAbnormal   RefundState = "ABNORMAL"   // WeChat holds it: the payer's account cannot take it
	RefundClosed     RefundState = "CLOSED"     // not refunded: the money stayed with the community
)

// Outcome is the refund's state; refunds stored before states existed
// were counter refunds, given on the spot.
func (r Refund) Outcome() RefundState {
	if r.State == "" {
		return RefundSuccess
	}
	return r.State
}

// open reports whether the refund still waits on WeChat or on putting its
// money back on the bills.
func (r Refund) open() bool {
	return r.State == RefundProcessing || r.State == RefundAbnormal || (r.Restored != nil && !*r.Restored)
}

// RefundBill is one bill a refund takes money back from.
type RefundBill struct {
	BillID string `bson:"billId"`
	Period string `bson:"period"`
	Amount int64  `bson:"amount"` // taken back
	Keep   int64  `bson:"keep"`   // the payment's allocation left on the bill
}

// Payment is money a household paid (缴费).
type Payment struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	BuildingID  string    `bson:"buildingId"`
	HouseholdID string    `bson:"householdId"`
	Label       string    `bson:"label"` // the household's room label when paid
	Method      Method    `bson:"method"`
	Amount      int64     `bson:"amount"` // fen
	Status      Status    `bson:"status"`
	Allocations []Planned `bson:"allocations"`
	// Unallocated is what a planned bill refused when the payment settled
	// (cancelled or relieved meanwhile): received but on no bill, listed as
	// unmatched in the reconciliation until finance deals with it.
	Unallocated int64 `bson:"unallocated"`
	// ReceiptNo is the community's receipt number (1, 2, ...), 0 until settled.
	ReceiptNo      int64     `bson:"receiptNo"`
	RecordedBy     string    `bson:"recordedBy"`
	RecordedByName string    `bson:"recordedByName"`
	PaidAt         time.Time `bson:"paidAt"`
	Day            string    `bson:"day"` // PaidAt's date in the community's time, for the daily reconciliation
	Reference      string    `bson:"reference,omitempty"`
	IdempotencyKey string    `bson:"idempotencyKey,omitempty"` // the counter PC's, when it sent one
	Refunded       int64     `bson:"refunded"`
	// TakenBack is what its refunds took back from bills, less those
	// CLOSED: kept beside Refunds in the same steps so the reconciliation
	// sums Net in the database (FerretDB cannot $unwind nested lists).
	TakenBack  int64             `bson:"takenBack"`
	Refunds    []Refund          `bson:"refunds"`
	RefundDays []string          `bson:"refundDays"` // local dates of its refunds, for the daily reconciliation
	Version    int               `bson:"version"`
	Timeline   []lifecycle.Entry `bson:"timeline"`
	CreatedAt  time.Time         `bson:"createdAt"`
	UpdatedAt  time.Time         `bson:"updatedAt"`
	SettledAt  *time.Time        `bson:"settledAt,omitempty"`
	// WeChat Pay: where it was ordered, until when the order takes money,
	// and WeChat's transaction id once paid (unique: one transaction
	// settles one payment).
	Channel       Channel    `bson:"channel,omitempty"`
	ExpiresAt     *time.Time `bson:"expiresAt,omitempty"`
	TransactionID string     `bson:"transactionId,omitempty"`
	// Mismatch is a paid result WeChat reported with another amount than
	// the order's: nothing settled, the query job leaves the payment alone
	// and the reconciliation lists it until finance deals with it.
	Mismatch *AmountMismatch `bson:"mismatch,omitempty"`
}

// AmountMismatch is WeChat's word that an order was paid with another amount.
type AmountMismatch struct {
	TransactionID string    `bson:"transactionId"`
	Amount        int64     `bson:"amount"` // fen WeChat reported
	At            time.Time `bson:"at"`
}

// ReceiptText is the receipt number as printed: six digits at least.
func ReceiptText(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%06d", n)
}

const (
	colPayments = "payments"
	colNumbers  = "receipt_numbers"
	colBindings = "wechat_bindings" // owned by identity: _id = openid, personId, boundAt
)

func init() {
	lifecycle.Declare(colPayments)
	mongo.Declare(
		mongo.Indexes{Collection: colPayments, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "day", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: 1}}},
			{Keys: bson.D{{Key: "refunds.done", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "refundDays", Value: 1}}},
			{Keys: bson.D{{Key: "refunds.restored", Value: 1}}},
			// The reconciliation's open payments and open WeChat refunds.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "refunds.state", Value: 1}}},
		}},
		// The unique (communityId, number) is what makes numbers exact under
		// two servers; the unique paymentId makes one payment take one.
		mongo.Indexes{Collection: colNumbers, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "number", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "paymentId", Value: 1}}, Options: options.Index().SetUnique(true)},
		}},
	)
}

// Errors of payments.
var (
	ErrNotFound       = apperr.New(apperr.NotFound, "payment.not_found")
	ErrRefundTooLarge = apperr.New(apperr.BadUserInput, "payment.refund_too_large")
	ErrNotRefundable  = apperr.New(apperr.Conflict, "payment.not_refundable")
	ErrRefundOpen     = apperr.New(apperr.Conflict, "payment.refund_open")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"payment.not_found":          {ZH: "缴费记录不存在", EN: "Payment not found"},
		"payment.over_outstanding":   {ZH: "超出所选账单未缴总额 %s 元", EN: "is more than the outstanding total of the chosen bills, %s yuan"},
		"payment.no_open_bills":      {ZH: "该户没有待缴账单", EN: "The household has no bill to pay"},
		"payment.bill_not_open":      {ZH: "账单 %s 不属于该户或已结清", EN: "Bill %s is not this household's or takes no payment"},
		"payment.paid_at_future":     {ZH: "收款时间不能晚于现在", EN: "must not be in the future"},
		"payment.refund_too_large":   {ZH: "超出可退金额 %s 元", EN: "is more than the refundable %s yuan"},
		"payment.not_refundable":     {ZH: "该笔缴费尚未结算或已全额退款", EN: "This payment is not settled or is already refunded in full"},
		"payment.refund_open":        {ZH: "该笔缴费有一笔微信退款尚未完成，请待其完成后再退款", EN: "A WeChat Pay refund of this payment is not finished yet; refund again once it is"},
		"payment.method_not_counter": {ZH: "柜台收款只能是现金、刷卡或银行转账", EN: "must be cash, card or bank transfer at the counter"},
	})
}

// Households is what payments need from the register.
type Households interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Communities names the community on a receipt and gives its time zone.
type Communities interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
}

// Staff names who recorded a payment.
type Staff interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
}

// TenantAccess says whether a household's owners let its tenants see its
// bills (and so its receipts). Nil: tenants see none.
type TenantAccess func(ctx context.Context, householdID string) (bool, error)

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Config wires a Service.
type Config struct {
	DB          *mongo.DB
	Fees        *fee.Service
	Households  Households
	Communities Communities
	Staff       Staff
	Tenants     TenantAccess
	Sender      Sender
	// Wechat is the WeChat Pay client; nil: WeChat Pay is off.
	Wechat *wechatpay.Client
	Log    *slog.Logger
	Now    func() time.Time
}

// Service records payments.
type Service struct {
	col, numbers, bindings *mgo.Collection
	steps                  *lifecycle.Store
	cfg                    Config
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	return &Service{col: cfg.DB.Collection(colPayments), numbers: cfg.DB.Collection(colNumbers),
		bindings: cfg.DB.Collection(colBindings),
		steps:    lifecycle.NewStore(cfg.DB, colPayments, cfg.Now), cfg: cfg}
}

// Fees is the fee service payments allocate through.
func (s *Service) Fees() *fee.Service { return s.cfg.Fees }
