package notify

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The outbox reads thousands of deliveries and devices per round. Decoding
// them through the driver's reflection costs two allocations per string
// field and most of the worker's own time; these read the few fields a
// round needs straight from the reply.

var errBadDocument = errors.New("malformed BSON document")

// eachField calls f with every top-level element of doc.
func eachField(doc []byte, f func(key string, v bsoncore.Value)) error {
	if len(doc) < 5 {
		return errBadDocument
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		e, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return errBadDocument
		}
		f(string(e.KeyBytes()), e.Value())
		rest = r
	}
	return nil
}

func bsonString(v bsoncore.Value) string {
	s, _ := v.StringValueOK()
	return s
}

func bsonInt(v bsoncore.Value) int {
	n, _ := v.AsInt64OK()
	return int(n)
}

// decodeSending reads the fields of a delivery a round sends (sendFields).
func decodeSending(doc []byte) (Delivery, error) {
	var d Delivery
	var derr error
	err := eachField(doc, func(k string, v bsoncore.Value) {
		switch k {
		case "_id":
			d.ID = bsonString(v)
		case "notificationId":
			d.NotificationID = bsonString(v)
		case "recipientKind":
			d.RecipientKind = bsonString(v)
		case "recipientId":
			d.RecipientID = bsonString(v)
		case "channel":
			d.Channel = bsonString(v)
		case "kind":
			d.Kind = Kind(bsonString(v))
		case "priority":
			d.Priority = bsonInt(v)
		case "attempts":
			d.Attempts = bsonInt(v)
		case "status":
			d.Status = bsonString(v)
		case "leaseOwner":
			d.LeaseOwner = bsonString(v)
		case "title":
			d.Title = bsonString(v)
		case "body":
			d.Body = bsonString(v)
		case "data":
			m, ok := v.DocumentOK()
			if !ok {
				return
			}
			d.Data = map[string]string{}
			if err := eachField(m, func(k string, v bsoncore.Value) { d.Data[k] = bsonString(v) }); err != nil {
				derr = err
			}
		}
	})
	if err == nil {
		err = derr
	}
	return d, err
}

// decodeToken reads a device's token and owner.
func decodeToken(doc []byte) (Device, error) {
	var d Device
	err := eachField(doc, func(k string, v bsoncore.Value) {
		switch k {
		case "_id":
			d.Token = bsonString(v)
		case "userKind":
			d.UserKind = bsonString(v)
		case "userId":
			d.UserID = bsonString(v)
		}
	})
	return d, err
}
