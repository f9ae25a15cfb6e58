package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/mongo"
)

// Every inbox entry and every push carries these data keys, the same in
// both, so an app can tell what a push is (kind, as the inbox entry's kind)
// and order the notices about one thing that arrive out of order (subject,
// seq: the n-th message about that subject; eventAt: when it happened,
// RFC 3339). A recipient may not get every message of a subject (a callback
// reminder goes to the butler), so seq increases but may skip.
const (
	DataKind    = "kind"
	DataSubject = "subject"
	DataSeq     = "seq"
	DataEventAt = "eventAt"
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: "notice_seqs", Models: []mgo.IndexModel{
		// One number per subject: two servers numbering at once cannot both
		// take it (FerretDB's findOneAndUpdate is not atomic; its unique
		// indexes hold).
		{Keys: bson.D{{Key: "subject", Value: 1}, {Key: "seq", Value: -1}}, Options: options.Index().SetUnique(true)},
	}})
}

// eventAtLayout is RFC 3339 with milliseconds.
const eventAtLayout = "2006-01-02T15:04:05.000Z07:00"

// seqDoc numbers one message key within its subject.
type seqDoc struct {
	Key     string `bson:"_id"`
	Subject string `bson:"subject"`
	Seq     int64  `bson:"seq"`
	// At is the event's time as first sent, so a resumed fan-out stamps
	// its later recipients' entries the same.
	At time.Time `bson:"at"`
}

// subjectOf is what a message is about, from its key: the kind of thing
// and its id ("repair:<id>:v3" and "repair:<id>:callback-due:v3" are both
// about "repair:<id>").
func subjectOf(key string) string {
	parts := strings.SplitN(key, ":", 3)
	if len(parts) < 2 {
		return key
	}
	return parts[0] + ":" + parts[1]
}

// sequence returns key's number within subject, taking the next one the
// first time the key is sent. A resumed or repeated Send of the key gets
// the same number. The number is taken by an insert under the unique index,
// retried when another message of the subject took it first: exact with any
// number of servers, on MongoDB and FerretDB alike.
func (e *Engine) sequence(ctx context.Context, subject, key string, at time.Time) (seqDoc, error) {
	for range 50 {
		var d seqDoc
		err := e.seqs.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, mgo.ErrNoDocuments) {
			return d, fmt.Errorf("sequence of %s: %w", key, err)
		}
		var last seqDoc
		err = e.seqs.FindOne(ctx, bson.D{{Key: "subject", Value: subject}}, options.FindOne().
			SetSort(bson.D{{Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&last)
		if err != nil && !errors.Is(err, mgo.ErrNoDocuments) {
			return d, fmt.Errorf("sequence of %s: %w", subject, err)
		}
		d = seqDoc{Key: key, Subject: subject, Seq: last.Seq + 1, At: at.UTC().Truncate(time.Millisecond)}
		if _, err := e.seqs.InsertOne(ctx, d); err == nil {
			return d, nil
		} else if !mongo.IsDuplicate(err) {
			return d, fmt.Errorf("sequence of %s: %w", key, err)
		}
		// Another message of the subject took the number, or another server
		// this key: look again.
	}
	return seqDoc{}, fmt.Errorf("sequence of %s: too much contention", key)
}

// stamp returns msg's data with the keys every entry and push carry.
func (e *Engine) stamp(ctx context.Context, msg Message, now time.Time) (map[string]string, error) {
	subject := msg.Subject
	if subject == "" {
		subject = subjectOf(msg.Key)
	}
	at := msg.At
	if at.IsZero() {
		at = now
	}
	seq, err := e.sequence(ctx, subject, msg.Key, at)
	if err != nil {
		return nil, err
	}
	data := make(map[string]string, len(msg.Data)+4)
	for k, v := range msg.Data {
		data[k] = v
	}
	data[DataKind] = string(msg.Kind)
	data[DataSubject] = subject
	data[DataSeq] = strconv.FormatInt(seq.Seq, 10)
	data[DataEventAt] = seq.At.Format(eventAtLayout)
	return data, nil
}
