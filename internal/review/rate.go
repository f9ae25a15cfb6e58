package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Rating is a supervisor's rating of one staff member's month, with the
// figures as they stood when rated (frozen: later changes to the record do
// not alter what was rated). Re-rating edits it in place, guarded by
// version; each earlier version stays in History with its own figures.
type Rating struct {
	ID          string        `bson:"_id"`
	CommunityID string        `bson:"communityId"`
	Month       string        `bson:"month"`
	StaffID     string        `bson:"staffId"`
	Version     int           `bson:"version"`
	Rating      int           `bson:"rating"`
	Note        string        `bson:"note,omitempty"`
	ReviewedBy  string        `bson:"reviewedBy"`
	ReviewedAt  time.Time     `bson:"reviewedAt"`
	Figures     []*Figure     `bson:"figures"`
	History     []RatingEntry `bson:"history"`
}

// RatingEntry is an earlier version of a rating.
type RatingEntry struct {
	Version    int       `bson:"version"`
	Rating     int       `bson:"rating"`
	Note       string    `bson:"note,omitempty"`
	ReviewedBy string    `bson:"reviewedBy"`
	ReviewedAt time.Time `bson:"reviewedAt"`
	Figures    []*Figure `bson:"figures"`
}

// MaxHistory bounds the versions kept in one rating document.
const MaxHistory = 20

// RateInput is a supervisor's rating. Version is the rating's current
// version (0 when there is none yet).
type RateInput struct {
	CommunityID, StaffID, Month string
	Rating                      int
	Note                        string
	Version                     int
}

// ReviewStaff rates one staff member's month: the community's supervisors
// and admins, never their own. The figures are computed now and frozen with
// the rating.
func (s *Service) ReviewStaff(ctx context.Context, c *access.Caller, in RateInput) (*Review, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if err := validate.ID("input.staffId", in.StaffID); err != nil {
		return nil, err
	}
	if !Supervises(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if in.StaffID == c.ID {
		return nil, apperr.New(apperr.Forbidden, "review.self")
	}
	if in.Rating < 1 || in.Rating > 5 {
		return nil, apperr.Invalid("input.rating", "review.bad_rating")
	}
	note, err := validate.Text("input.note", in.Note, false, 2000)
	if err != nil {
		return nil, err
	}
	st, err := s.member(ctx, "input.staffId", in.CommunityID, in.StaffID)
	if err != nil {
		return nil, err
	}
	rs, err := s.Compute(ctx, in.CommunityID, in.Month, []*staff.Staff{st})
	if err != nil {
		return nil, fieldOf(err, "input.month")
	}
	r := rs[0]
	now := s.now()
	id := in.CommunityID + "|" + in.Month + "|" + in.StaffID
	set := bson.D{{Key: "version", Value: in.Version + 1}, {Key: "rating", Value: in.Rating}, {Key: "note", Value: note},
		{Key: "reviewedBy", Value: c.ID}, {Key: "reviewedAt", Value: now}, {Key: "figures", Value: r.Figures}}
	switch {
	case in.Version == 0:
		doc := &Rating{ID: id, CommunityID: in.CommunityID, Month: in.Month, StaffID: in.StaffID, Version: 1, Rating: in.Rating, Note: note,
			ReviewedBy: c.ID, ReviewedAt: now, Figures: r.Figures, History: []RatingEntry{}}
		if _, err := s.ratings.InsertOne(ctx, doc); err != nil {
			if mongo.IsDuplicate(err) {
				return nil, s.changed(ctx, id)
			}
			return nil, fmt.Errorf("insert staff review: %w", err)
		}
		r.Rating = doc
	default:
		var cur Rating
		if err := s.ratings.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur); err != nil {
			if errors.Is(err, mgo.ErrNoDocuments) {
				return nil, ErrChanged.WithArgs(0)
			}
			return nil, fmt.Errorf("find staff review: %w", err)
		}
		if cur.Version != in.Version {
			return nil, ErrChanged.WithArgs(cur.Version)
		}
		prev := RatingEntry{Version: cur.Version, Rating: cur.Rating, Note: cur.Note, ReviewedBy: cur.ReviewedBy, ReviewedAt: cur.ReviewedAt, Figures: cur.Figures}
		hist := append(cur.History, prev)
		if len(hist) > MaxHistory {
			hist = hist[len(hist)-MaxHistory:]
		}
		res, err := s.ratings.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: in.Version}},
			bson.D{{Key: "$set", Value: append(set, bson.E{Key: "history", Value: hist})}})
		if err != nil {
			return nil, fmt.Errorf("update staff review: %w", err)
		}
		if res.MatchedCount == 0 {
			return nil, s.changed(ctx, id)
		}
		cur.Version, cur.Rating, cur.Note, cur.ReviewedBy, cur.ReviewedAt, cur.Figures, cur.History = in.Version+1, in.Rating, note, c.ID, now, r.Figures, hist
		r.Rating = &cur
	}
	return r, nil
}

func (s *Service) changed(ctx context.Context, id string) error {
	var cur Rating
	if err := s.ratings.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur); err != nil {
		return ErrChanged.WithArgs("?")
	}
	return ErrChanged.WithArgs(cur.Version)
}

// fieldOf names field in a month error from Compute.
func fieldOf(err error, field string) error {
	var e *apperr.Error
	if errors.As(err, &e) && e.Key == "review.bad_month" {
		return apperr.Invalid(field, "review.bad_month")
	}
	return err
}

// member is an active staff member of the community, or a BAD_USER_INPUT
// on field.
func (s *Service) member(ctx context.Context, field, communityID, id string) (*staff.Staff, error) {
	st, err := s.cfg.Staff.Get(ctx, id)
	if errors.Is(err, staff.ErrNotFound) || (err == nil && (!st.Active || !slices.Contains(st.CommunityIDs, communityID))) {
		return nil, apperr.Invalid(field, "review.not_staff")
	}
	return st, err
}

// attachRatings loads the batch's ratings in one query.
func (s *Service) attachRatings(ctx context.Context, communityID, month string, ids []string, out []*Review) error {
	list, err := mongo.FindAll[Rating](ctx, s.ratings, bson.D{{Key: "communityId", Value: communityID}, {Key: "month", Value: month},
		{Key: "staffId", Value: bson.D{{Key: "$in", Value: ids}}}}, "staff review ratings")
	if err != nil {
		return err
	}
	by := make(map[string]*Rating, len(list))
	for _, x := range list {
		by[x.StaffID] = x
	}
	for _, r := range out {
		r.Rating = by[r.Staff.ID]
	}
	return nil
}

// StaffReviews is the month's reviews in a community: its supervisors and
// admins see every active staff member's (or staffID's alone), other staff
// only their own (another's id is FORBIDDEN), residents none.
func (s *Service) StaffReviews(ctx context.Context, c *access.Caller, communityID, month, staffID string) ([]*Review, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if staffID != "" {
		if err := validate.ID("staffId", staffID); err != nil {
			return nil, err
		}
	}
	sup := Supervises(c, communityID)
	if !sup {
		if !c.IsStaff() || !c.WorksIn(communityID) || (staffID != "" && staffID != c.ID) {
			return nil, apperr.ErrForbidden
		}
		staffID = c.ID
	}
	var list []*staff.Staff
	if staffID != "" {
		st, err := s.member(ctx, "staffId", communityID, staffID)
		if err != nil {
			return nil, err
		}
		list = []*staff.Staff{st}
	} else {
		var err error
		if list, err = s.cfg.Staff.ActiveIn(ctx, communityID); err != nil {
			return nil, err
		}
	}
	return s.Compute(ctx, communityID, month, list)
}
