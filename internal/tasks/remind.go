package tasks

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/staff"
)

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// Butlers lists a community's butlers.
type Butlers interface {
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

var kindLabel = map[Kind][2]string{
	CongratulationVisit: {"入住登门祝贺", "Move-in congratulation visit"},
	MoveInCallback:      {"入住回访", "Move-in callback"},
}

// Remind sends each written task, once it is due, to the butlers responsible
// for its household. Every server ticks it; the message key (one per task)
// makes it once, and remindedAt keeps the next tick from looking again.
func (s *Service) Remind(ctx context.Context, now time.Time, send Sender, butlers Butlers) error {
	cur, err := s.col.Find(ctx, bson.D{{Key: "doneAt", Value: nil}, {Key: "remindedAt", Value: nil}, {Key: "dueAt", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}}).SetLimit(500))
	if err != nil {
		return fmt.Errorf("due butler tasks: %w", err)
	}
	var due []*Task
	if err := cur.All(ctx, &due); err != nil {
		return fmt.Errorf("due butler tasks: %w", err)
	}
	staffOf := map[string][]*staff.Staff{}
	for _, t := range due {
		bs, ok := staffOf[t.CommunityID]
		if !ok {
			if bs, err = butlers.WithRole(ctx, t.CommunityID, access.Butler); err != nil {
				return err
			}
			staffOf[t.CommunityID] = bs
		}
		var rs []notify.Recipient
		for _, b := range bs {
			if slices.Contains(b.BuildingIDs, t.BuildingID) || slices.Contains(b.HouseholdIDs, t.HouseholdID) {
				rs = append(rs, notify.Recipient{Kind: auth.KindStaff, ID: b.ID, CommunityID: t.CommunityID})
			}
		}
		label := kindLabel[t.Kind]
		if len(rs) > 0 {
			if _, err := send.Send(ctx, notify.Message{Kind: notify.ButlerTaskDue, Key: "task:" + t.ID + ":due", Recipients: rs,
				Vars: map[string]any{"label": label[0], "title": t.Title, "titleEN": label[1]},
				Data: map[string]string{"taskId": t.ID, "householdId": t.HouseholdID}}); err != nil {
				return err
			}
		}
		if _, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: t.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "remindedAt", Value: now.UTC()}}}}); err != nil {
			return fmt.Errorf("mark butler task reminded: %w", err)
		}
	}
	return nil
}
