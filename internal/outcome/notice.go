package outcome

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/notify"
	"qinqing/internal/platform/period"
)

// notice tells the community's residents that the outcomes are out: the
// memberships a page at a time, one Send per page, each person once even
// with two flats. The engine's key per (person, publication) makes a
// repeat after a crash deliver nothing twice.
func (s *Service) notice(ctx context.Context, o *Outcomes, communityName string) error {
	if s.cfg.Sender == nil || s.cfg.Residents == nil {
		return nil
	}
	p, err := period.Parse("period", o.Period)
	if err != nil {
		return err
	}
	msg := notify.Message{
		Kind: notify.OutcomesPublished, Key: "outcome:" + o.ID,
		Vars: map[string]any{
			"community": communityName, "period": p.Label(false), "periodEN": p.Label(true),
			"complaints": Total(o.Complaints), "enquiries": Total(o.Enquiries), "actions": len(o.Actions),
			"version": o.Version, "changeNote": o.ChangeNote,
		},
		Data: map[string]string{"outcomesId": o.ID, "communityId": o.CommunityID, "period": o.Period},
	}
	if err := notify.TellResidents(ctx, s.cfg.Sender, s.cfg.Residents, o.CommunityID, msg); err != nil {
		return err
	}
	if _, err := s.outcomes.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "noticed", Value: true}}}}); err != nil {
		return fmt.Errorf("mark %s noticed: %w", o.ID, err)
	}
	o.Noticed = true
	return nil
}

// Tick finishes notices cut short (a crash, a failed engine call) more than
// a minute ago. Every server may run it; the engine's keys keep it
// exactly-once per person.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	q := bson.D{{Key: "noticed", Value: false}, {Key: "publishedAt", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-noticeResume)}}}}
	cur, err := s.outcomes.Find(ctx, q, options.Find().SetLimit(20))
	if err != nil {
		return fmt.Errorf("pending outcome notices: %w", err)
	}
	var list []*Outcomes
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("pending outcome notices: %w", err)
	}
	for _, o := range list {
		cs, err := s.cfg.Places.ByIDs(ctx, []string{o.CommunityID})
		if err != nil {
			return err
		}
		name := ""
		if c := cs[o.CommunityID]; c != nil {
			name = c.Name
		}
		if err := s.notice(ctx, o, name); err != nil {
			return err
		}
	}
	return nil
}
