// Package catalog owns each community's published price list (公示服务项目与
// 收费价目): the service items owners may book, what each costs and when it
// can be booked. Supervisors edit it; every price change is kept, and orders
// copy the price they were booked at, so the list may change freely.
package catalog

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Category of service.
type Category string

const (
	HomeCleaning Category = "HOME_CLEANING"
	Laundry      Category = "LAUNDRY"
	Greening     Category = "GREENING" // greening and plant care
	Housekeeping Category = "HOUSEKEEPING"
	MovingHelp   Category = "MOVING_HELP"
	RepairLabour Category = "REPAIR_LABOUR" // paid repair labour (有偿维修)
	Other        Category = "OTHER"
)

// Categories in the order the price list shows them.
var Categories = []Category{HomeCleaning, Laundry, Greening, Housekeeping, MovingHelp, RepairLabour, Other}

// Unit a price is quoted per.
type Unit string

const (
	PerHour        Unit = "PER_HOUR"
	PerItem        Unit = "PER_ITEM"
	PerSquareMetre Unit = "PER_SQUARE_METRE"
	PerVisit       Unit = "PER_VISIT"
)

// Units lists the valid units.
var Units = []Unit{PerHour, PerItem, PerSquareMetre, PerVisit}

// Status of an item: active items can be booked; retired ones stay for the
// record (orders point at them) but are no longer offered.
type Status string

const (
	Active  Status = "ACTIVE"
	Retired Status = "RETIRED"
)

// Machine: edits keep the state (a retired item's text may still be
// corrected); retiring is one way, so a price list entry owners relied on
// never silently comes back with another meaning.
var Machine = lifecycle.Machine[Status]{
	"edit":   {From: []Status{Active, Retired}, To: ""},
	"retire": {From: []Status{Active}, To: Retired},
}

// Window is a bookable time window: on these weekdays (1 = Monday … 7 =
// Sunday), from..to in the community's local time ("HH:MM").
type Window struct {
	Weekdays []int  `bson:"weekdays"`
	From     string `bson:"from"`
	To       string `bson:"to"`
}

// PriceChange is one line of an item's price history: who changed what,
// when. The first line is the item's creation (no old values).
type PriceChange struct {
	At          time.Time `bson:"at"`
	StaffID     string    `bson:"staffId"`
	OldPriceFen *int64    `bson:"oldPriceFen,omitempty"`
	NewPriceFen int64     `bson:"newPriceFen"`
	OldUnit     Unit      `bson:"oldUnit,omitempty"`
	NewUnit     Unit      `bson:"newUnit"`
	OldFree     *bool     `bson:"oldFree,omitempty"`
	NewFree     bool      `bson:"newFree"`
}

// Item is one entry of a community's price list.
type Item struct {
	ID           string            `bson:"_id"`
	CommunityID  string            `bson:"communityId"`
	Name         string            `bson:"name"`
	Category     Category          `bson:"category"`
	Description  string            `bson:"description,omitempty"`
	PriceFen     int64             `bson:"priceFen"`
	Unit         Unit              `bson:"unit"`
	Free         bool              `bson:"free"`
	Windows      []Window          `bson:"windows"`
	Status       Status            `bson:"status"`
	Version      int               `bson:"version"`
	PriceHistory []PriceChange     `bson:"priceHistory"`
	Timeline     []lifecycle.Entry `bson:"timeline"`
	CreatedBy    string            `bson:"createdBy"`
	CreatedAt    time.Time         `bson:"createdAt"`
	UpdatedAt    time.Time         `bson:"updatedAt"`
	// SortKey orders the price list: category, then name.
	SortKey string `bson:"sortKey"`
}

// IsActive reports an item that can be booked.
func (it *Item) IsActive() bool { return it.Status == Active }

var (
	ErrNotFound = apperr.New(apperr.NotFound, "catalog.not_found")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"catalog.not_found":       {ZH: "服务项目不存在", EN: "Service item not found"},
		"catalog.price_when_free": {ZH: "免费项目的价格应为 0", EN: "must be 0 for a free item"},
		"catalog.price_required":  {ZH: "收费项目的价格应大于 0", EN: "must be more than 0 for a paid item"},
		"catalog.bad_weekday":     {ZH: "星期应为 1（周一）到 7（周日），且不重复", EN: "must be days 1 (Monday) to 7 (Sunday), each once"},
		"catalog.bad_clock":       {ZH: "时间格式应为 HH:MM", EN: "must be a time of day as HH:MM"},
		"catalog.bad_window":      {ZH: "结束时间应晚于开始时间", EN: "must end after it starts"},
		"catalog.no_windows":      {ZH: "请至少设置一个可预约时段", EN: "needs at least one bookable window"},
	})
	lifecycle.Declare("service_items")
	mongo.Declare(mongo.Indexes{Collection: "service_items", Models: []mgo.IndexModel{
		// The price list of a community, and its active part.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The free cleaning item a renovation's completion books.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "category", Value: 1}, {Key: "free", Value: 1}, {Key: "status", Value: 1}}},
	}})
}
