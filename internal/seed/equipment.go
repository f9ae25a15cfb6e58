package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/facility"
	"qinqing/internal/platform/page"
)

// equipmentPlan is the first community's shared equipment (设备台账).
var equipmentPlan = []struct {
	kind                     facility.Kind
	name, area, supplier     string
	install, warranty        string
	firstBuilding, allServed bool
}{
	{facility.Lift, "1号楼1号电梯", "", "奥的斯电梯（中国）有限公司", "2019-06-18", "2021-06-18", true, false},
	{facility.WaterPump, "生活给水泵组", "地下室水泵房", "格兰富水泵（上海）有限公司", "2019-05-20", "2021-05-20", false, true},
	{facility.FireSystem, "火灾自动报警及喷淋系统", "消防控制室", "海湾安全技术有限公司", "2019-05-30", "2021-05-30", false, false},
	{facility.Generator, "备用柴油发电机组", "配电房", "康明斯（中国）投资有限公司", "2019-06-01", "2022-06-01", false, false},
	{facility.AccessGate, "东门车辆道闸", "东门", "捷顺科技股份有限公司", "2021-03-12", "2024-03-12", false, false},
	{facility.CCTV, "园区监控系统", "监控中心", "海康威视数字技术股份有限公司", "2019-06-10", "2022-06-10", false, false},
}

// ensureEquipment gives the first community its equipment register, work
// windows and plans (lifts and pumps monthly, the fire system quarterly),
// raises their orders, and completes the fire system's two past quarterly
// checks on their due dates, leaving the last one overdue on the
// supervisors' task lists. A community that has equipment is left alone.
func (s *seeder) ensureEquipment(ctx context.Context) error {
	if s.d.Facilities == nil || len(s.communities) == 0 || len(s.buildings) == 0 || len(s.buildings[0]) == 0 {
		return nil
	}
	f, com := s.d.Facilities, s.communities[0]
	sup := callerOf(s.supervisors[0])
	existing, err := f.ListEquipment(ctx, sup, facility.EquipmentFilter{CommunityID: com.ID}, page.Request{First: 1, Count: true})
	if err != nil {
		return err
	}
	if existing.Total > 0 {
		return s.countFacilities(ctx, com.ID)
	}
	// The defaults, and Saturday mornings for the longer jobs.
	weekdays := []int{1, 2, 3, 4, 5}
	if _, err := f.SetWorkSettings(ctx, sup, com.ID, []facility.Window{{Days: weekdays, From: "09:00", To: "11:30"},
		{Days: weekdays, From: "14:00", To: "17:00"}, {Days: []int{6}, From: "09:00", To: "12:00"}}, 24); err != nil {
		return fmt.Errorf("work windows: %w", err)
	}
	all := make([]string, len(s.buildings[0]))
	for i, b := range s.buildings[0] {
		all[i] = b.ID
	}
	ids := map[facility.Kind]string{}
	for _, e := range equipmentPlan {
		in := facility.EquipmentInput{CommunityID: com.ID, Kind: e.kind, Name: e.name, Area: e.area, Supplier: e.supplier,
			InstallDate: e.install, WarrantyUntil: e.warranty}
		if e.firstBuilding {
			in.BuildingID, in.Serves = all[0], all[:1]
		}
		if e.allServed {
			in.Serves = all
		}
		eq, err := f.RegisterEquipment(ctx, sup, in)
		if err != nil {
			return fmt.Errorf("equipment %s: %w", e.name, err)
		}
		ids[e.kind] = eq.ID
	}
	today := s.now.In(com.Location())
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	plans := []facility.PlanInput{
		{EquipmentID: ids[facility.Lift], Title: "电梯月度保养", Every: 1, Unit: facility.Months, Start: date(today.AddDate(0, 0, 3)),
			Checklist: []string{"曳引机及制动器检查润滑", "门机及层门联锁调整", "安全钳及限速器测试", "五方对讲测试"},
			Disturbs:  []facility.Disturbance{facility.LiftOut}, Minutes: 120},
		{EquipmentID: ids[facility.WaterPump], Title: "水泵月度保养", Every: 1, Unit: facility.Months, Start: date(today.AddDate(0, 0, 5)),
			Checklist: []string{"机械密封无渗漏", "轴承温度及噪声", "主备泵切换测试", "控制柜及压力表检查"},
			Disturbs:  []facility.Disturbance{facility.WaterOff}, Minutes: 60},
		{EquipmentID: ids[facility.FireSystem], Title: "消防系统季度检测", Every: 3, Unit: facility.Months, Start: date(today.AddDate(0, -6, -3)),
			Checklist: []string{"火灾报警探测器抽检", "喷淋末端试水", "消火栓出水测试", "防排烟风机联动", "应急照明及疏散指示"}, Minutes: 180},
	}
	var fire string
	for _, p := range plans {
		p.Active = true
		got, err := f.UpsertPlan(ctx, sup, p)
		if err != nil {
			return fmt.Errorf("plan %s: %w", p.Title, err)
		}
		if p.EquipmentID == ids[facility.FireSystem] {
			fire = got.ID
		}
	}
	if err := f.Tick(ctx, s.d.Now()); err != nil {
		return fmt.Errorf("raise maintenance orders: %w", err)
	}
	if err := s.completeFireChecks(ctx, com.ID, fire, date(today.AddDate(0, -1, 0))); err != nil {
		return err
	}
	return s.countFacilities(ctx, com.ID)
}

// countFacilities counts what the community has, however it came to be.
func (s *seeder) countFacilities(ctx context.Context, communityID string) error {
	sup, f, all := callerOf(s.supervisors[0]), s.d.Facilities, page.Request{First: 0, Count: true}
	eq, err := f.ListEquipment(ctx, sup, facility.EquipmentFilter{CommunityID: communityID}, all)
	if err != nil {
		return err
	}
	ps, err := f.ListPlans(ctx, sup, facility.PlanFilter{CommunityID: communityID}, all)
	if err != nil {
		return err
	}
	os, err := f.ListOrders(ctx, sup, facility.OrderFilter{CommunityID: communityID}, all)
	if err != nil {
		return err
	}
	s.counts["equipment"], s.counts["maintenancePlans"], s.counts["maintenanceOrders"] = eq.Total, ps.Total, os.Total
	return nil
}

// completeFireChecks completes the fire plan's orders due before
// monthAgo, each on its due date (the seed's clock set there) by the
// engineer; the latest stays open, overdue.
func (s *seeder) completeFireChecks(ctx context.Context, communityID, planID, monthAgo string) error {
	f := s.d.Facilities
	eng := s.staffWithRole(communityID, access.Engineer)
	pg, err := f.ListOrders(ctx, callerOf(s.supervisors[0]), facility.OrderFilter{CommunityID: communityID}, page.Request{First: 50})
	if err != nil {
		return err
	}
	if eng == nil {
		return nil
	}
	loc := s.communities[0].Location()
	for _, o := range pg.Items {
		if o.PlanID != planID || o.DueDate >= monthAgo || o.Status != facility.Open {
			continue
		}
		day, _ := time.ParseInLocation(time.DateOnly, o.DueDate, loc)
		doneAt := day.Add(10*time.Hour + 30*time.Minute)
		if s.d.Clock != nil {
			s.d.Clock.set(doneAt)
		} else {
			doneAt = s.d.Now() // no clock to turn back: recorded as done now
		}
		results := make([]facility.CheckResult, len(o.Checklist))
		for i, step := range o.Checklist {
			results[i] = facility.CheckResult{Step: step, OK: true}
		}
		_, err := f.CompleteMaintenance(ctx, eng, facility.CompleteInput{OrderID: o.ID, Results: results, DoneAt: doneAt,
			IdempotencyKey: "seed-" + o.ID, Note: "各项检测正常"})
		if s.d.Clock != nil {
			s.d.Clock.release()
		}
		if err != nil {
			return fmt.Errorf("complete %s: %w", o.ID, err)
		}
	}
	return nil
}
