package fee

import (
	"time"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// Collections the fee domain owns.
const (
	colItems    = "fee_items"
	colSpaces   = "parking_spaces"
	colReadings = "meter_readings"
	colBills    = "bills"
	colReliefs  = "fee_reliefs"
	colAccess   = "bill_access" // per household: may its tenants see its bills
)

// Service is the fee domain.
type Service struct {
	items, spaces, readings, bills, reliefs, access *mgo.Collection
	now                                             func() time.Time
}

// NewService opens the fee collections.
func NewService(db *mongo.DB, now func() time.Time) *Service {
	return &Service{
		items: db.Collection(colItems), spaces: db.Collection(colSpaces), readings: db.Collection(colReadings),
		bills: db.Collection(colBills), reliefs: db.Collection(colReliefs), access: db.Collection(colAccess),
		now: now,
	}
}
