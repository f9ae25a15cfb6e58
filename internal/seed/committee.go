package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/committee"
)

// ensureCommittee gives the first community an owners' committee elected
// at the start of this year for five years: its first planned owner as
// chair (the first owner the seed lists, so a demo can log in as the
// chair), the next as vice-chair and the third as a member. Owners already
// sitting are left as they are.
func (s *seeder) ensureCommittee(ctx context.Context) error {
	if s.d.Committee == nil || len(s.communities) == 0 || s.supervisors[0] == nil {
		return nil
	}
	com := s.communities[0]
	sitting, err := s.d.Committee.Sitting(ctx, com.ID)
	if err != nil {
		return err
	}
	seated := map[string]bool{}
	for _, m := range sitting {
		seated[m.PersonID] = true
	}
	loc := com.Location()
	start := time.Date(s.now.In(loc).Year(), 1, 1, 0, 0, 0, 0, loc)
	roles := []committee.Role{committee.Chair, committee.ViceChair, committee.Member}
	sup := callerOf(s.supervisors[0])
	for i, p := range s.plans {
		if len(roles) == 0 {
			break
		}
		if p.Community != 0 || len(s.persons[i]) == 0 {
			continue
		}
		role := roles[0]
		roles = roles[1:]
		owner := s.persons[i][0] // the owner is always planned first
		if seated[owner] {
			continue
		}
		if _, err := s.d.Committee.Appoint(ctx, sup, committee.AppointInput{CommunityID: com.ID, PersonID: owner, Role: role,
			TermStart: start.Format(time.DateOnly), TermEnd: start.AddDate(committee.MaxTermYears, 0, -1).Format(time.DateOnly)}); err != nil {
			return fmt.Errorf("appoint %s in %s: %w", role, com.Name, err)
		}
	}
	s.counts["committeeMembers"] = 3
	return nil
}
