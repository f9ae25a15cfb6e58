package notify

import (
	"context"
	"fmt"

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

// MarkRead marks the caller's notifications read: the given ones, or all
// when ids is empty. Ids of other people's notifications change nothing.
func (e *Engine) MarkRead(ctx context.Context, c *access.Caller, ids []string) (int, error) {
	if c == nil {
		return 0, apperr.ErrUnauthenticated
	}
	if len(ids) > 500 {
		return 0, apperr.Invalid("ids", "input.too_many", 500)
	}
	q := bson.D{{Key: "recipientId", Value: c.ID}, {Key: "readAt", Value: nil}}
	if len(ids) > 0 {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	res, err := e.notifications.UpdateMany(ctx, q, bson.D{{Key: "$set", Value: bson.D{{Key: "readAt", Value: e.now().UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	return int(res.ModifiedCount), nil
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
