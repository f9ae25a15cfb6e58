package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/dunning"
	"qinqing/internal/fee"
	"qinqing/internal/payment"
)

// ensureFees replays each community's fee year through the fee services,
// moving the clock they were built with from event to event: the schedule
// and its rate change, meter readings and bills each month, payments at
// the counter, relief, the daily reminder run and the staff's steps up the
// ladder, and the published statements. WeChat Pay payments are not
// among them: an order only exists once WeChat Pay's server has taken it
// (CreateWechat prepays before anything settles), and the seed has no such
// server to ask, so the demo's payments are the counter's.
func (s *seeder) ensureFees(ctx context.Context) error {
	d := s.d
	if d.Fees == nil || d.Payments == nil || d.Dunning == nil || d.Finance == nil || d.Clock == nil {
		return nil
	}
	defer d.Clock.release()
	for ci, com := range s.communities {
		f, err := s.newFeeRun(ctx, ci)
		if err != nil {
			return fmt.Errorf("%s: %w", com.Name, err)
		}
		if err := f.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", com.Name, err)
		}
	}
	return nil
}

type feeEvent struct {
	at  time.Time
	run func(context.Context) error
}

// feeRun is one community's fee year.
type feeRun struct {
	s                    *seeder
	ci                   int
	sup, fin, desk       *access.Caller
	w                    *feeWindow
	hs                   []int // plan indexes of the community's households
	plans                map[int]*householdFees
	items                map[string]*fee.ScheduledItem // by code
	bills                map[string]*fee.Bill          // as they stand, kept up to date as the replay pays them
	events               []feeEvent
	resumed              bool      // an earlier run stopped part way
	waterUse, powerUse   [12]int64 // hundredths of m³ / kWh per period
	waterBase, powerBase int64
}

func (s *seeder) newFeeRun(ctx context.Context, ci int) (*feeRun, error) {
	com := s.communities[ci]
	f := &feeRun{s: s, ci: ci, sup: callerOf(s.supervisors[ci]), fin: s.staffWithRole(com.ID, access.Finance),
		desk: s.staffWithRole(com.ID, access.CustomerService), plans: map[int]*householdFees{}, items: map[string]*fee.ScheduledItem{},
		bills: map[string]*fee.Bill{}}
	if f.fin == nil || f.desk == nil {
		return nil, errors.New("no finance clerk or front desk")
	}
	_, items, err := s.d.Fees.Schedule(ctx, f.sup, com.ID, "")
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		f.items[it.Item.Code] = it
	}
	loc := com.Location()
	if m := f.items["MGMT"]; m != nil {
		first, err := time.ParseInLocation("2006-01", m.History[len(m.History)-1].EffectiveFrom, loc)
		if err != nil {
			return nil, err
		}
		f.w = newWindow(first)
	} else {
		f.w = windowEndingAt(s.now, loc)
	}
	for i, p := range s.plans {
		if p.Community == ci {
			f.hs = append(f.hs, i)
			f.plans[i] = planFees(i, ci, i/len(communityPlans), f.w)
		}
	}
	var ids []string
	for _, i := range f.hs {
		for _, p := range f.w.periods {
			ids = append(ids, fee.BillID(com.ID, s.households[i].ID, p))
		}
	}
	if err := f.load(ctx, ids); err != nil {
		return nil, err
	}
	f.resumed = len(f.bills) > 0
	r := rand.New(rand.NewPCG(feeSeed, uint64(1_000_000+ci)))
	n := int64(len(f.hs))
	f.waterBase, f.powerBase = 1_000_000+r.Int64N(500_000), 5_000_000+r.Int64N(1_000_000)
	for p := range 12 {
		// About 1.5 m³ of water and 25 kWh per household a month for the
		// lifts, lights, pumps and cleaning of the public areas.
		f.waterUse[p] = n*150 + r.Int64N(n*30+1)
		f.powerUse[p] = n*2500 + r.Int64N(n*400+1)
	}
	return f, nil
}

// load reads bills by id into f.bills, 500 at a time.
func (f *feeRun) load(ctx context.Context, ids []string) error {
	for c := range slices.Chunk(ids, batch) {
		m, err := f.s.d.Fees.BillsByIDs(ctx, c)
		if err != nil {
			return err
		}
		for id, b := range m {
			f.bills[id] = b
		}
	}
	return nil
}

func (f *feeRun) add(at time.Time, run func(context.Context) error) {
	f.events = append(f.events, feeEvent{at: at, run: run})
}

// run plans the year's events and replays them in order, unless the
// current period is billed already: the replay ends with that, so the year
// is complete.
func (f *feeRun) run(ctx context.Context) error {
	com := f.s.communities[f.ci]
	complete := false
	for _, i := range f.hs {
		complete = complete || f.bills[fee.BillID(com.ID, f.s.households[i].ID, f.w.periods[11])] != nil
	}
	if !complete {
		f.plan()
		slices.SortStableFunc(f.events, func(a, b feeEvent) int { return a.at.Compare(b.at) })
		for _, e := range f.events {
			if e.at.After(f.w.horizon) {
				continue
			}
			f.s.d.Clock.set(e.at)
			if err := e.run(ctx); err != nil {
				return fmt.Errorf("%s: %w", e.at.In(f.w.loc).Format("2006-01-02 15:04"), err)
			}
		}
		f.s.d.Clock.release()
	}
	f.count()
	return nil
}

// plan lists the events of the year.
func (f *feeRun) plan() {
	w := f.w
	f.add(w.start[0].AddDate(0, 0, -10).Add(10*time.Hour), f.ensureSchedule)
	f.add(w.start[0].AddDate(0, 0, -7).Add(10*time.Hour), f.ensureSpaces)
	f.add(w.start[5].AddDate(0, 0, 9).Add(10*time.Hour), f.ensureRateChange)
	for p := range 12 {
		f.add(w.start[p].AddDate(0, 0, -1).Add(16*time.Hour), func(ctx context.Context) error { return f.readings(ctx, p) })
		f.add(w.start[p].Add(8*time.Hour+30*time.Minute), func(ctx context.Context) error { return f.generate(ctx, p) })
	}
	for t := w.start[1].Add(tickHour); t.Before(w.start[11]); t = t.AddDate(0, 0, tickDays) {
		f.add(t, func(ctx context.Context) error { return f.s.d.Dunning.Tick(ctx, f.s.communities[f.ci].ID) })
	}
	for _, i := range f.hs {
		hf := f.plans[i]
		for _, pp := range hf.payments {
			f.add(pp.at, func(ctx context.Context) error { return f.pay(ctx, i, pp) })
		}
		if rp := hf.relief; rp != nil {
			f.add(w.start[rp.grantAt].AddDate(0, 0, 4).Add(15*time.Hour), func(ctx context.Context) error { return f.grant(ctx, i, rp) })
		}
		if hf.habit == ladder {
			f.planLadder(i, hf.role)
		}
	}
	f.planStatements()
}

func (f *feeRun) planLadder(i int, role ladderRole) {
	t := ladderAt(f.w, role.from)
	hid := f.s.households[i].ID
	p := f.s.plans[i]
	butler := callerOf(f.s.butlers[p.Community][min(p.Building/butler1Buildings, 1)])
	if role.last == awaitCall {
		return
	}
	call := dunning.StepInput{Step: dunning.StepCall, Outcome: callOutcome(role.last), Note: ladderNotes[role.last]}
	if call.Outcome == dunning.Promised {
		call.PromisedDate = promiseDate(f.w, role).Format(time.DateOnly)
	}
	f.add(t.call, func(ctx context.Context) error { return f.step(ctx, butler, hid, call) })
	if role.last < written {
		return
	}
	f.add(t.written, func(ctx context.Context) error {
		return f.step(ctx, f.fin, hid, dunning.StepInput{Step: dunning.StepWrittenNotice, Note: "书面催缴通知书已送达并张贴"})
	})
	if role.last < legalAsked {
		return
	}
	f.add(t.legal, func(ctx context.Context) error {
		return f.step(ctx, f.fin, hid, dunning.StepInput{Step: dunning.StepLegalLetter, Note: "欠费数月，经电话、书面催缴仍拒不缴纳，申请发送律师函"})
	})
	if role.last < legalApproved {
		return
	}
	f.add(t.decide, func(ctx context.Context) error {
		_, err := f.s.d.Dunning.DecideLegal(ctx, f.sup, hid, true, "已核实催缴记录，同意委托律师事务所发函")
		if err != nil && f.resumed && errors.Is(err, dunning.ErrOutOfTurn) {
			return nil // decided by the earlier run
		}
		return err
	})
}

// step records a staff step; on a resumed run one already taken is out of
// turn, and left as it is.
func (f *feeRun) step(ctx context.Context, c *access.Caller, householdID string, in dunning.StepInput) error {
	_, err := f.s.d.Dunning.RecordStep(ctx, c, householdID, in)
	if err != nil && f.resumed && errors.Is(err, dunning.ErrOutOfTurn) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", in.Step, householdID, err)
	}
	return nil
}

// pay records one planned payment at the counter: cash and card by the
// front desk, bank transfers entered by the finance clerk. A payment an
// earlier run recorded is known by its allocation's time.
func (f *feeRun) pay(ctx context.Context, i int, pp payPlan) error {
	com, h := f.s.communities[f.ci], f.s.households[i]
	var ids []string
	var owed int64
	for _, p := range pp.periods {
		b := f.bills[fee.BillID(com.ID, h.ID, f.w.periods[p])]
		if b == nil {
			continue
		}
		for _, a := range b.Allocations {
			if a.At.Equal(pp.at) {
				return nil
			}
		}
		if o := b.Outstanding(); o > 0 {
			ids = append(ids, b.ID)
			owed += o
		}
	}
	if owed == 0 {
		return nil // waived
	}
	amount := owed
	if pp.part && owed > 200 {
		amount = owed / 2 / 100 * 100 // a round sum on account
	}
	c, ref := f.desk, ""
	switch pp.method {
	case payment.Card:
		ref = fmt.Sprintf("POS%s%04d", pp.at.In(f.w.loc).Format("060102"), i%10000)
	case payment.BankTransfer:
		c, ref = f.fin, fmt.Sprintf("ZH%s%06d", pp.at.In(f.w.loc).Format("20060102"), (i*7919)%1_000_000)
	}
	at := pp.at
	p, err := f.s.d.Payments.Record(ctx, c, payment.RecordInput{HouseholdID: h.ID, Method: pp.method, Amount: amount, BillIDs: ids, Reference: ref, PaidAt: &at})
	if err != nil {
		return fmt.Errorf("%s pays %s: %w", h.Label, fee.Yuan(amount), err)
	}
	for _, a := range p.Allocations {
		if b := f.bills[a.BillID]; b != nil {
			b.Paid += a.Amount
			b.Allocations = append(b.Allocations, fee.Allocation{PaymentID: p.ID, Amount: a.Amount, At: at})
			b.Status = fee.StatusFor(b.Amount, b.Relieved, b.Paid)
		}
	}
	return nil
}

// grant grants a household's relief as the supervisor; granted by an
// earlier run, its first bill shows it.
func (f *feeRun) grant(ctx context.Context, i int, rp *reliefPlan) error {
	com, h := f.s.communities[f.ci], f.s.households[i]
	if b := f.bills[fee.BillID(com.ID, h.ID, f.w.periods[rp.from])]; b != nil && b.Relieved > 0 {
		return nil
	}
	_, err := f.s.d.Fees.GrantRelief(ctx, f.sup, fee.ReliefInput{HouseholdID: h.ID, FromPeriod: f.w.periods[rp.from], ToPeriod: f.w.periods[rp.to],
		ItemCodes: rp.items, Percent: rp.percent, Reason: rp.reason})
	if err != nil {
		return fmt.Errorf("relief for %s: %w", h.Label, err)
	}
	var ids []string
	for _, p := range f.w.periods {
		ids = append(ids, fee.BillID(com.ID, h.ID, p))
	}
	return f.load(ctx, ids)
}

// count describes the community's fee year in the result.
func (f *feeRun) count() {
	c := f.s.counts
	payments := map[string]bool{}
	for _, b := range f.bills {
		c["bills"]++
		for _, a := range b.Allocations {
			payments[a.PaymentID] = true
		}
		if b.Relieved > 0 {
			c["billsRelieved"]++
		}
	}
	c["payments"] += len(payments)
	for _, it := range f.items {
		c["feeItemVersions"] += len(it.History)
	}
	for _, i := range f.hs {
		hf := f.plans[i]
		if hf.space {
			c["parkingSpaces"]++
		}
		situation := ""
		if hf.relief != nil {
			c["feeReliefs"]++
			situation = fmt.Sprintf("减免 %d%%（%s 至 %s）", hf.relief.percent, f.w.periods[hf.relief.from], f.w.periods[hf.relief.to])
		}
		if hf.habit == ladder {
			c["arrearsOnLadder"]++
			situation = rungText[hf.role.last]
		}
		if situation != "" {
			p, h := f.s.plans[i], f.s.households[i]
			o := p.Members[0]
			f.s.feeCases = append(f.s.feeCases, SeedFeeCase{Situation: situation, SeedOwner: SeedOwner{Phone: o.Phone, Name: o.Name,
				HouseholdID: h.ID, Label: f.s.communities[f.ci].Name + " " + h.Label}})
		}
	}
	c["financeStatements"] += len(statementPlans)
}
