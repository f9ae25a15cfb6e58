package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Feedback limits.
const (
	MaxComment = 500
	// FeedbackWindow is how long after the end households may give feedback.
	FeedbackWindow = 30 * 24 * time.Hour
)

// FeedbackPurpose marks feedback photos in the file store.
const FeedbackPurpose = "activity_feedback"

// Feedback is one participating household's rating of an event.
type Feedback struct {
	ID          string    `bson:"_id"` // derived from event and household: once per household
	EventID     string    `bson:"eventId"`
	CommunityID string    `bson:"communityId"`
	HouseholdID string    `bson:"householdId"`
	PersonID    string    `bson:"personId"`
	Rating      int       `bson:"rating"`
	Comment     string    `bson:"comment,omitempty"`
	Photos      []string  `bson:"photos"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// FeedbackInput is a household's feedback.
type FeedbackInput struct {
	EventID     string
	HouseholdID string
	Rating      int // 1-5
	Comment     string
	Photos      []files.Upload
}

// SubmitFeedback stores a household's rating once the event is over: only
// households that checked in (participants), once each, within
// FeedbackWindow. Owners and family members give it for their household.
func (s *Service) SubmitFeedback(ctx context.Context, c *access.Caller, in FeedbackInput) (*Feedback, error) {
	if err := validIDs("eventId", in.EventID, "householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	if err := signsUpFor(c, in.HouseholdID); err != nil {
		return nil, err
	}
	ev, err := s.visible(ctx, c, in.EventID)
	if err != nil {
		return nil, err
	}
	if in.Rating < 1 || in.Rating > 5 {
		return nil, apperr.Invalid("rating", "input.out_of_range", 1, 5)
	}
	comment, err := validate.Text("comment", in.Comment, false, MaxComment)
	if err != nil {
		return nil, err
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("photos", "input.too_many", files.MaxImagesPerStep)
	}
	now := s.now().UTC()
	switch {
	case ev.Status == Cancelled:
		return nil, ErrCancelled
	case now.Before(ev.EndsAt):
		return nil, ErrFeedbackNotOpen
	case now.After(ev.EndsAt.Add(FeedbackWindow)):
		return nil, ErrFeedbackClosed.WithArgs(int(FeedbackWindow / (24 * time.Hour)))
	}
	su, err := s.signUp(ctx, signUpID(ev.ID, in.HouseholdID))
	if err != nil {
		return nil, err
	}
	if su == nil || su.CheckedInAt == nil {
		return nil, ErrNotParticipant
	}
	id := feedbackID(ev.ID, in.HouseholdID)
	if _, err := mongo.FindByID[Feedback](ctx, s.feedback, id, errNoFeedback); err == nil {
		return nil, ErrFeedbackGiven
	} else if !errors.Is(err, errNoFeedback) {
		return nil, err
	}
	photos, err := s.files.SaveImages(ctx, "photos", in.Photos, files.Meta{Purpose: FeedbackPurpose, SubjectID: id,
		CommunityID: ev.CommunityID, UploadedBy: c.ID})
	if err != nil {
		return nil, err
	}
	fb := &Feedback{ID: id, EventID: ev.ID, CommunityID: ev.CommunityID, HouseholdID: in.HouseholdID, PersonID: c.ID,
		Rating: in.Rating, Comment: comment, Photos: photos, CreatedAt: now}
	if _, err := s.feedback.InsertOne(ctx, fb); err != nil {
		s.files.DeleteAll(ctx, photos)
		if mongo.IsDuplicate(err) { // another member of the household was quicker
			return nil, ErrFeedbackGiven
		}
		return nil, fmt.Errorf("insert feedback: %w", err)
	}
	s.publish(ctx, c, "feedback", ev.CommunityID, fb.HouseholdID, ev.ID, map[string]any{"rating": fb.Rating, "summary": ev.Title})
	return fb, nil
}

var errNoFeedback = errors.New("no feedback")

// MayReadFile: a poster is for the staff of the event's community and, once
// published, for its residents; feedback photos for the staff and the
// household that gave it.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	switch m.Purpose {
	case PosterPurpose:
		ev, err := mongo.FindByID[Event](ctx, s.events, m.SubjectID, ErrNotFound)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return MayReadPoster(c, ev), nil
	case FeedbackPurpose:
		fb, err := mongo.FindByID[Feedback](ctx, s.feedback, m.SubjectID, errNoFeedback)
		if errors.Is(err, errNoFeedback) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return MayReadFeedbackFiles(c, fb), nil
	}
	return false, nil
}

// MayReadPoster: staff of the community, and its residents once the event
// is published. The API issues the poster's signed URL only when it holds.
func MayReadPoster(c *access.Caller, ev *Event) bool {
	if c.WorksIn(ev.CommunityID) {
		return true
	}
	if !ev.Published {
		return false
	}
	for _, mb := range c.Memberships {
		if mb.CommunityID == ev.CommunityID {
			return true
		}
	}
	return false
}

// MayReadFeedbackFiles: the household that gave it and staff of the community.
func MayReadFeedbackFiles(c *access.Caller, fb *Feedback) bool {
	if _, ok := c.RoleIn(fb.HouseholdID); ok {
		return true
	}
	return c.WorksIn(fb.CommunityID)
}
