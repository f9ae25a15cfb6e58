package fee

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/mongo"
)

// Collections the fee domain owns.
const (
	colItems    = "fee_items"
	colSpaces   = "parking_spaces"
	colReadings = "meter_readings"
	colBills    = "bills"
	colReliefs  = "fee_reliefs"
	colAccess   = "bill_access"  // per household: may its tenants see its bills
	colNotices  = "bill_notices" // per bill: its FEE_BILL_ISSUED notice was sent
)

// Service is the fee domain.
type Service struct {
	items, spaces, readings, bills, reliefs, access *mgo.Collection
	noticesSent                                     *mgo.Collection
	now                                             func() time.Time
	communities                                     *community.Service
	households                                      *household.Service
	notices                                         Notifier
}

// NewService opens the fee collections.
func NewService(db *mongo.DB, now func() time.Time) *Service {
	return &Service{
		items: db.Collection(colItems), spaces: db.Collection(colSpaces), readings: db.Collection(colReadings),
		bills: db.Collection(colBills), reliefs: db.Collection(colReliefs), access: db.Collection(colAccess),
		noticesSent: db.Collection(colNotices),
		now:         now,
	}
}

// WithRegister gives the service the estate register it bills from:
// communities (time zone, building types) and households (floor area).
func (s *Service) WithRegister(communities *community.Service, households *household.Service) *Service {
	s.communities, s.households = communities, households
	return s
}

func asc(keys ...string) bson.D {
	d := bson.D{}
	for _, k := range keys {
		d = append(d, bson.E{Key: k, Value: 1})
	}
	return d
}

func init() {
	mongo.Declare(
		// The schedule with its history: all versions of a community's items.
		mongo.Indexes{Collection: colItems, Models: []mgo.IndexModel{{Keys: asc("communityId", "itemId", "version")}}},
		// One holder per space; a household's spaces when billing a batch.
		mongo.Indexes{Collection: colSpaces, Models: []mgo.IndexModel{
			{Keys: asc("communityId", "code"), Options: options.Index().SetUnique(true)},
			{Keys: asc("householdId")},
		}},
		mongo.Indexes{Collection: colReadings, Models: []mgo.IndexModel{{Keys: asc("communityId", "period")}}},
		// myBills (per household), bills by community with each filter, the
		// arrears list (per household, oldest due first) and the collection
		// rate per period.
		mongo.Indexes{Collection: colBills, Models: []mgo.IndexModel{
			{Keys: asc("householdId", "sortKey")},
			{Keys: asc("communityId", "sortKey")},
			{Keys: asc("communityId", "period", "sortKey")},
			{Keys: asc("communityId", "buildingId", "sortKey")},
			{Keys: asc("communityId", "status", "sortKey")},
			{Keys: asc("communityId", "householdId", "dueDate")},
		}},
	)
}
