// Package fee owns property fees (物业费): each community's published fee
// schedule (收费标准) with its history, the parking spaces and shared meter
// readings bills are computed from, the bills themselves (one per household
// and billing period), and fee relief for families in hardship (减免).
// Payments (internal/payment) settle bills only through Allocate and
// Unallocate, so a bill's paid amount always equals the payments allocated
// to it. Money is integer fen (int64) end to end; periods are months
// "YYYY-MM" in the community's time zone.
package fee

import (
	"fmt"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
)

// ItemKind is what a fee item charges for.
type ItemKind string

const (
	Management        ItemKind = "MANAGEMENT"         // 物业管理费, per m² of floor area per month
	Parking           ItemKind = "PARKING"            // 车位管理费, per space per month
	SharedWater       ItemKind = "SHARED_WATER"       // 公摊水费, from meter readings
	SharedElectricity ItemKind = "SHARED_ELECTRICITY" // 公摊电费, from meter readings
	OtherFee          ItemKind = "OTHER"              // a fixed monthly charge per household
)

// ItemKinds lists the valid kinds.
var ItemKinds = []ItemKind{Management, Parking, SharedWater, SharedElectricity, OtherFee}

// Apportion is how a shared charge is split among households.
type Apportion string

const (
	ByArea  Apportion = "BY_AREA" // in proportion to floor area
	Equally Apportion = "EQUALLY" // the same for every household
)

// Item is one version of a fee item (收费项目) of a community. Every change
// is a new version with the period it takes effect from; bills copy the
// version they were computed with, so a rate change never touches a bill
// already issued.
type Item struct {
	ID          string   `bson:"_id"`    // "<itemId>#<version>": versions are claimed by insert
	ItemID      string   `bson:"itemId"` // stable across versions
	Version     int      `bson:"version"`
	CommunityID string   `bson:"communityId"`
	Code        string   `bson:"code"` // short and stable within the community, e.g. "MGMT-HIGH"
	Kind        ItemKind `bson:"kind"`
	Name        string   `bson:"name"`
	NameEN      string   `bson:"nameEN,omitempty"`
	// Rate in fen: per m² per month (MANAGEMENT), per space per month
	// (PARKING), per household per month (OTHER); unused by shared charges.
	Rate int64 `bson:"rate"`
	// RatesByBuildingType overrides Rate for buildings of a type
	// (e.g. HIGH_RISE, MULTI_STOREY, VILLA), for MANAGEMENT.
	RatesByBuildingType map[string]int64 `bson:"ratesByBuildingType,omitempty"`
	Apportion           Apportion        `bson:"apportion,omitempty"` // shared charges
	EffectiveFrom       string           `bson:"effectiveFrom"`       // first period, "YYYY-MM"
	Retired             bool             `bson:"retired"`             // from EffectiveFrom on, not charged
	Note                string           `bson:"note,omitempty"`      // why it changed, shown in the history
	CreatedBy           string           `bson:"createdBy"`
	CreatedAt           time.Time        `bson:"createdAt"`
}

// BillStatus is where a bill stands.
type BillStatus string

const (
	Issued     BillStatus = "ISSUED"      // nothing paid yet
	PartlyPaid BillStatus = "PARTLY_PAID" // some paid, some outstanding
	Paid       BillStatus = "PAID"        // nothing outstanding, something paid
	Waived     BillStatus = "WAIVED"      // relieved in full (减免), nothing to pay
	Cancelled  BillStatus = "CANCELLED"   // withdrawn with a reason; nothing owed
)

// BillStatuses in display order.
var BillStatuses = []BillStatus{Issued, PartlyPaid, Paid, Waived, Cancelled}

// Line is one fee item on a bill, as computed when the bill was issued.
type Line struct {
	ItemID      string   `bson:"itemId"`
	ItemVersion int      `bson:"itemVersion"`
	Code        string   `bson:"code"`
	Kind        ItemKind `bson:"kind"`
	Name        string   `bson:"name"`
	NameEN      string   `bson:"nameEN,omitempty"`
	// Quantity says what was charged for, shown to the owner: "89.50 m²",
	// "1 个车位", "按面积分摊 89.50/10230.00 m²".
	Quantity  string `bson:"quantity"`
	UnitPrice int64  `bson:"unitPrice"` // fen
	Amount    int64  `bson:"amount"`    // fen, before relief
	Relief    int64  `bson:"relief"`    // fen relieved on this line (0..Amount)
}

// Allocation is part of a payment applied to a bill. A bill holds at most
// one allocation per payment: that is what makes allocating idempotent.
type Allocation struct {
	PaymentID string    `bson:"paymentId"`
	Amount    int64     `bson:"amount"` // fen, > 0
	At        time.Time `bson:"at"`
}

// Bill is one household's bill (账单) for one period.
type Bill struct {
	// ID is derived, "bill:<communityId>:<householdId>:<period>", so
	// generating a period twice inserts nothing the second time.
	ID          string       `bson:"_id"`
	CommunityID string       `bson:"communityId"`
	BuildingID  string       `bson:"buildingId"`
	HouseholdID string       `bson:"householdId"`
	Label       string       `bson:"label"`  // the household's room label at issue
	Period      string       `bson:"period"` // "YYYY-MM"
	Lines       []Line       `bson:"lines"`
	Amount      int64        `bson:"amount"`   // sum of line amounts
	Relieved    int64        `bson:"relieved"` // sum of line reliefs
	Paid        int64        `bson:"paid"`     // sum of allocations
	Status      BillStatus   `bson:"status"`
	DueDate     string       `bson:"dueDate"` // "YYYY-MM-DD", community time
	Allocations []Allocation `bson:"allocations"`
	// CancelReason says why a CANCELLED bill was withdrawn; who withdrew it
	// and when are also on its timeline.
	CancelReason string     `bson:"cancelReason,omitempty"`
	CancelledAt  *time.Time `bson:"cancelledAt,omitempty"`
	// Replaces names the cancelled bill this one was reissued for
	// ("<billId>~2"); ReplacedBy, on the cancelled bill, names its
	// replacement (see reissue.go).
	Replaces   string `bson:"replaces,omitempty"`
	ReplacedBy string `bson:"replacedBy,omitempty"`
	// Announced says the household is told of the bill (FEE_BILL_ISSUED)
	// when it is issued; the bill_notices collection records that it was,
	// so a run stopped in between tells when billing runs again
	// (notice.go). The bill itself is never written for it.
	Announced bool              `bson:"announced,omitempty"`
	Version   int               `bson:"version"`
	Timeline  []lifecycle.Entry `bson:"timeline"`
	IssuedAt  time.Time         `bson:"issuedAt"`
	UpdatedAt time.Time         `bson:"updatedAt"`
	SortKey   string            `bson:"sortKey"` // newest period first, then id
}

// Yuan writes fen as yuan with two decimals from the integer, never
// through a float: 123456 → "1234.56", -5 → "-0.05". Every amount shown to
// people (notices, statements, receipts, reports) is written by it.
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-(fen+1))+1 // math.MinInt64 too
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// BillID is the derived id of a household's bill for period.
func BillID(communityID, householdID, period string) string {
	return "bill:" + communityID + ":" + householdID + ":" + period
}

// Outstanding is what is still owed on the bill: nothing on a cancelled or
// waived bill.
func (b *Bill) Outstanding() int64 {
	if b.Status == Cancelled || b.Status == Waived {
		return 0
	}
	if o := b.Amount - b.Relieved - b.Paid; o > 0 {
		return o
	}
	return 0
}

// StatusFor is the status a bill's amounts put it in (cancellation aside):
// every change of Paid or Relieved sets it from this.
func StatusFor(amount, relieved, paid int64) BillStatus {
	switch {
	case amount-relieved <= 0 && paid == 0:
		return Waived
	case paid >= amount-relieved:
		return Paid
	case paid > 0:
		return PartlyPaid
	default:
		return Issued
	}
}

// Errors of the fee domain; their messages are registered below.
var (
	ErrBillNotFound   = apperr.New(apperr.NotFound, "fee.bill_not_found")
	ErrItemNotFound   = apperr.New(apperr.NotFound, "fee.item_not_found")
	ErrOverAllocation = apperr.New(apperr.Conflict, "fee.over_allocation")
	ErrBillClosed     = apperr.New(apperr.Conflict, "fee.bill_closed")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"fee.bill_not_found":  {ZH: "账单不存在", EN: "Bill not found"},
		"fee.item_not_found":  {ZH: "收费项目不存在", EN: "Fee item not found"},
		"fee.over_allocation": {ZH: "金额超过账单未缴金额", EN: "The amount is more than the bill's outstanding amount"},
		"fee.bill_closed":     {ZH: "账单已结清、减免或取消，不能再收款", EN: "The bill is settled, waived or cancelled and takes no payment"},
	})
}
