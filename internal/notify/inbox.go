package notify

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/page"
)

// Notifications lists the caller's inbox, newest first.
func (e *Engine) Notifications(ctx context.Context, c *access.Caller, unreadOnly bool, p page.Request) (page.Page[*Notification], error) {
	var none page.Page[*Notification]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	q := bson.D{{Key: "recipientId", Value: c.ID}, {Key: "visibleAt", Value: bson.D{{Key: "$lte", Value: e.now().UTC()}}}}
	if unreadOnly {
		q = append(q, bson.E{Key: "readAt", Value: nil})
	}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := e.notifications.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit()))
	if err != nil {
		return none, fmt.Errorf("inbox: %w", err)
	}
	var list []*Notification
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("inbox: %w", err)
	}
	return page.Trim(list, p, func(n *Notification) string { return n.SortKey }), nil
}

// UnreadCount is the badge on the app icon.
func (e *Engine) UnreadCount(ctx context.Context, c *access.Caller) (int, error) {
	if c == nil {
		return 0, apperr.ErrUnauthenticated
	}
	n, err := e.notifications.CountDocuments(ctx, bson.D{{Key: "recipientId", Value: c.ID}, {Key: "readAt", Value: nil},
		{Key: "visibleAt", Value: bson.D{{Key: "$lte", Value: e.now().UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("unread count: %w", err)
	}
	return int(n), nil
}

// ReadListener is told which inbox entries a person is marking read, before
// they are marked, so that a failure leaves them unread for a retry. The
// service whose own read state the entries share (announcements) records it.
type ReadListener func(ctx context.Context, recipientID string, read []*Notification, at time.Time) error

type readListener struct {
	prefix string
	fn     ReadListener
}

// OnRead registers fn for the entries whose key starts with keyPrefix
// ("announcement:"). Call it while wiring, before serving.
func (e *Engine) OnRead(keyPrefix string, fn ReadListener) {
	e.onRead = append(e.onRead, readListener{keyPrefix, fn})
}

// MarkRead marks the caller's notifications read: the given ones, or all
// visible ones when ids is empty. Ids of other people's notifications change
// nothing; an entry scheduled for later is not read before it is shown.
func (e *Engine) MarkRead(ctx context.Context, c *access.Caller, ids []string) (int, error) {
	if c == nil {
		return 0, apperr.ErrUnauthenticated
	}
	if len(ids) > 500 {
		return 0, apperr.Invalid("ids", "input.too_many", 500)
	}
	now := e.now().UTC()
	q := bson.D{{Key: "recipientId", Value: c.ID}, {Key: "readAt", Value: nil}, {Key: "visibleAt", Value: bson.D{{Key: "$lte", Value: now}}}}
	if len(ids) > 0 {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	if err := e.tellReaders(ctx, c.ID, q, now); err != nil {
		return 0, err
	}
	res, err := e.notifications.UpdateMany(ctx, q, bson.D{{Key: "$set", Value: bson.D{{Key: "readAt", Value: now}}}})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	return int(res.ModifiedCount), nil
}

// tellReaders hands the listeners the entries of q they follow: one query
// for all of them, whatever the number of entries.
func (e *Engine) tellReaders(ctx context.Context, recipientID string, q bson.D, at time.Time) error {
	if len(e.onRead) == 0 {
		return nil
	}
	alts := make([]string, len(e.onRead))
	for i, l := range e.onRead {
		alts[i] = regexp.QuoteMeta(l.prefix)
	}
	q = append(q[:len(q):len(q)], bson.E{Key: "key", Value: bson.D{{Key: "$regex", Value: "^(" + strings.Join(alts, "|") + ")"}}})
	cur, err := e.notifications.Find(ctx, q, options.Find().SetProjection(bson.D{
		{Key: "_id", Value: 1}, {Key: "key", Value: 1}, {Key: "communityId", Value: 1}, {Key: "data", Value: 1}}))
	if err != nil {
		return fmt.Errorf("entries being read: %w", err)
	}
	var read []*Notification
	if err := cur.All(ctx, &read); err != nil {
		return fmt.Errorf("entries being read: %w", err)
	}
	for _, l := range e.onRead {
		var mine []*Notification
		for _, n := range read {
			if strings.HasPrefix(n.Key, l.prefix) {
				mine = append(mine, n)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := l.fn(ctx, recipientID, mine, at); err != nil {
			return fmt.Errorf("read state of %s: %w", l.prefix, err)
		}
	}
	return nil
}

// MarkKeyRead marks a recipient's entry for key read, keeping the earliest
// read time: the message was read where it is shown in full (an
// announcement's own page). One write by _id.
func (e *Engine) MarkKeyRead(ctx context.Context, recipientID, key string, at time.Time) error {
	_, err := e.notifications.UpdateOne(ctx, bson.D{{Key: "_id", Value: notificationID(recipientID, key)}},
		bson.D{{Key: "$min", Value: bson.D{{Key: "readAt", Value: at.UTC()}}}})
	if err != nil {
		return fmt.Errorf("mark %s read in the inbox: %w", key, err)
	}
	return nil
}

// Created returns the inbox entries that one Send wrote for recipients
// (those named by a notification.created event), by recipient, in one
// query: the live feed of every subscriber who heard the event shares it.
func (e *Engine) Created(ctx context.Context, key string, recipients []string) (map[string]*Notification, error) {
	ids := make([]string, len(recipients))
	for i, r := range recipients {
		ids[i] = notificationID(r, key)
	}
	cur, err := e.notifications.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("created notifications: %w", err)
	}
	var list []*Notification
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("created notifications: %w", err)
	}
	out := make(map[string]*Notification, len(list))
	for _, n := range list {
		out[n.RecipientID] = n
	}
	return out, nil
}

// Latest returns a recipient's newest notifications.
func (e *Engine) Latest(ctx context.Context, recipientID string, n int) ([]*Notification, error) {
	cur, err := e.notifications.Find(ctx, bson.D{{Key: "recipientId", Value: recipientID}, {Key: "visibleAt", Value: bson.D{{Key: "$lte", Value: e.now().UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(int64(n)))
	if err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	var list []*Notification
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	return list, nil
}
