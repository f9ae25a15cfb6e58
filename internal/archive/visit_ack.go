package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// VisitAck is the household's acknowledgement of a visit (走访签认): a
// member of the visited household confirms in their app that the visit took
// place (the butler shows the visit's code on the spot). The butlers' weekly
// quota counts only acknowledged visits.
type VisitAck struct {
	PersonID string    `bson:"personId"`
	At       time.Time `bson:"at"`
}

// ErrAlreadyAcknowledged refuses a second acknowledgement.
var ErrAlreadyAcknowledged = apperr.New(apperr.Conflict, "archive.visit_acknowledged")

func init() {
	apperr.Register(map[string]apperr.Text{
		"archive.visit_acknowledged": {ZH: "该走访已确认", EN: "This visit is already acknowledged"},
	})
	mongo.Declare(mongo.Indexes{Collection: "visits", Models: []mgo.IndexModel{
		// The staff reviews: a community's visits by their staff in a window.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "staffId", Value: 1}, {Key: "visitedAt", Value: 1}}},
	}})
}

// AcknowledgeVisit records that a member of the visited household confirms
// the visit. Anyone else is told it does not exist: the visit's notes are
// sensitive, and even its existence is the household's.
func (s *Service) AcknowledgeVisit(ctx context.Context, c *access.Caller, visitID string) (*VisitAck, error) {
	if err := validate.ID("visitId", visitID); err != nil {
		return nil, err
	}
	var v Visit
	if err := s.visits.FindOne(ctx, bson.D{{Key: "_id", Value: visitID}}, options.FindOne().SetProjection(bson.D{{Key: "householdId", Value: 1}, {Key: "ack", Value: 1}})).Decode(&v); err != nil {
		if errors.Is(err, mgo.ErrNoDocuments) {
			return nil, ErrVisitNotFound
		}
		return nil, fmt.Errorf("find visit %s: %w", visitID, err)
	}
	if _, ok := c.RoleIn(v.HouseholdID); !ok || !c.IsPerson() {
		return nil, ErrVisitNotFound
	}
	ack := &VisitAck{PersonID: c.ID, At: s.now().UTC()}
	res, err := s.visits.UpdateOne(ctx, bson.D{{Key: "_id", Value: visitID}, {Key: "ack", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "ack", Value: ack}}}})
	if err != nil {
		return nil, fmt.Errorf("acknowledge visit %s: %w", visitID, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrAlreadyAcknowledged
	}
	return ack, nil
}

// VisitsForReview streams, in one query, the community's visits made by one
// of staffIDs in [from, to), without their notes.
func (s *Service) VisitsForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*Visit) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "staffId", Value: bson.D{{Key: "$in", Value: staffIDs}}},
		{Key: "visitedAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}}
	proj := bson.D{{Key: "householdId", Value: 1}, {Key: "staffId", Value: 1}, {Key: "visitedAt", Value: 1}, {Key: "ack", Value: 1}}
	return mongo.Stream(ctx, s.visits, q, proj, "visits for review", fn)
}
