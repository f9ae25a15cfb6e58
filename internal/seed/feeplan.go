package seed

import (
	"math/rand/v2"
	"time"

	"qinqing/internal/community"
	"qinqing/internal/dunning"
	"qinqing/internal/payment"
)

// The fee year is planned like the households: from the plan index alone,
// so every run plans the same payments, relief and reminder steps. Periods
// are indexes into the window of 12 months, 11 being the current month,
// whose bills are issued at the end of the replay and not yet due.

const (
	feeSeed = 0x5eed_fee5
	// lastPaid is the last period the replay collects for: the current
	// period's bills are issued as it ends.
	lastPaid = 10
	// rateChange is the first period of the management fee's second version.
	rateChange = 6
)

// buildingTypes sets each planned building's type, which sets its
// management fee rate.
var buildingTypes = [][]community.BuildingType{
	{community.HighRise, community.HighRise, community.HighRise, community.MultiStorey, community.MultiStorey},
	{community.HighRise, community.HighRise, community.MultiStorey, community.Villa},
}

// Management fee per m² per month by building type, in fen: the first
// version, and the second from rateChange on.
var mgmtRates = [2]map[string]int64{
	{string(community.HighRise): 220, string(community.MultiStorey): 280, string(community.Villa): 350},
	{string(community.HighRise): 230, string(community.MultiStorey): 295, string(community.Villa): 365},
}

const (
	parkingRate = 15000 // 150 元 per space per month
	waterPrice  = 450   // fen per m³
	powerPrice  = 80    // fen per kWh
)

// rung is where a household's arrears have reached on the ladder.
type rung int

const (
	awaitCall     rung = iota // second notice sent, the butler's call is owed
	callPromised              // promised to pay by a date still ahead
	callDispute               // disputes the service: held
	callHardship              // hardship found on the call: held
	promiseKept               // promised, paid on the day, the case closed
	written                   // written notice after a call nobody answered
	legalAsked                // lawyer's letter requested, awaiting the supervisor
	legalApproved             // lawyer's letter approved
)

// ladderRole puts household k of community c in arrears from period from
// and walks it up the ladder to last. Chosen among households with no care
// flag, no complaint and no relief (k 5, 7 and 13 have a newborn, an elder
// living alone and hardship; the demo complaints go to k 20 and 21), and
// within the first 14 of each community so a small demo has every step.
type ladderRole struct {
	c, k, from int
	last       rung
}

var ladderRoles = []ladderRole{
	{0, 3, 9, awaitCall}, {1, 6, 8, callPromised}, {0, 11, 8, callDispute}, {1, 2, 4, promiseKept},
	{0, 8, 7, callHardship}, {1, 9, 6, written}, {0, 1, 5, legalAsked}, {1, 12, 3, legalApproved},
}

// habit is how a household pays.
type habit int

const (
	onTime   habit = iota
	late           // pays every other month, the older bill late
	partly         // pays only part of its last bills
	arrears        // stopped paying some months ago
	relieved       // in hardship, granted relief
	ladder         // in arrears and chased up the ladder (ladderRoles)
)

// payPlan is one payment: when, for which periods, all or part, how.
type payPlan struct {
	at      time.Time
	periods []int
	part    bool
	method  payment.Method
}

// reliefPlan is relief granted to a household in hardship.
type reliefPlan struct {
	grantAt  int // period in which it is granted (the 5th of the month)
	from, to int
	items    []string // fee item codes; none: every item
	percent  int
	reason   string
}

// reliefFor is the relief of the j-th household in hardship of community
// c: one of them waives everything.
func reliefFor(c, j int) reliefPlan {
	switch {
	case j == 0 && c == 0:
		return reliefPlan{grantAt: 4, from: 4, to: 9, items: []string{"MGMT"}, percent: 50, reason: "家庭困难（业主失业），经走访核实，物业管理费减半六个月"}
	case j == 0:
		return reliefPlan{grantAt: 6, from: 6, to: 11, percent: 100, reason: "家中重病，经走访核实并报经理批准，全额减免半年物业费用"}
	case j == 1:
		return reliefPlan{grantAt: 7, from: 7, to: 10, percent: 30, reason: "低保家庭，各项费用减免三成"}
	default:
		return reliefPlan{grantAt: 2, from: 2, to: 7, items: []string{"MGMT"}, percent: 50, reason: "家庭困难，物业管理费减半"}
	}
}

// householdFees is the fee plan of one household.
type householdFees struct {
	habit    habit
	role     ladderRole
	relief   *reliefPlan
	space    bool // holds a parking space
	payments []payPlan
}

// ladderTimes are the moments of a ladder household's steps: the reminder
// goes with the first run from the 16th of the month after the first unpaid
// bill's (due on its month's last day; the grace is 15 days), the second
// notice with the run a week (the interval) later, then each staff step a
// week and an hour or two after the last.
type ladderTimes struct{ reminder, second, call, written, legal, decide time.Time }

func ladderAt(w *feeWindow, from int) ladderTimes {
	var t ladderTimes
	t.reminder = w.firstTick(w.start[from+1].AddDate(0, 0, 15))
	t.second = w.firstTick(t.reminder.AddDate(0, 0, 7))
	t.call = t.second.AddDate(0, 0, 7).Add(2 * time.Hour)
	t.written = t.call.AddDate(0, 0, 7).Add(time.Hour)
	t.legal = t.written.AddDate(0, 0, 7).Add(time.Hour)
	t.decide = t.legal.AddDate(0, 0, 2)
	return t
}

// promiseDate is the date (local midnight) a ladder household promised on
// its call.
func promiseDate(w *feeWindow, role ladderRole) time.Time {
	if role.last == promiseKept {
		c := ladderAt(w, role.from).call.AddDate(0, 0, 10)
		return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, w.loc)
	}
	return w.start[11].AddDate(0, 0, 9) // the 10th of this month: still ahead
}

// planFees plans household i (k-th of community c) over window w.
func planFees(i, c, k int, w *feeWindow) *householdFees {
	r := rand.New(rand.NewPCG(feeSeed, uint64(i)))
	hf := &householdFees{space: r.IntN(100) < 30}
	x := r.IntN(100)
	pref := payment.Cash
	switch y := r.IntN(100); {
	case y >= 70:
		pref = payment.BankTransfer
	case y >= 40:
		pref = payment.Card
	}
	for _, lr := range ladderRoles {
		if lr.c == c && lr.k == k {
			hf.habit, hf.role = ladder, lr
		}
	}
	switch {
	case hf.habit == ladder:
	case k%30 == 13:
		hf.habit = relieved
		rp := reliefFor(c, k/30)
		hf.relief = &rp
	case x < 3:
		hf.habit = arrears
	case x < 5 || (c == 0 && k == 10): // one in every demo, however small
		hf.habit = partly
	case x < 17:
		hf.habit = late
	}
	stop := lastPaid + 1
	switch hf.habit {
	case arrears:
		stop = 8 + r.IntN(3)
	case ladder:
		stop = hf.role.from
	}
	method := func() payment.Method {
		if r.IntN(100) < 15 {
			return []payment.Method{payment.Cash, payment.Card, payment.BankTransfer}[r.IntN(3)]
		}
		return pref
	}
	for p := 0; p < stop; {
		// Late payers pay two bills at once, the older a month late, paired
		// so the last pair ends with the last bill due.
		if p < lastPaid && ((hf.habit == late && (lastPaid-p)%2 == 1) || (hf.habit == onTime && r.IntN(100) < 5)) {
			hf.payments = append(hf.payments, payPlan{at: w.day(p+1, 3+r.IntN(25), r), periods: []int{p, p + 1}, method: method()})
			p += 2
			continue
		}
		first := 2
		if hf.habit == relieved {
			first = 8 // after the relief of the month is granted
		}
		hf.payments = append(hf.payments, payPlan{at: w.day(p, first+r.IntN(28-first), r), periods: []int{p},
			part: hf.habit == partly && p >= 8, method: method()})
		p++
	}
	if hf.habit == ladder && hf.role.last == promiseKept {
		// Pays everything on the promised day, then on time again.
		d := promiseDate(w, hf.role)
		upTo := w.periodOf(d)
		var ps []int
		for p := hf.role.from; p <= upTo; p++ {
			ps = append(ps, p)
		}
		hf.payments = append(hf.payments, payPlan{at: d.Add(14 * time.Hour), periods: ps, method: method()})
		for p := upTo + 1; p <= lastPaid; p++ {
			hf.payments = append(hf.payments, payPlan{at: w.day(p, 2+r.IntN(26), r), periods: []int{p}, method: method()})
		}
	}
	return hf
}

// rungText describes where a ladder household stands, for the result.
var rungText = map[rung]string{
	awaitCall:     "欠费：已发友好提醒和再次通知，待管家电话催缴",
	callPromised:  "欠费：电话催缴，业主承诺缴费",
	callDispute:   "欠费：电话催缴，业主有异议，暂缓催缴",
	callHardship:  "欠费：电话催缴发现家庭困难，暂缓催缴",
	promiseKept:   "曾欠费：承诺后按期缴清，催缴已结束",
	written:       "欠费：已发书面催缴通知书",
	legalAsked:    "欠费：已申请律师函，待主管审批",
	legalApproved: "欠费：律师函已批准",
}

// ladderNotes are what staff wrote on each step.
var ladderNotes = map[rung]string{
	callPromised:  "业主出差在外，承诺回来后一次缴清",
	callDispute:   "业主认为地库漏水长期未修好，对物业服务有异议，暂不缴费",
	callHardship:  "业主近期失业，家庭困难，已建议申请物业费减免",
	promiseKept:   "业主表示近期资金周转困难，承诺十天内缴清",
	written:       "多次电话无人接听，上门未遇",
	legalAsked:    "业主明确表示拒绝缴费",
	legalApproved: "业主明确表示拒绝缴费",
}

// callOutcome is what the call of a ladder household found.
func callOutcome(last rung) dunning.Outcome {
	switch last {
	case callPromised, promiseKept:
		return dunning.Promised
	case callDispute:
		return dunning.Dispute
	case callHardship:
		return dunning.HardshipFound
	case written:
		return dunning.NoContact
	}
	return dunning.Refused
}
