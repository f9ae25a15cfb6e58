package mgmtreport

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Comment is a committee member's comment on a draft (on one section or
// the whole): between the committee and the company, never part of the
// published report.
type Comment struct {
	ID          string   `bson:"_id"`
	ReportID    string   `bson:"reportId"`
	CommunityID string   `bson:"communityId"`
	Section     *Section `bson:"section,omitempty"`
	Text        string   `bson:"text"`
	PersonID    string   `bson:"personId"`
	// AuthorName and Role are the author's as on the committee list
	// (public to the community) when they commented.
	AuthorName string         `bson:"authorName"`
	Role       committee.Role `bson:"role"`
	CreatedAt  time.Time      `bson:"createdAt"`
}

// Comment adds a sitting committee member's comment to a draft. Staff and
// residents not on the committee FORBIDDEN (a resident cannot see the
// draft: NOT_FOUND); a published version CONFLICT.
func (s *Service) Comment(ctx context.Context, c *access.Caller, reportID string, sec *Section, text string) (*Comment, error) {
	if sec != nil && !slices.Contains(Sections, *sec) {
		return nil, apperr.Invalid("section", "input.bad_value")
	}
	text, err := validate.Text("text", text, true, MaxComment)
	if err != nil {
		return nil, err
	}
	lvl, r, err := s.load(ctx, c, reportID)
	if err != nil {
		return nil, err
	}
	if lvl != sitting {
		return nil, apperr.ErrForbidden
	}
	if r.Status != Draft {
		return nil, apperr.New(apperr.Conflict, "mgmtreport.comment_draft")
	}
	n, err := s.comments.CountDocuments(ctx, bson.D{{Key: "reportId", Value: r.ID}})
	if err != nil {
		return nil, fmt.Errorf("count comments of %s: %w", r.ID, err)
	}
	if n >= MaxComments {
		return nil, ErrTooManyComments
	}
	seats, err := s.cfg.Committee.Sitting(ctx, r.CommunityID)
	if err != nil {
		return nil, err
	}
	cm := &Comment{ID: mongo.NewID(), ReportID: r.ID, CommunityID: r.CommunityID, Section: sec, Text: text,
		PersonID: c.ID, CreatedAt: s.cfg.Now().UTC()}
	for _, seat := range seats {
		if seat.PersonID == c.ID {
			cm.AuthorName, cm.Role = seat.Name, seat.Role
		}
	}
	if _, err := s.comments.InsertOne(ctx, cm); err != nil {
		return nil, fmt.Errorf("insert comment on %s: %w", r.ID, err)
	}
	return cm, nil
}

// CommentsOf are the comments of the versions ids name, oldest first
// (at most MaxComments each), for the committee and the staff of their
// community: one query. Other callers get none: the comments are not part
// of the published report. Versions the caller cannot read are left out.
func (s *Service) CommentsOf(ctx context.Context, c *access.Caller, ids []string) (map[string][]*Comment, error) {
	levels := map[string]level{}
	var readable []string
	for _, id := range ids {
		communityID, _, _, ok := ParseID(id)
		if !ok {
			continue
		}
		lvl, seen := levels[communityID]
		if !seen {
			var err error
			if lvl, err = s.levelOf(ctx, c, communityID); err != nil {
				return nil, err
			}
			levels[communityID] = lvl
		}
		if lvl >= sitting {
			readable = append(readable, id)
		}
	}
	out := make(map[string][]*Comment, len(ids))
	for _, id := range ids {
		out[id] = []*Comment{}
	}
	if len(readable) == 0 {
		return out, nil
	}
	list, err := mongo.FindAll[Comment](ctx, s.comments, bson.D{{Key: "reportId", Value: bson.D{{Key: "$in", Value: readable}}}}, "report comments",
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	for _, cm := range list {
		if len(out[cm.ReportID]) < MaxComments {
			out[cm.ReportID] = append(out[cm.ReportID], cm)
		}
	}
	return out, nil
}
