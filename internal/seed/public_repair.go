package seed

import (
	"context"
	"fmt"

	"qinqing/internal/access"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

// ensurePublicRepair files one public-area fault per community: the lift of
// its first building, found by the cleaner and taken to the engineer on
// site, so the residents' "building repairs" screen and the staff queue have
// a public-area request to show. A community whose first building already
// has one is left as it is.
func (s *seeder) ensurePublicRepair(ctx context.Context) error {
	if s.d.Repairs == nil {
		return nil
	}
	for ci, com := range s.communities {
		building := ""
		for i, p := range s.plans {
			if p.Community == ci {
				building = s.households[i].BuildingID
				break
			}
		}
		cleaner, engineer := s.staffWithRole(com.ID, access.Cleaner), s.staffWithRole(com.ID, access.Engineer)
		if building == "" || cleaner == nil || engineer == nil {
			continue
		}
		sup := callerOf(s.supervisors[ci])
		existing, err := s.d.Repairs.PublicList(ctx, sup, com.ID, building, page.Request{First: 1})
		if err != nil {
			return err
		}
		if len(existing.Items) > 0 {
			continue // counted with the community's other requests (ensureRepairs)
		}
		floor := 1
		r, err := s.d.Repairs.Submit(ctx, cleaner, repair.SubmitInput{Category: "PUBLIC_AREA", Urgency: repair.Urgent,
			Description: "电梯门关闭时有异响，偶尔关不严",
			PublicArea:  &repair.PublicAreaInput{CommunityID: com.ID, BuildingID: building, Floor: &floor, Kind: "LIFT", Place: "1单元电梯"}})
		if err != nil {
			return fmt.Errorf("public-area repair in %s: %w", com.Name, err)
		}
		butler := callerOf(s.butlers[ci][0])
		steps := []func() (*repair.Request, error){
			func() (*repair.Request, error) { return s.d.Repairs.Take(ctx, butler, r.ID) },
			func() (*repair.Request, error) {
				return s.d.Repairs.Dispatch(ctx, butler, r.ID, engineer.ID, "电梯维保单位已通知，请先到场查看")
			},
			func() (*repair.Request, error) { return s.d.Repairs.Accept(ctx, engineer, r.ID) },
			func() (*repair.Request, error) { return s.d.Repairs.Start(ctx, engineer, r.ID, nil) },
		}
		for _, step := range steps {
			if r, err = step(); err != nil {
				return fmt.Errorf("public-area repair in %s: %w", com.Name, err)
			}
		}
		s.counts["repairRequests"]++
	}
	return nil
}
