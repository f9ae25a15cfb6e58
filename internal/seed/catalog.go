package seed

import (
	"context"

	"qinqing/internal/catalog"
)

// priceList is a typical published price list (公示服务项目与收费价目).
var priceList = []catalog.ItemInput{
	{Name: "日常保洁", Category: catalog.HomeCleaning, Description: "客厅、卧室、厨卫日常清洁，保洁员自带工具", PriceFen: 4500, Unit: catalog.PerHour},
	{Name: "深度保洁", Category: catalog.HomeCleaning, Description: "油烟机、玻璃、地板打蜡，按建筑面积计", PriceFen: 800, Unit: catalog.PerSquareMetre},
	{Name: "洗衣（干洗）", Category: catalog.Laundry, Description: "上门收取，三个工作日内送回；取件时逐件清点并登记衣物状况", PriceFen: 2500, Unit: catalog.PerItem},
	{Name: "绿植养护", Category: catalog.Greening, Description: "室内盆栽浇水、修剪、施肥", PriceFen: 3000, Unit: catalog.PerVisit},
	{Name: "家政服务", Category: catalog.Housekeeping, Description: "做饭、整理收纳、照看老人（不含医疗护理）", PriceFen: 5000, Unit: catalog.PerHour},
	{Name: "搬家协助", Category: catalog.MovingHelp, Description: "两名搬运工，含楼内搬运和电梯保护", PriceFen: 20000, Unit: catalog.PerVisit},
	{Name: "有偿维修人工", Category: catalog.RepairLabour, Description: "户内非公共部位维修人工费，材料另计", PriceFen: 5000, Unit: catalog.PerHour},
	{Name: "独居老人上门关怀", Category: catalog.Other, Description: "管家每月上门探望、代办小事，免费", Free: true, Unit: catalog.PerVisit},
}

// ensureCatalog publishes the price list in each community that has none.
func (s *seeder) ensureCatalog(ctx context.Context) error {
	if s.d.Catalog == nil {
		return nil
	}
	for ci, c := range s.communities {
		items, err := s.d.Catalog.List(ctx, s.admin, c.ID, true)
		if err != nil {
			return err
		}
		if len(items) > 0 {
			s.counts["serviceItems"] += len(items)
			continue
		}
		sup := callerOf(s.supervisors[ci])
		for _, in := range priceList {
			in.CommunityID = c.ID
			in.Windows = []catalog.Window{{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, From: "08:00", To: "18:00"}}
			if _, err := s.d.Catalog.Upsert(ctx, sup, in); err != nil {
				return err
			}
			s.counts["serviceItems"]++
		}
	}
	return nil
}
