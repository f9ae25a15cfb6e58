package mgmtreport

import (
	"qinqing/internal/facility"
	"qinqing/internal/incident"
	"qinqing/internal/inspection"
	"qinqing/internal/kpi"
)

func count(key, zh, en string, n int) Figure {
	return Figure{Key: key, LabelZH: zh, LabelEN: en, Unit: Count, Value: int64(n), Available: true}
}

func fen(key, zh, en string, v int64) Figure {
	return Figure{Key: key, LabelZH: zh, LabelEN: en, Unit: Fen, Value: v, Available: true}
}

func ratio(key, zh, en string, num, den int64) Figure {
	return Figure{Key: key, LabelZH: zh, LabelEN: en, Unit: Ratio, Value: num, Denominator: den, Available: true}
}

func kratio(key, zh, en string, r kpi.Ratio) Figure {
	f := ratio(key, zh, en, int64(r.Numerator), int64(r.Denominator))
	f.Available = r.Available
	return f
}

// CleaningAreas are the areas the cleaners answer for, in report order.
var CleaningAreas = []inspection.Area{inspection.Lobby, inspection.Corridor, inspection.LiftCar, inspection.PublicToilet, inspection.Roof}

// AreaNames name the inspected areas (zh, en).
var AreaNames = map[inspection.Area][2]string{
	inspection.Lobby: {"大堂", "Lobby"}, inspection.Corridor: {"楼道", "Corridors"}, inspection.LiftCar: {"电梯轿厢", "Lift cars"},
	inspection.Stairs: {"楼梯及消防通道", "Stairs and fire escapes"}, inspection.PublicToilet: {"公共卫生间", "Public toilets"},
	inspection.BasementGarage: {"地下车库", "Basement garage"}, inspection.Roof: {"天台", "Roof"}, inspection.Garden: {"园林绿地", "Gardens"},
	inspection.SecurityPost: {"岗亭", "Security posts"}, inspection.FrontDesk: {"前台", "Front desk"},
}

// estate is what the estate's sources said about the period.
type estate struct {
	kinds map[facility.Kind]facility.KindStats
	areas map[inspection.Area]inspection.AreaPass
}

func (e estate) areaPass(key, zh, en string, a inspection.Area) Figure {
	ap := e.areas[a]
	return ratio(key, zh, en, int64(ap.Passed), int64(ap.Total))
}

func equipmentSection(e estate) SectionData {
	var due, done, onPlan, known, defects, fixed int
	for k, st := range e.kinds {
		if k == facility.PestControl {
			continue
		}
		due, done, onPlan, known = due+st.PlannedDue, done+st.PlannedDone, onPlan+st.PlannedOnPlan, known+st.PlannedKnown
		defects, fixed = defects+st.DefectsDue, fixed+st.DefectsDone
	}
	lift := e.kinds[facility.Lift]
	return SectionData{Section: Equipment, Figures: []Figure{
		count("equipment.maintenanceDue", "计划保养工单（张）", "Planned maintenance orders due", due),
		count("equipment.maintenanceDone", "已完成保养工单（张）", "Planned maintenance orders done", done),
		ratio("equipment.maintenanceOnPlan", "按计划完成保养率", "Maintenance done on plan", int64(onPlan), int64(known)),
		count("equipment.defects", "设备缺陷整改单（张）", "Defect orders due", defects),
		count("equipment.defectsFixed", "已整改缺陷（项）", "Defects fixed", fixed),
		count("equipment.lifts", "电梯（台）", "Lifts", lift.Equipment),
		ratio("equipment.liftMaintenanceOnPlan", "电梯按计划保养率", "Lift maintenance on plan", int64(lift.PlannedOnPlan), int64(lift.PlannedKnown)),
	}}
}

func securitySection(k *kpi.KPIs) SectionData {
	in := k.Estate.Incidents
	fs := []Figure{
		kratio("security.patrolCompleteness", "巡更完成率", "Patrol checkpoints scanned", k.Estate.PatrolCompleteness),
		kratio("security.patrolOnTime", "巡更按时率", "Patrol checkpoints on time", k.Estate.PatrolOnTime),
		count("security.incidents", "安全事件（起）", "Incidents", in.Reported),
		count("security.incidentsClosed", "已处理安全事件（起）", "Incidents closed", in.Closed),
	}
	by := map[incident.Type]int{}
	for _, t := range in.ByType {
		by[t.Type] = t.Reported
	}
	for _, t := range incident.Types {
		n := incident.TypeNames[t]
		fs = append(fs, count("security.incidents."+string(t), n[0]+"（起）", n[1], by[t]))
	}
	if !in.Available {
		for i := 2; i < len(fs); i++ {
			fs[i].Available = false
		}
	}
	return SectionData{Section: Security, Figures: fs}
}

func fireSection(e estate, k *kpi.KPIs) SectionData {
	fire := e.kinds[facility.FireSystem]
	alarms := 0
	for _, t := range k.Estate.Incidents.ByType {
		if t.Type == incident.FireAlarm {
			alarms = t.Reported
		}
	}
	return SectionData{Section: FireSafety, Figures: []Figure{
		count("fire.systems", "消防系统（套）", "Fire systems", fire.Equipment),
		count("fire.maintenanceDue", "消防设施计划保养（次）", "Fire system maintenance due", fire.PlannedDue),
		ratio("fire.maintenanceOnPlan", "消防设施按计划保养率", "Fire system maintenance on plan", int64(fire.PlannedOnPlan), int64(fire.PlannedKnown)),
		count("fire.alarms", "火警（起）", "Fire alarms", alarms),
		e.areaPass("fire.stairsPass", "楼梯及消防通道检查合格率", "Stairs and fire escapes passed", inspection.Stairs),
	}}
}

func cleaningSection(e estate) SectionData {
	var passed, total int
	fs := []Figure{}
	for _, a := range CleaningAreas {
		ap := e.areas[a]
		passed, total = passed+ap.Passed, total+ap.Total
		fs = append(fs, e.areaPass("cleaning.pass."+string(a), AreaNames[a][0]+"检查合格率", AreaNames[a][1]+" passed", a))
	}
	fs = append([]Figure{ratio("cleaning.pass", "清洁检查合格率", "Cleaning checks passed", int64(passed), int64(total))}, fs...)
	return SectionData{Section: Cleaning, Figures: fs}
}

func pestSection(e estate) SectionData {
	st := e.kinds[facility.PestControl]
	return SectionData{Section: PestControl, Figures: []Figure{
		count("pest.points", "消杀点（个）", "Pest-control points", st.Equipment),
		count("pest.roundsDue", "计划消杀（次）", "Pest-control rounds due", st.PlannedDue),
		count("pest.roundsDone", "已完成消杀（次）", "Pest-control rounds done", st.PlannedDone),
		ratio("pest.onPlan", "按计划消杀率", "Pest control on plan", int64(st.PlannedOnPlan), int64(st.PlannedKnown)),
	}}
}
