package notify

import (
	"errors"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"
)

func asBulk(err error, out *mgo.BulkWriteException) bool { return errors.As(err, out) }
