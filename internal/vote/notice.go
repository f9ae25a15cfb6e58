package vote

import (
	"context"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/notify"
)

// outcomeText names what a result decided, in Chinese and English.
func outcomeText(v *Vote) (zh, en string) {
	r := v.Result
	switch r.Outcome {
	case Adopted:
		o := v.Option(r.AdoptedOptionID)
		return "通过“" + o.Text + "”", "adopted: " + o.Text
	case NotAdopted:
		return "未有选项达到通过标准", "no option reached approval"
	}
	return "参与人数或面积未达三分之二，表决无效", "too few owners took part (two thirds needed)"
}

// noticeOpened tells the residents a vote is open; a failure is logged and
// never fails the opening (the vote is in the app either way).
func (s *Service) noticeOpened(ctx context.Context, v *Vote) {
	loc := s.zone(v.CommunityID)
	vars := map[string]any{"title": v.Title, "closes": v.ClosesAt.In(loc).Format("2006年1月2日 15:04"), "closesEN": v.ClosesAt.In(loc).Format("2 Jan 2006 15:04")}
	if err := s.fanOut(ctx, v, notify.VoteOpened, "vote-opened:"+v.ID, vars); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "vote opening notice incomplete", "vote", v.ID, "err", err)
	}
}

// noticeResult tells the residents the result, then marks the vote noticed;
// Tick repeats one cut short (the engine's keys make each person's once).
func (s *Service) noticeResult(ctx context.Context, v *Vote) error {
	zh, en := outcomeText(v)
	vars := map[string]any{"title": v.Title, "units": strconv.FormatInt(v.Result.Participating.Units, 10),
		"electorate": strconv.FormatInt(v.Electorate.Units, 10), "outcome": zh, "outcomeEN": en}
	if err := s.fanOut(ctx, v, notify.VoteResultPublished, "vote-result:"+v.ID, vars); err != nil {
		return err
	}
	if _, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "noticed", Value: true}}}}); err != nil {
		return fmt.Errorf("mark vote %s noticed: %w", v.ID, err)
	}
	v.Noticed = true
	return nil
}

// fanOut sends one message to every resident of the vote's community, a
// page of memberships at a time, each person once.
func (s *Service) fanOut(ctx context.Context, v *Vote, kind notify.Kind, key string, vars map[string]any) error {
	if s.cfg.Sender == nil || s.cfg.Households == nil {
		return nil
	}
	name := ""
	if s.cfg.Places != nil {
		n, err := s.cfg.Places.CommunityName(ctx, v.CommunityID)
		if err != nil {
			return err
		}
		name = n
	}
	vars["community"] = name
	msg := notify.Message{Kind: kind, Key: key, Vars: vars, Data: map[string]string{"voteId": v.ID, "communityId": v.CommunityID}}
	return notify.TellResidents(ctx, s.cfg.Sender, s.cfg.Households, v.CommunityID, msg)
}
