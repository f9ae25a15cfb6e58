package fee

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Space is a parking space (车位) of a community and the household that
// holds it; PARKING bills one line per space held when the period is billed.
type Space struct {
	ID          string    `bson:"_id"` // "<communityId>:<code>"
	CommunityID string    `bson:"communityId"`
	Code        string    `bson:"code"`
	HouseholdID string    `bson:"householdId"` // empty: free
	UpdatedAt   time.Time `bson:"updatedAt"`
}

var spaceCodeRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,20}$`)

// AssignSpace gives a parking space to a household of the community
// (ManagesSchedule); a space held by another household is CONFLICT naming
// the code: release it first.
func (s *Service) AssignSpace(ctx context.Context, c *access.Caller, communityID, code, householdID string) (*Space, error) {
	if _, err := s.staffCommunity(ctx, c, "communityId", communityID, ManagesSchedule); err != nil {
		return nil, err
	}
	if !spaceCodeRe.MatchString(code) {
		return nil, apperr.Invalid("code", "fee.bad_code")
	}
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	h, err := s.households.Load(ctx, householdID)
	if errors.Is(err, household.ErrNotFound) || (err == nil && h.CommunityID != communityID) {
		return nil, ErrHouseholdNotFound.WithField("householdId")
	}
	if err != nil {
		return nil, fmt.Errorf("household %s: %w", householdID, err)
	}
	sp := &Space{ID: communityID + ":" + code, CommunityID: communityID, Code: code, HouseholdID: householdID, UpdatedAt: s.now().UTC()}
	// Free or already ours: taken by another, the upsert collides with the
	// existing _id and we answer CONFLICT.
	_, err = s.spaces.UpdateOne(ctx, bson.D{{Key: "_id", Value: sp.ID}, {Key: "householdId", Value: bson.D{{Key: "$in", Value: bson.A{"", householdID}}}}},
		bson.D{{Key: "$set", Value: sp}}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicate(err) {
		return nil, apperr.New(apperr.Conflict, "fee.space_taken").WithField("code").WithArgs(code)
	}
	if err != nil {
		return nil, fmt.Errorf("assign space: %w", err)
	}
	return sp, nil
}

// ReleaseSpace frees a parking space (ManagesSchedule).
func (s *Service) ReleaseSpace(ctx context.Context, c *access.Caller, communityID, code string) (*Space, error) {
	if _, err := s.staffCommunity(ctx, c, "communityId", communityID, ManagesSchedule); err != nil {
		return nil, err
	}
	var sp Space
	err := s.spaces.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: communityID + ":" + code}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "householdId", Value: ""}, {Key: "updatedAt", Value: s.now().UTC()}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&sp)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, apperr.New(apperr.NotFound, "fee.space_not_found").WithField("code")
	}
	if err != nil {
		return nil, fmt.Errorf("release space: %w", err)
	}
	return &sp, nil
}

// spacesHeld counts the spaces each of a batch's households holds: one
// query per batch.
func (s *Service) spacesHeld(ctx context.Context, ids []string) (map[string]int, error) {
	cur, err := s.spaces.Find(ctx, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "householdId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("spaces held: %w", err)
	}
	var list []Space
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("spaces held: %w", err)
	}
	out := map[string]int{}
	for _, sp := range list {
		out[sp.HouseholdID]++
	}
	return out, nil
}
