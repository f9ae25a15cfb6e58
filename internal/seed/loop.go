package seed

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

// repairScenarios walk demo requests to every stage of the loop, so each
// screen of the apps has something to show.
var repairScenarios = []struct {
	category    repair.Category
	description string
	urgency     repair.Urgency
	stage       repair.Status
}{
	{"WATER", "卫生间地漏反味，下水慢", repair.Normal, repair.Submitted},
	{"ELECTRICITY", "客厅插座没电，空气开关跳闸", repair.Urgent, repair.Taken},
	{"DOORS_WINDOWS", "阳台推拉窗关不严，漏风", repair.Low, repair.Dispatched},
	{"GAS", "燃气灶点火困难，有轻微异味", repair.Emergency, repair.Accepted},
	{"APPLIANCES", "热水器不出热水", repair.Normal, repair.InProgress},
	{"WATER", "厨房水龙头漏水", repair.Normal, repair.Completed},
	{"WALLS", "卧室墙面渗水起皮", repair.Normal, repair.Confirmed},
	{"PUBLIC_AREA", "单元门禁刷卡无反应", repair.Urgent, repair.Closed},
}

// ensureRepairs creates the demo requests once per community: a community
// that already has requests is left as it is.
func (s *seeder) ensureRepairs(ctx context.Context) error {
	if s.d.Repairs == nil {
		return nil
	}
	for ci, com := range s.communities {
		sup := callerOf(s.supervisors[ci])
		existing, err := s.d.Repairs.Queue(ctx, sup, repair.QueueFilter{CommunityID: com.ID}, page.Request{First: 1})
		if err != nil {
			return err
		}
		if existing.Total > 0 {
			s.counts["repairRequests"] += existing.Total
			continue
		}
		engineer := s.staffWithRole(com.ID, access.Engineer)
		butler := callerOf(s.butlers[ci][0])
		n := 0
		for i, p := range s.plans {
			if p.Community != ci || n == len(repairScenarios) {
				continue
			}
			sc := repairScenarios[n]
			n++
			if err := s.walkRepair(ctx, i, butler, engineer, sc.category, sc.description, sc.urgency, sc.stage); err != nil {
				return fmt.Errorf("%s: %w", s.households[i].Label, err)
			}
			s.counts["repairRequests"]++
		}
	}
	return nil
}

func (s *seeder) resident(i int) *access.Caller {
	h := s.households[i]
	return &access.Caller{Kind: auth.KindPerson, ID: s.persons[i][0],
		Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: s.plans[i].Members[0].Role}}}
}

func (s *seeder) staffWithRole(communityID string, role access.Role) *access.Caller {
	for _, st := range s.staff {
		if slices.Contains(st.CommunityIDs, communityID) && slices.Contains(st.Roles, role) {
			return callerOf(st)
		}
	}
	return nil
}

func (s *seeder) walkRepair(ctx context.Context, i int, butler, engineer *access.Caller, cat repair.Category, desc string, urg repair.Urgency, stage repair.Status) error {
	owner := s.resident(i)
	in := repair.SubmitInput{HouseholdID: s.households[i].ID, Category: cat, Description: desc, InHome: cat != "PUBLIC_AREA", Urgency: urg}
	if !in.InHome {
		in.Place = s.households[i].Label[:len(s.households[i].Label)-len(s.households[i].Room)] + "门厅"
	}
	r, err := s.d.Repairs.Submit(ctx, owner, in)
	if err != nil {
		return err
	}
	order := []repair.Status{repair.Taken, repair.Dispatched, repair.Accepted, repair.InProgress, repair.Completed, repair.Confirmed, repair.Closed}
	for _, next := range order {
		if r.Status == stage {
			return nil
		}
		switch next {
		case repair.Taken:
			r, err = s.d.Repairs.Take(ctx, butler, r.ID)
		case repair.Dispatched:
			r, err = s.d.Repairs.Dispatch(ctx, butler, r.ID, engineer.ID, "请尽快上门")
		case repair.Accepted:
			r, err = s.d.Repairs.Accept(ctx, engineer, r.ID)
		case repair.InProgress:
			r, err = s.d.Repairs.Start(ctx, engineer, r.ID, nil)
		case repair.Completed:
			r, err = s.d.Repairs.Complete(ctx, engineer, r.ID, repair.CompleteInput{
				Paid: cat == "WATER", LabourFeeFen: map[bool]int64{true: 3000}[cat == "WATER"],
				Materials: []repair.Material{{Name: "阀芯", Quantity: 1, Unit: "个", UnitPriceFen: 2500}},
				Notes:     "已更换配件并试用正常",
			})
		case repair.Confirmed:
			r, err = s.d.Repairs.Confirm(ctx, owner, r.ID, files.Upload{Filename: "signature.png", Content: bytes.NewReader(signaturePNG())}, 5, "师傅很专业，谢谢")
		case repair.Closed:
			r, err = s.d.Repairs.Callback(ctx, butler, r.ID, true, "业主满意")
		}
		if err != nil {
			return fmt.Errorf("to %s: %w", next, err)
		}
	}
	return nil
}

// signaturePNG is a small real image standing in for an owner's signature.
func signaturePNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 120, 40))
	for x := 10; x < 110; x++ {
		img.SetGray(x, 20+(x%7)-3, color.Gray{Y: 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// ensureComplaints creates two demo complaints per community once.
func (s *seeder) ensureComplaints(ctx context.Context) error {
	if s.d.Complaints == nil {
		return nil
	}
	for ci, com := range s.communities {
		sup := callerOf(s.supervisors[ci])
		existing, err := s.d.Complaints.List(ctx, sup, complaint.Filter{CommunityID: com.ID}, page.Request{First: 1})
		if err != nil {
			return err
		}
		if existing.Total > 0 {
			s.counts["complaints"] += existing.Total
			continue
		}
		butler := callerOf(s.butlers[ci][0])
		made := 0
		for i, p := range s.plans {
			if p.Community != ci || i < 40 || made == 2 {
				continue
			}
			in := complaint.SubmitInput{HouseholdID: s.households[i].ID, Category: complaint.Noise, Severity: complaint.High,
				Description: "楼上深夜经常有拖动家具的声音，影响老人休息", Anonymous: true}
			if made == 1 {
				in = complaint.SubmitInput{HouseholdID: s.households[i].ID, Category: complaint.Parking, Severity: complaint.Normal,
					Description: "地库我家车位经常被外来车辆占用"}
			}
			x, err := s.d.Complaints.Submit(ctx, s.resident(i), in)
			if err != nil {
				return err
			}
			if made == 1 {
				if _, err := s.d.Complaints.Acknowledge(ctx, butler, x.ID); err != nil {
					return err
				}
				if _, err := s.d.Complaints.Reply(ctx, butler, x.ID, "已在车位加装地锁提示牌，并通知秩序维护员加强巡查。"); err != nil {
					return err
				}
			}
			made++
			s.counts["complaints"]++
		}
	}
	return nil
}
