package finance

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/fee"
	"qinqing/internal/notify"
)

// notice tells the community's residents that the statement is out: the
// community's memberships a page at a time (one query per page, as a
// greeting to a whole community does), one Send per page, each person once
// even with two flats. The engine's key per (person, statement) makes a
// repeat after a crash deliver nothing twice.
func (s *Service) notice(ctx context.Context, st *Statement, communityName string) error {
	if s.cfg.Sender == nil || s.cfg.Residents == nil {
		return nil
	}
	p, err := ParsePeriod(st.Period)
	if err != nil {
		return err
	}
	vars := map[string]any{
		"community": communityName, "period": p.Label(false), "periodEN": p.Label(true),
		"income": fee.Yuan(st.Income), "expense": fee.Yuan(st.Expense), "surplus": fee.Yuan(st.Surplus()),
		"deficit": st.Surplus() < 0, "version": st.Version, "changeNote": st.ChangeNote,
	}
	if st.Surplus() < 0 {
		vars["surplus"] = fee.Yuan(-st.Surplus())
	}
	msg := notify.Message{
		Kind: notify.FinanceStatementPublished, Key: "finance:" + st.ID, Vars: vars,
		Data: map[string]string{"statementId": st.ID, "communityId": st.CommunityID, "period": st.Period},
	}
	if err := notify.TellResidents(ctx, s.cfg.Sender, s.cfg.Residents, st.CommunityID, msg); err != nil {
		return err
	}
	if _, err := s.statements.UpdateOne(ctx, bson.D{{Key: "_id", Value: st.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "noticed", Value: true}}}}); err != nil {
		return fmt.Errorf("mark %s noticed: %w", st.ID, err)
	}
	st.Noticed = true
	return nil
}

// Tick finishes notices cut short (a crash, a failed engine call) more than
// a minute ago. Every server may run it; the engine's keys keep it
// exactly-once per person.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	q := bson.D{{Key: "noticed", Value: false}, {Key: "publishedAt", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-noticeResume)}}}}
	cur, err := s.statements.Find(ctx, q, options.Find().SetLimit(20))
	if err != nil {
		return fmt.Errorf("pending statement notices: %w", err)
	}
	var list []*Statement
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("pending statement notices: %w", err)
	}
	for _, st := range list {
		name, err := s.CommunityName(ctx, st.CommunityID)
		if err != nil {
			return err
		}
		if err := s.notice(ctx, st, name); err != nil {
			return err
		}
	}
	return nil
}
