package announce

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Limits of one progress post.
const (
	MaxProgressTitle = 60
	MaxProgressText  = 1000
)

// FilePurpose marks photos of engineering-works progress posts.
const FilePurpose = "project"

// Progress is one post about engineering works in a community (工程进度),
// e.g. "3栋电梯更换" 60%. A project is its title within the community: the
// posts with the same title are its history.
type Progress struct {
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	// BuildingIDs are the buildings whose residents are notified; empty is
	// the whole community. Every resident of the community may read the post.
	BuildingIDs []string `bson:"buildingIds"`
	Title       string   `bson:"title"`
	// Project is the title with runs of spaces collapsed: the project's key.
	Project    string    `bson:"project"`
	Percent    int       `bson:"percent"`
	Text       string    `bson:"text"`
	Photos     []string  `bson:"photos"` // file ids
	PostedBy   string    `bson:"postedBy"`
	CreatedAt  time.Time `bson:"createdAt"`
	Recipients int       `bson:"recipients"`
	Delivered  bool      `bson:"delivered"`
	SortKey    string    `bson:"sortKey"` // newest first
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "project_progress", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "project", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "delivered", Value: 1}, {Key: "createdAt", Value: 1}}},
	}})
}

// mayPost: butlers, supervisors and engineers of the community, and admins.
func mayPost(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor, access.Engineer)
}

// ProgressInput is a new progress post.
type ProgressInput struct {
	CommunityID string
	BuildingIDs []string
	Title       string
	Percent     int
	Text        string
	Photos      []files.Upload
}

// PostProgress stores a progress post with its photos and notifies the
// residents of its buildings (of the community when none). As with Publish,
// a fan-out cut short is logged and completed by ResumePending.
func (s *Service) PostProgress(ctx context.Context, c *access.Caller, in ProgressInput) (*Progress, error) {
	if err := s.checkCommunity(ctx, c, "input.communityId", in.CommunityID, mayPost); err != nil {
		return nil, err
	}
	title, err := validate.Text("input.title", in.Title, true, MaxProgressTitle)
	if err != nil {
		return nil, err
	}
	if in.Percent < 0 || in.Percent > 100 {
		return nil, apperr.Invalid("input.percent", "input.out_of_range", 0, 100)
	}
	text, err := validate.Text("input.text", in.Text, false, MaxProgressText)
	if err != nil {
		return nil, err
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	bs, err := s.places.CheckBuildings(ctx, "input.buildingIds", in.CommunityID, in.BuildingIDs, MaxAudienceItems)
	if err != nil {
		return nil, err
	}
	rs, err := s.recipients(ctx, in.CommunityID, bs, nil)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Progress{
		ID: mongo.NewID(), CommunityID: in.CommunityID, BuildingIDs: bs, Title: title, Project: projectKey(title),
		Percent: in.Percent, Text: text, PostedBy: c.ID, CreatedAt: now, Recipients: len(rs),
	}
	p.SortKey = page.NewestFirst(now, p.ID)
	if p.Photos, err = s.savePhotos(ctx, c, p, "input.photos", in.Photos); err != nil {
		return nil, err
	}
	if _, err := s.progress.InsertOne(ctx, p); err != nil {
		s.dropFiles(ctx, p.Photos)
		return nil, fmt.Errorf("insert progress post: %w", err)
	}
	if err := s.fanOutProgress(ctx, p, rs); err != nil {
		s.warn(ctx, "progress fan-out incomplete; it will be resumed", "post", p.ID, "err", err)
	}
	return p, nil
}

func (s *Service) fanOutProgress(ctx context.Context, p *Progress, rs []notify.Recipient) error {
	_, err := s.sender.Send(ctx, notify.Message{
		Kind: notify.ProjectProgress, Key: "progress:" + p.ID, Recipients: rs,
		Vars: map[string]any{"title": p.Title, "percent": p.Percent, "text": p.Text},
		Data: map[string]string{"projectProgressId": p.ID, "communityId": p.CommunityID, "percent": strconv.Itoa(p.Percent)},
	})
	if err != nil {
		return err
	}
	if !p.Delivered {
		p.Delivered = true
		_, err = s.progress.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "delivered", Value: true}}}})
		if err != nil {
			return fmt.Errorf("mark progress %s delivered: %w", p.ID, err)
		}
	}
	return nil
}

// Progress lists a community's progress posts, newest first, for its
// residents and staff.
func (s *Service) Progress(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Progress], error) {
	return s.listProgress(ctx, c, communityID, "", p)
}

// ProjectHistory lists the posts of one project (by title), newest first.
func (s *Service) ProjectHistory(ctx context.Context, c *access.Caller, communityID, title string, p page.Request) (page.Page[*Progress], error) {
	t, err := validate.Text("title", title, true, MaxProgressTitle)
	if err != nil {
		return page.Page[*Progress]{}, err
	}
	return s.listProgress(ctx, c, communityID, projectKey(t), p)
}

func (s *Service) listProgress(ctx context.Context, c *access.Caller, communityID, project string, p page.Request) (page.Page[*Progress], error) {
	var none page.Page[*Progress]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !mayRead(c, communityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if project != "" {
		q = append(q, bson.E{Key: "project", Value: project})
	}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	var list []*Progress
	if err := findAll(ctx, s.progress, q, &list, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit())); err != nil {
		return none, fmt.Errorf("list progress posts: %w", err)
	}
	return page.Trim(list, p, func(x *Progress) string { return x.SortKey }), nil
}

// projectKey identifies a project by its title: trimmed, runs of white
// space collapsed.
func projectKey(title string) string { return strings.Join(strings.Fields(title), " ") }

// savePhotos stores a post's images; all or none.
func (s *Service) savePhotos(ctx context.Context, c *access.Caller, p *Progress, field string, ups []files.Upload) ([]string, error) {
	return s.files.SaveImages(ctx, field, ups, files.Meta{Purpose: FilePurpose, SubjectID: p.ID, CommunityID: p.CommunityID, UploadedBy: c.ID})
}

func (s *Service) dropFiles(ctx context.Context, ids []string) { s.files.DeleteAll(ctx, ids) }

// MayReadFile: a progress post's photos are for the residents and staff of
// its community, like the post. The community is in the file's own
// metadata, written by savePhotos, so no lookup is needed.
func (s *Service) MayReadFile(_ context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose || m.CommunityID == "" {
		return false, nil
	}
	return mayRead(c, m.CommunityID), nil
}

// MayReadProgressFiles is MayReadFile's rule for a post in hand: the API
// issues signed URLs of its photos only when it holds.
func MayReadProgressFiles(c *access.Caller, p *Progress) bool { return mayRead(c, p.CommunityID) }
