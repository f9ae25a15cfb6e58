package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/hotline"
	"qinqing/internal/platform/page"
)

// demoCalls is how many calls the first community's hotline took yesterday.
const demoCalls = 42

// callOutcomes are what calls became, each with notes a desk would write;
// NOTHING and ENQUIRY come up most, as on a real hotline.
var callOutcomes = []struct {
	outcome hotline.Outcome
	weight  int
	notes   []string
}{
	{hotline.Nothing, 30, []string{"询问物业费缴费方式，已告知", "打错电话", "确认快递代收点开放时间"}},
	{hotline.Enquiry, 25, []string{"咨询停车证办理流程", "询问明天停水时间", "咨询装修申报需要的材料"}},
	{hotline.Repair, 20, []string{"厨房水龙头漏水，已登记报修", "楼道灯不亮", "家中空调不制冷"}},
	{hotline.Complaint, 8, []string{"反映楼上夜间噪音", "反映垃圾清运不及时"}},
	{hotline.ServiceOrder, 8, []string{"预约家政保洁", "预约洗衣上门取件"}},
	{hotline.MoveBooking, 5, []string{"预约周六搬家用电梯"}},
	{hotline.CampaignBooking, 4, []string{"预约免费家电清洗"}},
}

// ringWeights: most calls are answered by the second or third ring, some
// run over the standard (4 to 6 rings).
var ringWeights = []int{18, 34, 26, 11, 7, 4} // 1..6 rings

// ensureCalls logs a day of hotline calls (yesterday, 08:00-20:00 community
// time) for the first community, once: a community whose log has calls is
// left as it is. About two in three callers are residents whose phones
// match a household; the rest are unknown numbers.
func (s *seeder) ensureCalls(ctx context.Context) error {
	if s.d.Calls == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	sup := callerOf(s.supervisors[0])
	existing, err := s.d.Calls.List(ctx, sup, hotline.Filter{CommunityID: com.ID}, page.Request{First: 1})
	if err != nil {
		return err
	}
	if existing.Total > 0 {
		s.counts["hotlineCalls"] = existing.Total
		return nil
	}
	var phones []string
	for i, p := range s.plans {
		for _, m := range p.Members {
			if p.Community == 0 && m.Phone != "" && i < len(s.households) {
				phones = append(phones, m.Phone)
			}
		}
	}
	answerers := []*access.Caller{callerOf(s.butlers[0][0]), callerOf(s.butlers[0][1]), callerOf(s.butlers[0][0]), sup}
	if desk := s.staffWithRole(com.ID, access.CustomerService); desk != nil {
		// The front desk takes most calls where the demo has one.
		answerers = []*access.Caller{desk, desk, callerOf(s.butlers[0][0]), desk, callerOf(s.butlers[0][1]), sup}
	}
	r := rand.New(rand.NewPCG(planSeed, 12))
	loc := com.Location()
	y, m, d := s.now.In(loc).AddDate(0, 0, -1).Date()
	start := time.Date(y, m, d, 8, 0, 0, 0, loc)
	for n := range demoCalls {
		at := start.Add(time.Duration(n)*12*time.Hour/demoCalls + time.Duration(r.IntN(600))*time.Second)
		in := hotline.LogInput{CommunityID: com.ID, ReceivedAt: &at, DurationSeconds: 30 + r.IntN(420)}
		if len(phones) > 0 && r.IntN(3) < 2 {
			in.Phone = phones[r.IntN(len(phones))]
		} else {
			in.Phone = fmt.Sprintf("137%08d", 10000+r.IntN(90000))
		}
		rings := 1 + weighted(r, ringWeights)
		in.Rings = &rings
		if n%3 == 0 {
			secs := rings*5 - 2
			in.AnswerSeconds = &secs
		}
		o := callOutcomes[weighted(r, outcomeWeights())]
		in.Outcome, in.Note = o.outcome, o.notes[r.IntN(len(o.notes))]
		by := answerers[n%len(answerers)]
		if n%10 == 9 { // a callback about an earlier call
			in.Direction, in.Rings, in.AnswerSeconds = hotline.Outbound, nil, nil
			in.Outcome, in.Note = hotline.Nothing, "回访：问题已解决，住户满意"
			by = sup
		}
		if _, err := s.d.Calls.Log(ctx, by, in); err != nil {
			return fmt.Errorf("call %d: %w", n, err)
		}
		s.counts["hotlineCalls"]++
	}
	return nil
}

func outcomeWeights() []int {
	w := make([]int, len(callOutcomes))
	for i, o := range callOutcomes {
		w[i] = o.weight
	}
	return w
}

// weighted picks an index with probability proportional to its weight.
func weighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
