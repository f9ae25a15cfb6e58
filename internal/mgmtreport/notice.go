package mgmtreport

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/notify"
	"qinqing/internal/platform/period"
)

// Fan-out limits of the publication notice.
const (
	noticeResume = time.Minute
)

// notice tells the community's residents that the version is published:
// the community's memberships a page at a time, one Send per page, each
// person once even with two flats. The engine's key per (person, version)
// makes a repeat after a crash deliver nothing twice; Tick finishes a
// notice cut short.
func (s *Service) notice(ctx context.Context, r *Report) error {
	if s.cfg.Sender == nil || s.cfg.Residents == nil {
		return nil
	}
	p, err := period.Parse("period", r.Period)
	if err != nil {
		return err
	}
	name, err := s.CommunityName(ctx, r.CommunityID)
	if err != nil {
		return err
	}
	msg := notify.Message{
		Kind: notify.ManagementReportPublished, Key: "mgmtreport:" + r.ID,
		Vars: map[string]any{"community": name, "period": p.Label(false), "periodEN": p.Label(true), "version": r.Version, "changeNote": r.ChangeNote},
		Data: map[string]string{"reportId": r.ID, "communityId": r.CommunityID, "period": r.Period},
	}
	if err := notify.TellResidents(ctx, s.cfg.Sender, s.cfg.Residents, r.CommunityID, msg); err != nil {
		return err
	}
	if _, err := s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "noticed", Value: true}}}}); err != nil {
		return fmt.Errorf("mark %s noticed: %w", r.ID, err)
	}
	return nil
}

// Tick finishes publication notices cut short (a crash, a failed engine
// call) more than a minute ago. Every server may run it; the engine's keys
// keep it exactly-once per person.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	q := bson.D{{Key: "noticed", Value: false}, {Key: "publishedAt", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-noticeResume)}}}}
	cur, err := s.reports.Find(ctx, q, options.Find().SetLimit(20).SetProjection(bson.D{{Key: "sections", Value: 0}}))
	if err != nil {
		return fmt.Errorf("pending report notices: %w", err)
	}
	var list []*Report
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("pending report notices: %w", err)
	}
	for _, r := range list {
		if err := s.notice(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
