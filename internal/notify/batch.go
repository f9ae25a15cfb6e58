package notify

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SendEach stores many messages at once, each with its own recipients and
// variables (a bill notice per household, naming its amount): what Send
// does for one message, in a constant number of round trips for the whole
// batch rather than per message: one read and one insert of the sequence
// numbers, one read of every recipient's preferences, one insert of the
// inbox entries, one of the deliveries, and one live event naming every
// entry written. Keys make it as safe to repeat as Send. Callers keep a
// batch to a few hundred messages (a billing batch): it is written whole.
func (e *Engine) SendEach(ctx context.Context, msgs []Message) (int, error) {
	var ids []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if _, ok := Specs[m.Kind]; !ok {
			return 0, fmt.Errorf("notify: unknown kind %q", m.Kind)
		}
		for _, r := range m.Recipients {
			if !seen[r.ID] {
				seen[r.ID] = true
				ids = append(ids, r.ID)
			}
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	now := e.now().UTC()
	data, err := e.stampEach(ctx, msgs, now)
	if err != nil {
		return 0, err
	}
	prefs, err := e.prefs.ForUsers(ctx, ids)
	if err != nil {
		return 0, err
	}
	var notes, dels []any
	for i, m := range msgs {
		m.Data = data[i]
		for _, r := range m.Recipients {
			if notes, dels, err = e.build(Specs[m.Kind], m, r, prefs[r.ID], now, notes, dels); err != nil {
				return 0, err
			}
		}
	}
	inserted, err := e.write(ctx, notes, dels)
	if err != nil {
		return 0, err
	}
	if len(inserted) > 0 {
		// The entries have keys of their own, so the event names them,
		// beside their recipients (the inbox feed's filter).
		rs, ns := make([]string, len(inserted)), make([]string, len(inserted))
		for i, n := range inserted {
			rs[i], ns[i] = n.RecipientID, n.ID
		}
		e.publish(ctx, "batch:"+string(msgs[0].Kind), map[string]any{"recipients": rs, "notifications": ns, "kind": string(msgs[0].Kind)})
	}
	return len(inserted), nil
}

// stampEach is stamp for a batch: one read of the subjects' numbers taken
// so far, one insert of the new ones. A number another server took
// meanwhile (a duplicate) is taken again one by one, as Send does.
func (e *Engine) stampEach(ctx context.Context, msgs []Message, now time.Time) ([]map[string]string, error) {
	subjects := make([]string, len(msgs))
	for i, m := range msgs {
		subjects[i] = m.Subject
		if subjects[i] == "" {
			subjects[i] = subjectOf(m.Key)
		}
	}
	cur, err := e.seqs.Find(ctx, bson.D{{Key: "subject", Value: bson.D{{Key: "$in", Value: subjects}}}})
	if err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	var taken []seqDoc
	if err := cur.All(ctx, &taken); err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	byKey := map[string]seqDoc{}
	last := map[string]int64{}
	for _, d := range taken {
		byKey[d.Key] = d
		last[d.Subject] = max(last[d.Subject], d.Seq)
	}
	seqs := make([]seqDoc, len(msgs))
	var fresh []any
	var freshAt []int
	for i, m := range msgs {
		if d, ok := byKey[m.Key]; ok {
			seqs[i] = d
			continue
		}
		at := m.At
		if at.IsZero() {
			at = now
		}
		last[subjects[i]]++
		seqs[i] = seqDoc{Key: m.Key, Subject: subjects[i], Seq: last[subjects[i]], At: at.UTC().Truncate(time.Millisecond)}
		byKey[m.Key] = seqs[i]
		fresh, freshAt = append(fresh, seqs[i]), append(freshAt, i)
	}
	if len(fresh) > 0 {
		_, err := e.seqs.InsertMany(ctx, fresh, options.InsertMany().SetOrdered(false))
		if err != nil {
			var bwe mgo.BulkWriteException
			if !asBulk(err, &bwe) {
				return nil, fmt.Errorf("sequences: %w", err)
			}
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 {
					return nil, fmt.Errorf("sequences: %w", err)
				}
				i := freshAt[we.Index]
				if seqs[i], err = e.sequence(ctx, subjects[i], msgs[i].Key, seqs[i].At); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make([]map[string]string, len(msgs))
	for i, m := range msgs {
		d := make(map[string]string, len(m.Data)+4)
		for k, v := range m.Data {
			d[k] = v
		}
		d[DataKind] = string(m.Kind)
		d[DataSubject] = subjects[i]
		d[DataSeq] = strconv.FormatInt(seqs[i].Seq, 10)
		d[DataEventAt] = seqs[i].At.Format(eventAtLayout)
		out[i] = d
	}
	return out, nil
}

// CreatedByIDs loads inbox entries by id, by recipient: the inbox feed's
// payload for a batch event, whose entries each have a key of their own.
func (e *Engine) CreatedByIDs(ctx context.Context, ids []string) (map[string]*Notification, error) {
	cur, err := e.notifications.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("created notifications: %w", err)
	}
	var list []*Notification
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("created notifications: %w", err)
	}
	// A person owning two households billed in one batch has two entries:
	// the feed shows the first, the inbox holds both.
	out := make(map[string]*Notification, len(list))
	for _, n := range list {
		if out[n.RecipientID] == nil {
			out[n.RecipientID] = n
		}
	}
	return out, nil
}
