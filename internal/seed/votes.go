package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/committee"
	"qinqing/internal/platform/page"
	"qinqing/internal/vote"
)

// Titles of the seeded votes: how a second run finds them.
const (
	seedClosedVote = "2026年度小区公共收益使用方案"
	seedOpenVote   = "增设电动自行车集中充电设施"
)

// ensureVotes gives the first community two owners' votes opened by its
// committee chair: one counted (three quarters of the units voted, most for
// the plan, so it is adopted) and one still open with a few ballots in. A
// vote already there is left as it is. The counted vote needs the seed's
// clock (its period lies in the past) and a chair sitting then.
func (s *seeder) ensureVotes(ctx context.Context) error {
	if s.d.Votes == nil || s.d.Committee == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	chairIdx := -1
	var units []int
	for i, p := range s.plans {
		if p.Community != 0 || len(s.persons[i]) == 0 {
			continue
		}
		if chairIdx < 0 {
			chairIdx = i // ensureCommittee seats the first owner as chair
		}
		units = append(units, i)
	}
	if chairIdx < 0 {
		return nil
	}
	chair := s.resident(chairIdx)
	if r, err := s.d.Committee.RoleOf(ctx, chair, com.ID); err != nil || r != committee.Chair {
		return err
	}
	have := map[string]bool{}
	pg, err := s.d.Votes.List(ctx, chair, com.ID, page.Request{First: page.MaxFirst})
	if err != nil {
		return err
	}
	for _, v := range pg.Items {
		have[v.Title] = true
	}
	options := []vote.OptionInput{{Text: "同意"}, {Text: "反对"}, {Text: "弃权", Abstain: true}}
	now := s.now
	if !have[seedClosedVote] && s.d.Clock != nil {
		opens, closes := now.Add(-72*time.Hour), now.Add(-24*time.Hour)
		if start := time.Date(now.In(com.Location()).Year(), 1, 1, 0, 0, 0, 0, com.Location()); opens.After(start) {
			desc := "公共收益（广告位、场地租金）扣除税费后，50% 用于补充维修资金，30% 用于绿化改造，20% 用于业主活动。"
			if err := s.pastVote(ctx, chair, units, vote.OpenInput{CommunityID: com.ID, Title: seedClosedVote, Description: &desc,
				Rule: vote.Ordinary, Options: options, ClosesAt: closes}, opens); err != nil {
				return err
			}
		}
	}
	if !have[seedOpenVote] {
		desc := "在 2 号楼、5 号楼北侧增设电动自行车集中充电棚，费用由公共收益支出。"
		v, err := s.d.Votes.Open(ctx, chair, vote.OpenInput{CommunityID: com.ID, Title: seedOpenVote, Description: &desc,
			Rule: vote.Ordinary, Options: options, ClosesAt: now.Add(14 * 24 * time.Hour)})
		if err != nil {
			return fmt.Errorf("open vote %s: %w", seedOpenVote, err)
		}
		for k, i := range units {
			if k%3 != 0 {
				continue // a third have voted so far
			}
			if _, err := s.d.Votes.Cast(ctx, s.resident(i), v.ID, s.households[i].ID, choiceOf(k)); err != nil {
				return fmt.Errorf("ballot of %s: %w", s.households[i].Label, err)
			}
		}
	}
	s.counts["votes"] = 2
	return nil
}

// pastVote opens a vote at opens on the seed's clock, casts three units in
// four, and counts it after it closed.
func (s *seeder) pastVote(ctx context.Context, chair *access.Caller, units []int, in vote.OpenInput, opens time.Time) error {
	defer s.d.Clock.release()
	s.d.Clock.set(opens)
	v, err := s.d.Votes.Open(ctx, chair, in)
	if err != nil {
		return fmt.Errorf("open vote %s: %w", in.Title, err)
	}
	s.d.Clock.set(opens.Add(time.Hour))
	for k, i := range units {
		if k%4 == 3 {
			continue
		}
		if _, err := s.d.Votes.Cast(ctx, s.resident(i), v.ID, s.households[i].ID, choiceOf(k)); err != nil {
			return fmt.Errorf("ballot of %s: %w", s.households[i].Label, err)
		}
	}
	s.d.Clock.set(in.ClosesAt.Add(time.Minute))
	if _, err := s.d.Votes.Close(ctx, chair, v.ID); err != nil {
		return fmt.Errorf("count vote %s: %w", in.Title, err)
	}
	return nil
}

// choiceOf spreads ballots over the options: mostly for, some against, a
// few abstaining.
func choiceOf(k int) string {
	switch {
	case k%5 == 1:
		return "2"
	case k%7 == 2:
		return "3"
	}
	return "1"
}
