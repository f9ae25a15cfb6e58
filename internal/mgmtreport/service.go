package mgmtreport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/period"
	"qinqing/internal/platform/validate"
)

// Service generates, publishes and reads reports.
type Service struct {
	cfg                        Config
	reports, periods, comments *mgo.Collection
}

// NewService opens the collections.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, reports: cfg.DB.Collection(colReports), periods: cfg.DB.Collection(colPeriods), comments: cfg.DB.Collection(colComments)}
}

// Zone is the community's time zone.
func (s *Service) Zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		if loc := s.cfg.Zone(communityID); loc != nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(community.DefaultTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Generate computes the period's figures from the record into a draft:
// the period's draft refreshed (its commentary kept), or, when the period
// has none, a new draft — version 1, or the version after the published
// one, starting from its commentary. Editors only (supervisors and finance
// clerks of the community, admins); other staff and residents FORBIDDEN,
// anyone else NOT_FOUND. The period must have ended.
func (s *Service) Generate(ctx context.Context, c *access.Caller, communityID, periodText string) (*Report, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	lvl, err := s.levelOf(ctx, c, communityID)
	if err != nil {
		return nil, err
	}
	if lvl < resident {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	if lvl < editor {
		return nil, apperr.ErrForbidden
	}
	cs, err := s.cfg.Places.ByIDs(ctx, []string{communityID})
	if err != nil {
		return nil, err
	}
	if cs[communityID] == nil {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	p, err := period.Parse("period", periodText)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	loc := s.Zone(communityID)
	from, to := p.Start(loc), p.End(loc)
	if to.After(now) {
		return nil, apperr.Invalid("period", "period.open")
	}
	sections, err := s.compute(ctx, communityID, p, from, to, now)
	if err != nil {
		return nil, err
	}
	prev, err := s.newest(ctx, communityID, p.Text)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.Status == Draft {
		keepCommentary(sections, prev.Sections)
		res, err := s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: prev.ID}, {Key: "status", Value: Draft}, {Key: "revision", Value: prev.Revision}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "sections", Value: sections}, {Key: "from", Value: from.UTC()}, {Key: "to", Value: to.UTC()},
				{Key: "generatedAt", Value: now}, {Key: "generatedBy", Value: c.ID}, {Key: "revision", Value: prev.Revision + 1}}}})
		if err != nil {
			return nil, fmt.Errorf("refresh report %s: %w", prev.ID, err)
		}
		if res.MatchedCount == 0 {
			return nil, ErrVersionTaken
		}
		return s.read(ctx, lvl, prev.ID)
	}
	r := &Report{CommunityID: communityID, Period: p.Text, Version: 1, Status: Draft, From: from.UTC(), To: to.UTC(),
		Sections: sections, GeneratedAt: now, GeneratedBy: c.ID, Revision: 1}
	if prev != nil {
		if prev.Version >= MaxVersions {
			return nil, ErrTooManyVersions
		}
		r.Version, r.PreviousID = prev.Version+1, prev.ID
		keepCommentary(sections, prev.Sections)
	}
	r.ID = ReportID(communityID, p.Text, r.Version)
	// The period is listed before its first version exists: a crash in
	// between leaves a period without versions, which the list skips.
	if _, err := s.periods.UpdateOne(ctx, bson.D{{Key: "_id", Value: communityID + ":" + p.Text}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: p.Text}, {Key: "sortKey", Value: p.SortKey()}, {Key: "published", Value: false}}}},
		options.UpdateOne().SetUpsert(true)); err != nil && !mongo.IsDuplicate(err) {
		return nil, fmt.Errorf("list report period %s: %w", p.Text, err)
	}
	if _, err := s.reports.InsertOne(ctx, r); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrVersionTaken
		}
		return nil, fmt.Errorf("insert report %s: %w", r.ID, err)
	}
	return s.read(ctx, lvl, r.ID)
}

// keepCommentary carries each section's commentary from old into fresh.
func keepCommentary(fresh, old []SectionData) {
	for i := range fresh {
		for _, o := range old {
			if o.Section == fresh[i].Section {
				fresh[i].Commentary, fresh[i].CommentaryBy, fresh[i].CommentaryAt = o.Commentary, o.CommentaryBy, o.CommentaryAt
			}
		}
	}
}

// PublishInput is what the publisher says.
type PublishInput struct {
	// Revision, when given, is the draft's revision the publisher reviewed:
	// a draft changed since is CONFLICT.
	Revision *int
	// ChangeNote says what a correction (version 2 on) changes.
	ChangeNote *string
}

// Publish makes a draft the period's published version, immutable from
// then on and readable by every resident of the community. Supervisors of
// the community and admins; other staff and committee members FORBIDDEN,
// residents (who cannot see drafts) and anyone else NOT_FOUND. Residents
// are told (MANAGEMENT_REPORT_PUBLISHED); a notice cut short is finished
// by Tick, never failing the publication.
func (s *Service) Publish(ctx context.Context, c *access.Caller, id string, in PublishInput) (*Report, error) {
	lvl, r, err := s.load(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if lvl < publisher {
		return nil, apperr.ErrForbidden
	}
	if r.Status == Published {
		return nil, ErrPublished
	}
	note, err := validate.Text("input.changeNote", deref(in.ChangeNote), false, MaxChangeNote)
	if err != nil {
		return nil, err
	}
	if r.Version > 1 && note == "" {
		return nil, apperr.Invalid("input.changeNote", "mgmtreport.change_note")
	}
	if note != "" {
		if err := notPersonal("input.changeNote", note); err != nil {
			return nil, err
		}
	}
	if in.Revision != nil && *in.Revision != r.Revision {
		return nil, ErrChanged
	}
	now := s.cfg.Now().UTC()
	res, err := s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: Draft}, {Key: "revision", Value: r.Revision}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Published}, {Key: "publishedAt", Value: now}, {Key: "publishedBy", Value: c.ID}, {Key: "changeNote", Value: note}}}})
	if err != nil {
		return nil, fmt.Errorf("publish report %s: %w", r.ID, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrChanged
	}
	if _, err := s.periods.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.CommunityID + ":" + r.Period}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "published", Value: true}}}}); err != nil {
		return nil, fmt.Errorf("list published period %s: %w", r.Period, err)
	}
	r.Status, r.PublishedAt, r.ChangeNote = Published, &now, note
	if err := s.notice(ctx, r); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "management report notice incomplete; Tick resumes it", "report", r.ID, "err", err)
	}
	return s.read(ctx, lvl, r.ID)
}

// SetCommentary writes (or, with "", clears) the manager's commentary on a
// section of a draft. Editors only; a published version is CONFLICT. The
// text is for every owner: phone-number-like digits are refused.
func (s *Service) SetCommentary(ctx context.Context, c *access.Caller, id string, sec Section, text string) (*Report, error) {
	if !slices.Contains(Sections, sec) {
		return nil, apperr.Invalid("section", "input.bad_value")
	}
	text, err := validate.Text("text", text, false, MaxCommentary)
	if err != nil {
		return nil, err
	}
	if err := notPersonal("text", text); err != nil {
		return nil, err
	}
	// A regeneration in between bumps the revision: read again and retry.
	for range 3 {
		lvl, r, err := s.load(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if lvl < editor {
			return nil, apperr.ErrForbidden
		}
		if r.Status == Published {
			return nil, ErrPublished
		}
		now := s.cfg.Now().UTC()
		d := r.Section(sec)
		if d == nil {
			return nil, apperr.Invalid("section", "input.bad_value")
		}
		d.Commentary, d.CommentaryBy, d.CommentaryAt = text, c.ID, &now
		if text == "" {
			d.CommentaryBy, d.CommentaryAt = "", nil
		}
		res, err := s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: Draft}, {Key: "revision", Value: r.Revision}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "sections", Value: r.Sections}, {Key: "revision", Value: r.Revision + 1}}}})
		if err != nil {
			return nil, fmt.Errorf("commentary on %s: %w", r.ID, err)
		}
		if res.MatchedCount == 1 {
			return s.read(ctx, lvl, r.ID)
		}
	}
	return nil, ErrChanged
}

// notPersonal refuses text with a run of seven or more digits (spaces and
// hyphens between them included): a phone number, a room number with its
// building, an ID card.
func notPersonal(field, text string) error {
	run := 0
	for _, r := range text {
		switch {
		case unicode.IsDigit(r):
			run++
			if run >= 7 {
				return apperr.Invalid(field, "mgmtreport.phone_like")
			}
		case r == ' ' || r == '-' || r == '\u00a0':
		default:
			run = 0
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// newest is the period's latest version, nil when none.
func (s *Service) newest(ctx context.Context, communityID, p string) (*Report, error) {
	var r Report
	err := s.reports.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: p}},
		options.FindOne().SetSort(bson.D{{Key: "version", Value: -1}})).Decode(&r)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest report of %s: %w", p, err)
	}
	return &r, nil
}
