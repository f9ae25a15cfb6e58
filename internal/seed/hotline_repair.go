package seed

import (
	"context"
	"fmt"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/intake"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

// hotlineRepairsPerCommunity is how many elderly residents living alone in
// each community have a repair the front desk filed for them by phone.
const hotlineRepairsPerCommunity = 2

// ensureHotlineRepairs shows the family hotline at work (亲情电话): an elderly
// resident living alone, with no app, rings the front desk about a fault;
// the front desk files it on her behalf (intake PHONE) and the butler takes
// it. A resident who already has a staff-filed repair is left as she is.
func (s *seeder) ensureHotlineRepairs(ctx context.Context) error {
	if s.d.Repairs == nil {
		return nil
	}
	faults := []string{"卫生间水龙头一直滴水，老人拧不紧", "厨房灯不亮了，老人晚上看不清"}
	filed := map[int]int{}
	for i, p := range s.plans {
		if filed[p.Community] >= hotlineRepairsPerCommunity || !livesAlone(p) {
			continue
		}
		com := s.communities[p.Community]
		desk, butler := s.staffWithRole(com.ID, access.CustomerService), s.butlers[p.Community][0]
		if desk == nil {
			continue
		}
		n := filed[p.Community]
		filed[p.Community]++
		mine, err := s.d.Repairs.Mine(ctx, s.resident(i), page.Request{First: 20})
		if err != nil {
			return err
		}
		if slices.ContainsFunc(mine.Items, func(r *repair.Request) bool { return r.Intake != nil }) {
			s.counts["repairsFiledByPhone"]++
			continue
		}
		cat := []repair.Category{"WATER", "ELECTRICITY"}[n%2]
		r, err := s.d.Repairs.Submit(ctx, desk, repair.SubmitInput{HouseholdID: s.households[i].ID, Category: cat,
			Description: faults[n%2], InHome: true, Urgency: repair.Normal,
			Intake: &intake.Input{Channel: intake.Phone, PersonID: s.persons[i][0]}})
		if err != nil {
			return fmt.Errorf("hotline repair in %s: %w", com.Name, err)
		}
		if _, err := s.d.Repairs.Take(ctx, callerOf(butler), r.ID); err != nil {
			return fmt.Errorf("hotline repair in %s: %w", com.Name, err)
		}
		s.counts["repairsFiledByPhone"]++
		s.counts["repairRequests"]++ // a later run counts it with the community's queue
	}
	return nil
}

// livesAlone: the plan of an elderly resident living alone (独居老人).
func livesAlone(p *householdPlan) bool {
	if len(p.Members) != 1 || p.Members[0].Profile == nil || p.Members[0].Profile.Flags == nil {
		return false
	}
	return slices.Contains(*p.Members[0].Profile.Flags, archive.ElderlyAlone)
}
