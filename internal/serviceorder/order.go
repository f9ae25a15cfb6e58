// Package serviceorder owns service orders (有偿服务订单): an owner books an
// item of the community's price list for their household, staff confirm,
// serve and complete it, the owner accepts and rates it, a butler calls back.
// Orders copy the item's name, price and unit when booked, so a later change
// of the price list never alters an order already placed. Laundry orders
// also carry their item list, checked at pick-up and again on return.
//
// The package is named for what it owns (orders), not "services", which in
// this code base already means the domain services themselves.
package serviceorder

import (
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/catalog"
	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Status of an order.
type Status string

const (
	Booked     Status = "BOOKED"      // booked by the owner (or granted by the company), nobody confirmed it yet
	Confirmed  Status = "CONFIRMED"   // staff assigned, slot agreed
	InService  Status = "IN_SERVICE"  // being served (laundry: picked up)
	Done       Status = "DONE"        // finished, charges final; waits for the owner
	Accepted   Status = "ACCEPTED"    // the owner confirmed it; waits for the callback
	CalledBack Status = "CALLED_BACK" // called back, satisfied or not (kept on the record)
	Cancelled  Status = "CANCELLED"
)

// Statuses in lifecycle order.
var Statuses = []Status{Booked, Confirmed, InService, Done, Accepted, CalledBack, Cancelled}

// Machine is every legal step; "" keeps the state.
var Machine = lifecycle.Machine[Status]{
	"cancel":         {From: []Status{Booked}, To: Cancelled},                       // the household, until confirmed
	"staff_cancel":   {From: []Status{Booked, Confirmed, InService}, To: Cancelled}, // staff, with a reason, before done
	"confirm":        {From: []Status{Booked}, To: Confirmed},
	"start":          {From: []Status{Confirmed}, To: InService},
	"laundry_return": {From: []Status{InService}, To: ""},
	"complete":       {From: []Status{InService}, To: Done},
	"accept":         {From: []Status{Done}, To: Accepted},
	"rate":           {From: []Status{Accepted}, To: ""}, // an owner who accepted without rating, until the callback
	"callback":       {From: []Status{Accepted}, To: CalledBack},
	"payment":        {From: []Status{Done, Accepted, CalledBack}, To: ""}, // charges are final once done
}

// PaymentStatus of an order's charges. There is no payment gateway: staff
// record what was paid at the counter, supervisors waive.
type PaymentStatus string

const (
	Unpaid        PaymentStatus = "UNPAID"
	PaidAtCounter PaymentStatus = "PAID_AT_COUNTER"
	Waived        PaymentStatus = "WAIVED"
	// Free marks an order of a free item: it is never charged, so it never
	// shows up as unpaid.
	Free PaymentStatus = "FREE"
)

// Line is what was booked, copied from the price list at booking.
type Line struct {
	ItemID   string           `bson:"itemId,omitempty"` // empty for a generated line
	Name     string           `bson:"name"`
	Category catalog.Category `bson:"category"`
	Unit     catalog.Unit     `bson:"unit"`
	PriceFen int64            `bson:"priceFen"`
	Free     bool             `bson:"free"`
}

// Slot is when the service happens: a date and a window in the community's
// time zone, with the instants they mean.
type Slot struct {
	Date  string    `bson:"date"` // YYYY-MM-DD
	From  string    `bson:"from"` // HH:MM
	To    string    `bson:"to"`
	Start time.Time `bson:"start"`
	End   time.Time `bson:"end"`
}

// Extra is a charge added when the service is completed (materials, more time).
type Extra struct {
	Name      string `bson:"name"`
	AmountFen int64  `bson:"amountFen"`
}

// Payment is the current payment record.
type Payment struct {
	Status  PaymentStatus `bson:"status"`
	StaffID string        `bson:"staffId,omitempty"`
	At      *time.Time    `bson:"at,omitempty"`
	Reason  string        `bson:"reason,omitempty"`
}

// Acceptance is the owner's confirmation of a done order.
type Acceptance struct {
	PersonID string    `bson:"personId"`
	Rating   int       `bson:"rating"` // 0: accepted without rating (asked later)
	Comment  string    `bson:"comment,omitempty"`
	At       time.Time `bson:"at"`
}

// Callback is the butler's callback (回访).
type Callback struct {
	StaffID   string    `bson:"staffId"`
	Satisfied bool      `bson:"satisfied"`
	Notes     string    `bson:"notes,omitempty"`
	At        time.Time `bson:"at"`
}

// Order is one booking with everything that changes with it: one document,
// so each step is one atomic write.
type Order struct {
	ID             string `bson:"_id"`
	CommunityID    string `bson:"communityId"`
	HouseholdID    string `bson:"householdId"`
	BuildingID     string `bson:"buildingId"`
	HouseholdLabel string `bson:"householdLabel"`
	BookedBy       string `bson:"bookedBy,omitempty"` // the person; empty when the company granted it
	// Source names what created a granted order (a renovation's completion):
	// the same source never creates two orders.
	Source          string            `bson:"source,omitempty"`
	Line            Line              `bson:"line"`
	Quantity        float64           `bson:"quantity"`
	Notes           string            `bson:"notes,omitempty"`
	Slot            *Slot             `bson:"slot,omitempty"`
	Laundry         *Laundry          `bson:"laundry,omitempty"`
	Status          Status            `bson:"status"`
	Version         int               `bson:"version"`
	HandlerID       string            `bson:"handlerId,omitempty"`  // who confirmed it: owes the callback
	AssigneeID      string            `bson:"assigneeId,omitempty"` // who serves it
	AssigneeHistory []string          `bson:"assigneeHistory"`      // everyone ever assigned: they may see it
	Extras          []Extra           `bson:"extras"`
	CompletionNotes string            `bson:"completionNotes,omitempty"`
	DoneAt          *time.Time        `bson:"doneAt,omitempty"`
	Acceptance      *Acceptance       `bson:"acceptance,omitempty"`
	AcceptedAt      *time.Time        `bson:"acceptedAt,omitempty"`
	Rated           bool              `bson:"rated"`
	Callback        *Callback         `bson:"callback,omitempty"`
	Payment         Payment           `bson:"payment"`
	CancelReason    string            `bson:"cancelReason,omitempty"`
	Timeline        []lifecycle.Entry `bson:"timeline"`
	BookedAt        time.Time         `bson:"bookedAt"`
	UpdatedAt       time.Time         `bson:"updatedAt"`
	SortKey         string            `bson:"sortKey"` // newest first
	// Intake is how it came in: set when staff filed it on a resident's
	// behalf or the resident named a channel (see package intake).
	Intake *intake.Record `bson:"intake,omitempty"`
}

// Charges is what the owner pays: nothing for a free item; otherwise price
// x quantity (quantities have at most three decimals: 1.5 小时, 85.25 平方米,
// counted in thousandths so money stays integer, rounded half up) plus extras.
func (o *Order) Charges() (base, extras int64) {
	if o.Line.Free {
		return 0, 0
	}
	milli := int64(math.Round(o.Quantity * 1000))
	base = (o.Line.PriceFen*milli + 500) / 1000
	for _, e := range o.Extras {
		extras += e.AmountFen
	}
	return base, extras
}

// IsLaundry reports an order with an item list.
func (o *Order) IsLaundry() bool { return o.Line.Category == catalog.Laundry }

var (
	ErrNotFound        = apperr.New(apperr.NotFound, "serviceorder.not_found")
	ErrNotStaff        = apperr.New(apperr.BadUserInput, "serviceorder.not_staff")
	ErrChargesWhenFree = apperr.New(apperr.BadUserInput, "serviceorder.charges_when_free")
	ErrAlreadyRated    = apperr.New(apperr.Conflict, "serviceorder.already_rated")
	ErrNotLaundry      = apperr.New(apperr.BadUserInput, "serviceorder.not_laundry")
	ErrAlreadyReturned = apperr.New(apperr.Conflict, "serviceorder.already_returned")
	ErrReturnPending   = apperr.New(apperr.Conflict, "serviceorder.return_pending")
	ErrPaymentSame     = apperr.New(apperr.Conflict, "serviceorder.payment_same")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"serviceorder.not_found":          {ZH: "服务订单不存在", EN: "Service order not found"},
		"serviceorder.not_staff":          {ZH: "该员工不在本小区任职", EN: "is not an active staff member of this community"},
		"serviceorder.charges_when_free":  {ZH: "免费服务不能收取费用", EN: "a free service has no charges"},
		"serviceorder.already_rated":      {ZH: "该订单已评分", EN: "This order is already rated"},
		"serviceorder.not_laundry":        {ZH: "只有洗衣订单有衣物清单", EN: "only laundry orders have an item list"},
		"serviceorder.already_returned":   {ZH: "衣物已清点送回", EN: "The laundry return is already recorded"},
		"serviceorder.return_pending":     {ZH: "请先清点送回的衣物", EN: "Record the laundry return first"},
		"serviceorder.payment_same":       {ZH: "付款状态未变化", EN: "The payment status is already that"},
		"serviceorder.item_retired":       {ZH: "该服务项目已下架", EN: "is no longer offered"},
		"serviceorder.outside_windows":    {ZH: "不在该服务的可预约时段内", EN: "is outside the item's bookable windows"},
		"serviceorder.slot_past":          {ZH: "预约时间已过", EN: "is in the past"},
		"serviceorder.bad_rating":         {ZH: "评分应为 1 到 5", EN: "must be between 1 and 5"},
		"serviceorder.free_never_charged": {ZH: "免费服务无需付款", EN: "a free service is never charged"},
		"serviceorder.bad_payment_step":   {ZH: "只能从未付款改为已付款或减免，或由主管改回未付款", EN: "can change from unpaid to paid or waived, or back to unpaid by a supervisor"},
		"serviceorder.return_incomplete":  {ZH: "请逐件清点：每件衣物各一行", EN: "must list every item exactly once"},
		"serviceorder.return_before":      {ZH: "承诺送回日期不能早于今天", EN: "cannot be before today"},
		"serviceorder.slot_required":      {ZH: "请约定上门时间", EN: "is required: agree a time with the owner"},
	})
	lifecycle.Declare("service_orders")
	mongo.Declare(mongo.Indexes{Collection: "service_orders", Models: []mgo.IndexModel{
		// The staff list of a community, newest first, with its filters.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "line.category", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "assigneeId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "slot.start", Value: 1}}},
		// Staff who serve orders see those they were ever assigned.
		{Keys: bson.D{{Key: "assigneeHistory", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The household's own orders.
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		// Callbacks owed: the reminders (all communities) and the butler task list (one community).
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "acceptedAt", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "acceptedAt", Value: 1}}},
	}})
}
