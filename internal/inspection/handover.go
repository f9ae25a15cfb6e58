package inspection

import (
	"context"
	"time"

	"qinqing/internal/access"
)

// The handover inspection (承接查验): before the company takes over a new
// community it checks the shared parts and shared equipment the developer
// hands over, and the documents that come with them (seed 002: "承接项目时，
// 对住宅小区共用部位、共用设施设备进行认真查验，验收手续齐全"; the items follow
// the usual 物业承接查验 lists of structure, roofs, shared equipment and the
// handed-over records). A failed item is a defect for the engineers to get
// fixed (with the developer), so it becomes a facility work order with a
// deadline, not a cleaner's corrective task.
func init() {
	defaults[Handover] = struct {
		name  string
		items [][2]string
	}{"承接查验（共用部位及共用设施设备）", [][2]string{
		{"主体结构", "梁、板、柱、墙无结构性裂缝，无明显变形、沉降"},
		{"屋面及防水", "屋面无渗漏、无积水，防水层及保护层完好，排水口、落水管畅通"},
		{"外墙及公共门窗", "外墙无渗漏、空鼓、脱落；公共门窗开关灵活、密封良好、五金齐全"},
		{"公共区域地面、墙面、天花", "大堂、走廊、楼梯间无裂缝、无渗漏、无空鼓，装饰面完好"},
		{"地下室及车库", "无渗漏、无积水，排水沟及集水井畅通，通风、照明正常"},
		{"电梯", "运行平稳、平层准确，轿厢及层门无损伤，五方对讲畅通，使用登记及年检合格证在有效期内"},
		{"给水设施及水泵", "二次供水水箱清洁加盖上锁，水泵运行正常、无异响、无渗漏，主备泵可切换"},
		{"排水及污水设施", "公共排水、污水管道无渗漏、无堵塞，化粪池、污水井盖板完好"},
		{"消防系统", "火灾报警、喷淋、消火栓、防排烟及应急照明、疏散指示联动测试正常，消防验收合格"},
		{"供配电设施", "配电房设备运行正常，标识清楚，无裸露线头，接地可靠；备用发电机可正常启动"},
		{"公共照明", "楼道、道路、庭院照明齐全有效，控制正常"},
		{"门禁及道闸", "单元门禁、小区出入口门禁及车辆道闸运行正常，刷卡、对讲、抬杆有效"},
		{"监控系统", "监控摄像头覆盖出入口、电梯轿厢及重点部位，画面清晰，录像保存不少于30天"},
		{"园林绿化", "绿化种植与设计相符，苗木成活、无大面积枯死，园路、小品完好"},
		{"道路及停车场", "道路平整无破损、无积水，停车位及交通标识清楚"},
		{"竣工图纸及技术资料", "竣工总平面图及各专业竣工图、设备出厂合格证、说明书、保修书、验收报告齐全并移交"},
	}}
}

// HandoverFixIn is a handover defect's deadline when the inspector gives
// none: the developer's rectification usually takes weeks, not the day a
// cleaning fault gets.
const HandoverFixIn = 15 * 24 * time.Hour

func fixIn(a Area) time.Duration {
	if a == Handover {
		return HandoverFixIn
	}
	return DefaultFixIn
}

// Defect is a failed handover item, to be fixed as a work order of the
// community's engineers (or the staff member the inspector named).
type Defect struct {
	WorkOrderID     string
	CommunityID     string
	InspectionID    string
	InspectorID     string
	DoneAt          time.Time
	Location        string
	Item            Item
	Note            string
	AssigneeStaffID string
	AssigneeTeam    access.Role
	Deadline        time.Time
}

// Defects files handover defects as work orders (the facility service,
// wired in internal/app so neither package imports the other). Filing an
// order again must change nothing: a retried upload files them again.
type Defects interface {
	FileDefects(ctx context.Context, ds []Defect) error
}

// UseDefects makes failed handover items work orders. Without it they are
// corrective tasks like any other area's.
func (s *Service) UseDefects(d Defects) { s.defects = d }

func (s *Service) filesDefects(a Area) bool { return a == Handover && s.defects != nil }

// fileDefects files the work orders of x's failed handover items, all of
// them on every call: the orders' ids are kept on the results, so those
// already filed stay as they are.
func (s *Service) fileDefects(ctx context.Context, x *Inspection) error {
	var ds []Defect
	for _, r := range x.Results {
		if r.WorkOrderID == "" || s.defects == nil {
			continue
		}
		ds = append(ds, Defect{WorkOrderID: r.WorkOrderID, CommunityID: x.CommunityID, InspectionID: x.ID, InspectorID: x.InspectorID,
			DoneAt: x.DoneAt, Location: x.Location, Item: r.Item, Note: r.Note, AssigneeStaffID: r.AssigneeStaffID,
			AssigneeTeam: r.AssigneeTeam, Deadline: *r.Deadline})
	}
	if len(ds) == 0 {
		return nil
	}
	return s.defects.FileDefects(ctx, ds)
}
