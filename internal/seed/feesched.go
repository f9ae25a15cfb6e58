package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"qinqing/internal/fee"
	"qinqing/internal/finance"
)

// itemPlans are each community's fee items as first published.
var itemPlans = []fee.ItemInput{
	{Code: "MGMT", Kind: fee.Management, Name: "物业管理费", NameEN: "Property management fee", Rate: mgmtRates[0]["HIGH_RISE"], RatesByBuildingType: mgmtRates[0]},
	{Code: "PARK", Kind: fee.Parking, Name: "车位管理费", NameEN: "Parking space fee", Rate: parkingRate},
	{Code: "WATER", Kind: fee.SharedWater, Name: "公摊水费", NameEN: "Shared water", Apportion: fee.ByArea},
	{Code: "POWER", Kind: fee.SharedElectricity, Name: "公摊电费", NameEN: "Shared electricity", Apportion: fee.Equally},
}

// ensureSchedule types the buildings and publishes the fee items missing,
// as the supervisor, effective from the window's first period.
func (f *feeRun) ensureSchedule(ctx context.Context) error {
	for bi, b := range f.s.buildings[f.ci] {
		if t := buildingTypes[f.ci][bi]; b.Type != t {
			nb, err := f.s.d.Communities.SetBuildingType(ctx, f.s.admin, b.ID, t)
			if err != nil {
				return err
			}
			f.s.buildings[f.ci][bi] = nb
		}
	}
	for _, in := range itemPlans {
		if f.items[in.Code] != nil {
			continue
		}
		in.EffectiveFrom = f.w.periods[0]
		it, err := f.s.d.Fees.UpsertItem(ctx, f.sup, f.s.communities[f.ci].ID, in)
		if err != nil {
			return fmt.Errorf("fee item %s: %w", in.Code, err)
		}
		f.items[in.Code] = &fee.ScheduledItem{Item: it, History: []*fee.Item{it}}
	}
	return nil
}

// ensureRateChange raises the management fee from rateChange on, as the
// owners' assembly voted: the schedule's history shows both versions.
func (f *feeRun) ensureRateChange(ctx context.Context) error {
	m := f.items["MGMT"]
	if m == nil || len(m.History) > 1 {
		return nil
	}
	in := itemPlans[0]
	v := m.Item.Version
	in.ItemID, in.BaseVersion = m.Item.ItemID, &v
	in.Rate, in.RatesByBuildingType = mgmtRates[1]["HIGH_RISE"], mgmtRates[1]
	in.EffectiveFrom = f.w.periods[rateChange]
	in.Note = "经业主大会表决通过，自" + f.w.start[rateChange].Format("2006年1月") + "起每平方米每月上调 0.10 至 0.15 元"
	it, err := f.s.d.Fees.UpsertItem(ctx, f.sup, f.s.communities[f.ci].ID, in)
	if err != nil {
		return fmt.Errorf("management fee rate change: %w", err)
	}
	f.items["MGMT"] = &fee.ScheduledItem{Item: it, History: append([]*fee.Item{it}, m.History...)}
	return nil
}

// ensureSpaces assigns the underground spaces (B1-001...) to the
// households that rent one; assigning a space its holder has changes nothing.
func (f *feeRun) ensureSpaces(ctx context.Context) error {
	n := 0
	for _, i := range f.hs {
		if !f.plans[i].space {
			continue
		}
		n++
		if _, err := f.s.d.Fees.AssignSpace(ctx, f.sup, f.s.communities[f.ci].ID, fmt.Sprintf("B1-%03d", n), f.s.households[i].ID); err != nil {
			return fmt.Errorf("parking space B1-%03d: %w", n, err)
		}
	}
	return nil
}

// readings enters the community meters' readings for period p on the eve
// of its billing; a period billed by an earlier run keeps its readings.
func (f *feeRun) readings(ctx context.Context, p int) error {
	water, power := f.waterBase, f.powerBase
	for q := range p {
		water += f.waterUse[q]
		power += f.powerUse[q]
	}
	in := []fee.ReadingInput{
		{Kind: fee.SharedWater, Previous: float64(water) / 100, Current: float64(water+f.waterUse[p]) / 100, UnitPrice: waterPrice},
		{Kind: fee.SharedElectricity, Previous: float64(power) / 100, Current: float64(power+f.powerUse[p]) / 100, UnitPrice: powerPrice},
	}
	_, err := f.s.d.Fees.RecordReadings(ctx, f.fin, f.s.communities[f.ci].ID, f.w.periods[p], in)
	if errors.Is(err, fee.ErrPeriodBilled) {
		return nil
	}
	return err
}

// generate bills period p as the finance clerk, due on its last day.
func (f *feeRun) generate(ctx context.Context, p int) error {
	com := f.s.communities[f.ci]
	due := f.w.start[p+1].AddDate(0, 0, -1).Format(time.DateOnly)
	res, err := f.s.d.Fees.GenerateBills(ctx, f.fin, com.ID, f.w.periods[p], due, "")
	if err != nil {
		return err
	}
	if res.Skipped > 0 {
		return fmt.Errorf("bills of %s: %d households skipped (%s)", f.w.periods[p], res.Skipped, strings.Join(res.SkippedLabels, ", "))
	}
	ids := make([]string, len(f.hs))
	for j, i := range f.hs {
		ids[j] = fee.BillID(com.ID, f.s.households[i].ID, f.w.periods[p])
	}
	return f.load(ctx, ids)
}

// statementPlans are the statements each community publishes: the months
// before last, on the 10th of the month after, and a correction.
var statementPlans = []struct{ period, version int }{{7, 1}, {8, 1}, {9, 1}, {8, 2}}

const elevatorInspection = 360000 // fen: the correction adds the lifts' yearly inspection

func (f *feeRun) planStatements() {
	for _, sp := range statementPlans {
		at := f.w.start[sp.period+1].AddDate(0, 0, 9).Add(10 * time.Hour)
		if sp.version > 1 {
			at = f.w.start[sp.period+2].AddDate(0, 0, 19).Add(10 * time.Hour)
		}
		f.add(at, func(ctx context.Context) error { return f.publish(ctx, sp.period, sp.version) })
	}
}

// publish publishes the statement of period p as the finance clerk: the
// fees collected for the period so far by kind, the other income, and the
// expenses in the proportions of a typical residential budget.
func (f *feeRun) publish(ctx context.Context, p, version int) error {
	com := f.s.communities[f.ci]
	if _, err := f.s.d.Finance.Get(ctx, f.fin, finance.StatementID(com.ID, f.w.periods[p], version)); err == nil {
		return nil
	} else if !errors.Is(err, finance.ErrNotFound) {
		return err
	}
	var mgmt, park, shared, sharedBilled int64
	for _, i := range f.hs {
		b := f.bills[fee.BillID(com.ID, f.s.households[i].ID, f.w.periods[p])]
		if b == nil {
			continue
		}
		due := b.Amount - b.Relieved
		for _, l := range b.Lines {
			var got int64
			if due > 0 {
				got = (l.Amount - l.Relief) * b.Paid / due
			}
			switch l.Kind {
			case fee.Management:
				mgmt += got
			case fee.Parking:
				park += got
			default:
				shared += got
				sharedBilled += l.Amount
			}
		}
	}
	repairs := mgmt*7/100 + 80000
	note := func(s string) *string { return &s }
	var repairsNote, change *string
	if version > 1 {
		repairs += elevatorInspection
		repairsNote = note("含电梯年度检验费 " + fee.Yuan(elevatorInspection) + " 元")
		change = note("补记电梯年度检验费 " + fee.Yuan(elevatorInspection) + " 元（维修养护费用），原公示漏记；其余不变。")
	}
	in := finance.Input{
		Lines: []finance.LineInput{
			{Category: finance.ManagementFees, Amount: mgmt},
			{Category: finance.Parking, Amount: park},
			{Category: finance.PaidServices, Amount: 300000 + int64(p%4)*37000, Note: note("家政保洁、维修等有偿服务")},
			{Category: finance.OtherIncome, Amount: shared + 120000, Note: note("含代收公摊水电费及电梯广告收入")},
			{Category: finance.Staff, Amount: mgmt * 45 / 100},
			{Category: finance.Cleaning, Amount: mgmt * 13 / 100},
			{Category: finance.Greening, Amount: mgmt * 6 / 100},
			{Category: finance.Security, Amount: mgmt * 17 / 100},
			{Category: finance.RepairsMaintenance, Amount: repairs, Note: repairsNote},
			{Category: finance.Utilities, Amount: sharedBilled, Note: note("公共区域水电，按抄表")},
			{Category: finance.Insurance, Amount: 150000, Note: note("公众责任险")},
			{Category: finance.OtherExpense, Amount: mgmt * 2 / 100},
		},
		ChangeNote: change,
		Remarks:    note("本月收支明细如上，如有疑问请联系客户服务中心或业主委员会。"),
		Fund:       seedFund(p),
	}
	if _, err := f.s.d.Finance.Publish(ctx, f.fin, com.ID, f.w.periods[p], in); err != nil {
		return fmt.Errorf("statement %s v%d: %w", f.w.periods[p], version, err)
	}
	return nil
}

// seedFund is period p's maintenance fund (专项维修资金): deposits from
// units changing hands, bank interest, and every fourth month a draw for
// shared equipment; each month opens where the one before closed.
func seedFund(p int) *finance.FundInput {
	month := func(i int) (dep, interest, spent int64) {
		dep, interest = 1_200_000+int64(i%3)*150_000, 430_017
		if i%4 == 2 {
			spent = 8_600_000 // 电梯主板更换
		}
		return
	}
	opening := int64(523_400_000)
	for i := 0; i < p; i++ {
		d, in, sp := month(i)
		opening += d + in - sp
	}
	d, in, sp := month(p)
	note := "本期无使用"
	if sp > 0 {
		note = "本期使用：电梯主板更换（经业主大会表决同意）"
	}
	return &finance.FundInput{Opening: opening, Deposits: d, Interest: in, Spent: sp, Note: &note}
}
