package enquiry

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// reportFields are what the KPIs read of an enquiry: never the question,
// the answer or who asked.
var reportFields = bson.D{
	{Key: "status", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "promisedBy", Value: 1}, {Key: "answeredAt", Value: 1},
	{Key: "onTheSpot", Value: 1}, {Key: "faqEntryId", Value: 1}, {Key: "channel", Value: 1},
}

// ReceivedIn streams, in one indexed query, the community's enquiries
// recorded in [from, to), with only reportFields. An error from fn stops
// the stream.
func (s *Service) ReceivedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*Enquiry) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}}
	cur, err := s.col.Find(ctx, q, options.Find().SetProjection(reportFields).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("enquiries for report: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var x Enquiry
		if err := cur.Decode(&x); err != nil {
			return fmt.Errorf("enquiries for report: %w", err)
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return cur.Err()
}
