package enquiry

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
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
	return mongo.Stream(ctx, s.col, mongo.InWindow(communityID, "createdAt", from, to), reportFields, "enquiries for report", fn)
}
