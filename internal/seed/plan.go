package seed

import (
	"fmt"
	"math/rand/v2"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/household"
)

// The plan is what the demo company looks like, computed from the household
// index alone (a PCG seeded with a fixed key and the index), so every run
// wants exactly the same data and household i is the same whatever the
// requested count.

const planSeed = 0x71696e71696e67 // "qinqing"

type communityPlan struct {
	Name, Slug, Address string
	Buildings           []string
}

var communityPlans = []communityPlan{
	{Name: "春晖苑", Slug: "chunhui", Address: "上海市浦东新区春晖路 88 号", Buildings: []string{"1", "2", "3", "4", "5"}},
	{Name: "桂香园", Slug: "guixiang", Address: "上海市闵行区桂香路 166 号", Buildings: []string{"1", "2", "3", "4"}},
}

var buildingUnits = []string{"1", "2"}

// butler1Buildings is how many of a community's first buildings butler1
// looks after; butler2 has the rest.
const butler1Buildings = 2

type memberPlan struct {
	Name    string
	Phone   string // "" for children and some elders
	Gender  household.Gender
	Role    access.Role
	Profile *archive.ProfileInput // nil: no care profile
}

type visitPlan struct {
	DaysAgo   int
	Topics    []string
	Notes     string
	FollowUp  string
	DueInDays *int // relative to the community's today; nil: no due date
	Complete  bool // the follow-up has already been done
}

type householdPlan struct {
	Index      int
	Community  int // index into communityPlans
	Building   int // index into the community's buildings
	Unit, Room string
	FloorArea  float64
	MoveInDate string
	Tenanted   bool
	Members    []memberPlan
	Care       *archive.HouseholdCareInput
	Visits     []visitPlan
}

func (h *householdPlan) key() string { return h.Unit + "|" + h.Room }

// planHouseholds returns the first n households. thisYear bounds birth years
// (a newborn is born last year).
func planHouseholds(n, thisYear int) []*householdPlan {
	out := make([]*householdPlan, n)
	for i := range n {
		out[i] = planHousehold(i, thisYear)
	}
	return out
}

func planHousehold(i, thisYear int) *householdPlan {
	r := rand.New(rand.NewPCG(planSeed, uint64(i)))
	h := &householdPlan{Index: i, Community: i % len(communityPlans)}
	k := i / len(communityPlans) // index within the community
	nb := len(communityPlans[h.Community].Buildings)
	h.Building = k % nb
	h.Unit, h.Room = placeInBuilding(k / nb)
	h.FloorArea = float64(60+r.IntN(90)) + 0.5*float64(r.IntN(2))
	h.MoveInDate = fmt.Sprintf("%d-%02d-%02d", 2008+r.IntN(17), 1+r.IntN(12), 1+r.IntN(28))

	var (
		// Chosen by the index within the community (k), not overall (i), so
		// both communities get their share of every kind of household.
		elderlyAlone = k%20 == 7
		tenanted     = !elderlyAlone && k%10 == 4
		newborn      = !elderlyAlone && !tenanted && k%12 == 5
		hardship     = !elderlyAlone && !tenanted && k%30 == 13
		disabled     = !elderlyAlone && !tenanted && k%40 == 21
		attention    = !elderlyAlone && !tenanted && k%50 == 33
		chronic      = elderlyAlone && (k/20)%2 == 0
	)
	h.Tenanted = tenanted
	names := map[string]bool{}

	switch {
	case elderlyAlone:
		g := gender(r)
		owner := memberPlan{Name: uniqueName(r, names, pick(r, surnames), g, elder), Phone: phone(139, i), Gender: g, Role: access.Owner}
		flags := []archive.Flag{archive.ElderlyAlone}
		p := profile(r, 1938+r.IntN(13), elder, true)
		if chronic {
			flags = append(flags, archive.ChronicIllness)
			p.HealthNotes = ptr(pick(r, chronicNotes))
		}
		p.Flags = &flags
		p.Notes = ptr("子女在外地工作，逢年过节回来，日常请多关照。")
		owner.Profile = p
		h.Members = []memberPlan{owner}
		h.Care = &archive.HouseholdCareInput{FamilyStructure: ptr("独居老人，子女在外地"), Preferences: ptr("上午上门为宜，敲门后请稍候")}
		due := []int{-2, 0, 3}[(i/20)%3]
		h.Visits = []visitPlan{{
			DaysAgo: 2 + i%9, Topics: []string{"身体状况", "居家安全"},
			Notes:    "老人精神不错，燃气灶和热水器使用正常，提醒晚上锁好门窗。",
			FollowUp: "上门检查燃气报警器并帮忙更换电池", DueInDays: &due,
		}}

	case tenanted:
		og := gender(r)
		owner := memberPlan{Name: uniqueName(r, names, pick(r, surnames), og, adult), Phone: phone(139, i), Gender: og, Role: access.Owner}
		if r.IntN(100) < 30 {
			owner.Profile = profile(r, 1960+r.IntN(25), adult, false)
		}
		tg := gender(r)
		tenant := memberPlan{Name: uniqueName(r, names, pick(r, surnames), tg, young), Phone: phone(137, i), Gender: tg, Role: access.Tenant}
		h.Members = []memberPlan{owner, tenant}
		if r.IntN(2) == 0 {
			g := opposite(tg)
			h.Members = append(h.Members, memberPlan{Name: uniqueName(r, names, pick(r, surnames), g, young), Phone: phone(136, i), Gender: g, Role: access.Tenant})
		}

	default:
		og := gender(r)
		ownerBorn := 1962 + r.IntN(32)
		surname := pick(r, surnames)
		owner := memberPlan{Name: uniqueName(r, names, surname, og, adult), Phone: phone(139, i), Gender: og, Role: access.Owner}
		if r.IntN(100) < 40 || hardship || attention {
			owner.Profile = profile(r, ownerBorn, adult, false)
		}
		if hardship {
			p := owner.Profile
			p.Flags = &[]archive.Flag{archive.Hardship}
			p.HardshipNotes = ptr(pick(r, hardshipNotes))
			h.Care = &archive.HouseholdCareInput{FamilyStructure: ptr("夫妻二人，一方失业"), Preferences: ptr("物业费减免事宜请与业主本人电话沟通")}
			h.Visits = append(h.Visits, visitPlan{
				DaysAgo: 5 + i%7, Topics: []string{"困难帮扶"},
				Notes:    "了解家庭近况，业主希望申请物业费减免。",
				FollowUp: "协助业主提交物业费减免申请", DueInDays: ptr(7),
				Complete: (i/30)%2 == 1,
			})
		}
		if attention {
			p := owner.Profile
			flags := []archive.Flag{archive.NeedsAttention}
			if p.Flags != nil {
				flags = append(*p.Flags, flags...)
			}
			p.Flags = &flags
			p.Notes = ptr("近期做过手术，行动不便，快递可代为送上楼。")
		}
		h.Members = []memberPlan{owner}
		if r.IntN(100) < 75 {
			g := opposite(og)
			sp := memberPlan{Name: uniqueName(r, names, pick(r, surnames), g, adult), Phone: phone(138, i), Gender: g, Role: access.Family}
			if r.IntN(100) < 25 {
				sp.Profile = profile(r, ownerBorn-3+r.IntN(7), adult, false)
			}
			h.Members = append(h.Members, sp)
		}
		if newborn || r.IntN(100) < 55 {
			g := gender(r)
			ch := memberPlan{Name: uniqueName(r, names, surname, g, child), Gender: g, Role: access.Family}
			switch {
			case newborn:
				p := profile(r, thisYear-1, baby, false)
				p.Flags = &[]archive.Flag{archive.Newborn}
				ch.Profile = p
				h.Visits = append(h.Visits, visitPlan{
					DaysAgo: 1 + i%5, Topics: []string{"新生儿祝贺"},
					Notes: "送上新生儿礼包和社区育儿手册，母子平安。",
				})
			case r.IntN(100) < 20:
				ch.Profile = profile(r, 2008+r.IntN(13), child, false)
			}
			h.Members = append(h.Members, ch)
		}
		if disabled || r.IntN(100) < 25 {
			g := gender(r)
			el := memberPlan{Name: uniqueName(r, names, pick(r, surnames), g, elder), Gender: g, Role: access.Family}
			if r.IntN(3) == 0 {
				el.Phone = phone(133, i)
			}
			if disabled || r.IntN(100) < 60 {
				el.Profile = profile(r, 1938+r.IntN(18), elder, true)
			}
			if disabled {
				el.Profile.Flags = &[]archive.Flag{archive.Disabled}
				el.Profile.HealthNotes = ptr("下肢残疾，依靠轮椅出行，需要无障碍通道。")
				h.Care = &archive.HouseholdCareInput{FamilyStructure: ptr("三代同堂，老人行动不便"), Preferences: ptr("维修上门请避开午休时间（12:00-14:00）")}
				h.Visits = append(h.Visits, visitPlan{
					DaysAgo: 4, Topics: []string{"无障碍需求"},
					Notes:    "单元门口台阶较高，轮椅进出困难。",
					FollowUp: "联系工程部在单元门口加装扶手和坡道", DueInDays: ptr(-3),
				})
			}
			h.Members = append(h.Members, el)
		}
		if h.Care == nil && newborn {
			h.Care = &archive.HouseholdCareInput{FamilyStructure: ptr("年轻夫妻，新添宝宝"), Preferences: ptr("宝宝午睡时间请勿按门铃")}
		}
	}
	if h.Care == nil && i%17 == 2 {
		h.Care = &archive.HouseholdCareInput{Preferences: ptr(pick(r, preferences))}
	}
	return h
}

// placeInBuilding maps the j-th household of a building to a unit and room:
// 2 units × 18 floors × 2 doors before doors 03/04 are used, floors spread
// out (stride 5 is coprime with 18) rather than filled bottom-up.
func placeInBuilding(j int) (unit, room string) {
	unit = buildingUnits[j%len(buildingUnits)]
	j /= len(buildingUnits)
	door := j%2 + 1 + 2*(j/36)
	floor := 1 + ((j/2)%18*5)%18
	return unit, fmt.Sprintf("%d%02d", floor, door)
}

// phone is a recognisably fake mobile number: prefix + 0000 + 4-digit index.
func phone(prefix, i int) string { return fmt.Sprintf("%d0000%04d", prefix, i) }

type ageGroup int

const (
	baby ageGroup = iota
	child
	young
	adult
	elder
)

func gender(r *rand.Rand) household.Gender {
	if r.IntN(2) == 0 {
		return household.Male
	}
	return household.Female
}

func opposite(g household.Gender) household.Gender {
	if g == household.Male {
		return household.Female
	}
	return household.Male
}

// uniqueName draws a name not yet used in the household, so members without
// a phone can be recognised by name on a rerun.
func uniqueName(r *rand.Rand, used map[string]bool, surname string, g household.Gender, age ageGroup) string {
	for {
		var given []string
		switch {
		case age <= child && g == household.Male:
			given = boyNames
		case age <= child:
			given = girlNames
		case age == elder && g == household.Male:
			given = elderMaleNames
		case age == elder:
			given = elderFemaleNames
		case g == household.Male:
			given = maleNames
		default:
			given = femaleNames
		}
		n := surname + pick(r, given)
		if !used[n] {
			used[n] = true
			return n
		}
		surname = pick(r, surnames)
	}
}

func profile(r *rand.Rand, born int, age ageGroup, lunarLikely bool) *archive.ProfileInput {
	p := &archive.ProfileInput{}
	b := &archive.Birthday{Calendar: archive.Solar, Month: 1 + r.IntN(12), Day: 1 + r.IntN(28)}
	lunarPct := 25
	if lunarLikely {
		lunarPct = 70
	}
	if age >= adult && r.IntN(100) < lunarPct {
		b.Calendar = archive.Lunar
	}
	if age <= child || r.IntN(100) < 60 {
		b.Year = ptr(born)
	}
	p.Birthday = b
	if age <= child {
		if age == child {
			p.Hobbies = &[]string{pick(r, childHobbies)}
		}
		return p
	}
	hobbies := []string{}
	for range 1 + r.IntN(3) {
		if h := pick(r, hobbyList); !contains(hobbies, h) {
			hobbies = append(hobbies, h)
		}
	}
	p.Hobbies = &hobbies
	switch {
	case age == elder:
		p.Occupation = ptr(pick(r, retiredJobs))
		p.ContactHours = ptr(pick(r, []string{"上午 9:00-11:00", "下午 15:00-17:00"}))
	default:
		p.Occupation = ptr(pick(r, jobs))
		p.ContactHours = ptr(pick(r, contactHours))
	}
	return p
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func ptr[T any](v T) *T { return &v }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var (
	surnames = []string{
		"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
		"何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
		"肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "杜", "叶", "程", "魏", "苏", "吕", "丁", "沈",
		"姚", "钟", "姜", "崔", "陆", "范", "金", "夏", "方", "顾", "欧阳", "司马",
	}
	maleNames = []string{
		"伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "建华", "志强", "志明", "海涛",
		"俊杰", "晓东", "文博", "立新", "振华", "国平", "永刚", "卫东", "鹏飞", "浩", "宏伟", "家豪",
	}
	femaleNames = []string{
		"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "丽华", "婷婷", "雪梅", "晓燕", "美玲", "红梅",
		"慧", "琳", "颖", "佳", "海燕", "晓红", "春燕", "玉婷", "文静", "秋月",
	}
	elderMaleNames   = []string{"德福", "国栋", "建国", "福根", "长生", "宝山", "有才", "守义", "金水", "庆丰"}
	elderFemaleNames = []string{"秀英", "桂兰", "玉兰", "淑珍", "凤英", "秀兰", "桂英", "翠花", "素芬", "月娥"}
	boyNames         = []string{"子轩", "浩宇", "宇轩", "沐阳", "一鸣", "梓豪", "俊熙", "睿泽", "嘉懿", "天佑"}
	girlNames        = []string{"梓涵", "一诺", "欣怡", "雨桐", "思琪", "梓萱", "可馨", "语嫣", "若汐", "诗涵"}

	hobbyList = []string{
		"太极拳", "广场舞", "书法", "下象棋", "钓鱼", "养花", "京剧", "摄影", "跑步", "羽毛球",
		"烘焙", "阅读", "旅游", "乒乓球", "合唱", "编织", "茶艺", "围棋",
	}
	childHobbies = []string{"画画", "钢琴", "乐高", "跳绳", "轮滑", "足球"}
	jobs         = []string{"教师", "医生", "护士", "软件工程师", "会计", "公务员", "个体经营", "销售经理", "律师", "设计师", "司机", "厨师", "银行职员", "自由职业"}
	retiredJobs  = []string{"退休教师", "退休工人", "退休干部", "退休医生", "退休会计"}
	contactHours = []string{"工作日 18:00-21:00", "周末全天", "中午 12:00-13:00", "晚上 19:00 以后", "工作日 9:00-17:00"}

	chronicNotes = []string{
		"高血压，每日服药，家中备有血压计。",
		"糖尿病，需定时注射胰岛素。",
		"冠心病，随身携带速效救心丸。",
	}
	hardshipNotes = []string{
		"家庭主要收入来源失业，正在申请低保。",
		"家中有重病患者，医疗支出较大。",
	}
	preferences = []string{
		"上门前请先电话联系",
		"家中养狗，上门时请提前告知",
		"业主常年在外，紧急情况请联系家属",
	}
)
