package notify

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// Report is how one message reached a community's recipients.
type Report struct {
	Key        string
	Recipients int
	ByChannel  []ChannelCount
}

// ChannelCount is the number of deliveries of a channel in a status.
type ChannelCount struct {
	Channel, Status string
	Count           int
}

// DeliveryReport counts a message's inbox entries and deliveries in a
// community: supervisors of that community (and admins).
func (e *Engine) DeliveryReport(ctx context.Context, c *access.Caller, communityID, key string) (*Report, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !c.SupervisesIn(communityID) && !c.IsAdmin() {
		return nil, apperr.ErrForbidden
	}
	key, err := validate.Text("key", key, true, 200)
	if err != nil {
		return nil, err
	}
	filter := bson.D{{Key: "key", Value: key}, {Key: "communityId", Value: communityID}}
	n, err := e.notifications.CountDocuments(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("report recipients: %w", err)
	}
	cur, err := e.deliveries.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: filter}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "channel", Value: "$channel"}, {Key: "status", Value: "$status"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "_id.channel", Value: 1}, {Key: "_id.status", Value: 1}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("report deliveries: %w", err)
	}
	var rows []struct {
		ID struct {
			Channel string `bson:"channel"`
			Status  string `bson:"status"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("report deliveries: %w", err)
	}
	r := &Report{Key: key, Recipients: int(n), ByChannel: []ChannelCount{}}
	for _, row := range rows {
		r.ByChannel = append(r.ByChannel, ChannelCount{Channel: row.ID.Channel, Status: row.ID.Status, Count: row.N})
	}
	return r, nil
}
