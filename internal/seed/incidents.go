package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/incident"
	"qinqing/internal/repair"
)

// ensureIncidents records two incidents in the first community, as its
// guard's phone would: yesterday's water leak in the first building's
// basement, contained, a public-area repair filed for the pipe and closed
// by the security supervisor; and this afternoon's parking dispute between
// two households, still open. The reports carry fixed idempotency keys, so
// a rerun finds them; a step already taken is not taken again.
func (s *seeder) ensureIncidents(ctx context.Context) error {
	if s.d.Incidents == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	guard, lead := s.staffWithRole(com.ID, access.Security), s.staffWithRole(com.ID, access.SecuritySupervisor)
	desk := s.staffWithRole(com.ID, access.CustomerService)
	var homes []int // the first community's households, in plan order
	for i, p := range s.plans {
		if p.Community == 0 {
			homes = append(homes, i)
		}
	}
	if guard == nil || lead == nil || desk == nil || len(homes) < 3 {
		return nil
	}
	first := s.households[homes[0]]
	now := s.now.UTC().Truncate(time.Minute)
	leak := now.Add(-26 * time.Hour)
	x, err := s.d.Incidents.Report(ctx, guard, incident.ReportInput{CommunityID: com.ID, Type: incident.WaterLeak, OccurredAt: leak,
		BuildingIDs: []string{first.BuildingID}, Location: "1单元地下室水泵房旁", Description: "地下室给水管接头渗漏，地面积水约 5 厘米，蔓延至储藏室",
		NotifiedStaffIDs: []string{lead.ID}, NotifiedParties: []string{"物业经理"},
		Actions: []incident.ActionInput{{At: leak.Add(5 * time.Minute), Text: "关闭地下室进水阀门，通知工程组"},
			{At: leak.Add(25 * time.Minute), Text: "抽水并设置警示标志，通知受影响住户转移储藏物品"}},
		Residents:      []incident.ResidentInput{{HouseholdID: first.ID, PersonID: s.persons[homes[0]][0]}},
		IdempotencyKey: "seed-incident-water-leak"})
	if err != nil {
		return fmt.Errorf("water leak: %w", err)
	}
	at := func(t time.Time) {
		if s.d.Clock != nil {
			s.d.Clock.set(t)
		}
	}
	defer func() {
		if s.d.Clock != nil {
			s.d.Clock.release()
		}
	}()
	if x.RepairRequestID == "" && x.Status == incident.Open && s.d.Repairs != nil {
		at(leak.Add(30 * time.Minute))
		floor := -1
		if x, err = s.d.Incidents.FileRepair(ctx, guard, x.ID, incident.RepairInput{BuildingID: first.BuildingID, Floor: &floor, Kind: "OTHER",
			Place: "地下室水泵房", Category: "WATER", Description: "地下室给水管接头渗漏，需更换接头", Urgency: repair.Urgent}); err != nil {
			return fmt.Errorf("water leak repair: %w", err)
		}
		s.counts["repairRequests"]++ // a later run counts it with the community's queue
	}
	if x.Status == incident.Open {
		at(leak.Add(3 * time.Hour))
		if x, err = s.d.Incidents.Close(ctx, lead, x.ID, x.Version, "阀门已关闭，积水已清理，储藏室物品已转移；水管接头已报修"); err != nil {
			return fmt.Errorf("close water leak: %w", err)
		}
	}
	if s.d.Clock != nil {
		s.d.Clock.release()
	}
	a, b := s.households[homes[1]], s.households[homes[2]]
	dispute := now.Add(-5 * time.Hour)
	if _, err := s.d.Incidents.Report(ctx, desk, incident.ReportInput{CommunityID: com.ID, Type: incident.Dispute, OccurredAt: dispute,
		BuildingIDs: []string{a.BuildingID}, Location: "楼下临时停车位", Description: "两户因临时停车位占用发生争执",
		Reporter:         &incident.ReporterInput{Kind: incident.ByResident, PersonID: s.persons[homes[1]][0]},
		NotifiedStaffIDs: []string{guard.ID}, NotifiedParties: []string{"居委会"},
		Actions:        []incident.ActionInput{{At: dispute.Add(10 * time.Minute), Text: "秩序维护员到场劝解，双方情绪平稳，约定明日协商"}},
		Residents:      []incident.ResidentInput{{HouseholdID: a.ID}, {HouseholdID: b.ID}},
		IdempotencyKey: "seed-incident-dispute"}); err != nil {
		return fmt.Errorf("dispute: %w", err)
	}
	s.counts["incidents"] = 2
	return nil
}
