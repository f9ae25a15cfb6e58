package kpi

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/community"
	"qinqing/internal/fee"
)

// FeeSource reads the collection of billing periods (the fee domain).
type FeeSource interface {
	CollectionByBuilding(ctx context.Context, communityID string, periods []string) (map[string]*fee.PeriodCollection, error)
}

// maxFeePeriods bounds the billing periods one window reports.
const maxFeePeriods = 13

// periodsOf are the billing periods (months in the community's zone) that
// [from, to) overlaps, oldest first, at most maxFeePeriods (the latest).
func periodsOf(from, to time.Time, zone *time.Location) []string {
	f, t := from.In(zone), to.Add(-time.Nanosecond).In(zone)
	m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, zone)
	var out []string
	for !m.After(t) {
		out = append(out, m.Format("2006-01"))
		m = m.AddDate(0, 1, 0)
	}
	if len(out) > maxFeePeriods {
		out = out[len(out)-maxFeePeriods:]
	}
	return out
}

// addFees fills each window's fee collection (收缴率) from one query for
// every period of every window; without the fee source it stays empty.
func (s *Service) addFees(ctx context.Context, com *community.Community, ks []*KPIs) error {
	if s.cfg.Fees == nil {
		return nil
	}
	per := make([][]string, len(ks))
	var all []string
	seen := map[string]bool{}
	for i, k := range ks {
		per[i] = periodsOf(k.From, k.To, com.Location())
		for _, p := range per[i] {
			if !seen[p] {
				seen[p] = true
				all = append(all, p)
			}
		}
	}
	got, err := s.cfg.Fees.CollectionByBuilding(ctx, com.ID, all)
	if err != nil {
		return fmt.Errorf("fee collection: %w", err)
	}
	for i, k := range ks {
		k.FeeCollection = make([]*fee.PeriodCollection, 0, len(per[i]))
		for _, p := range per[i] {
			k.FeeCollection = append(k.FeeCollection, got[p])
		}
	}
	return nil
}

// feesZH is the weekly report's fee line: the latest billing period the
// week overlaps, as collected so far; "" without the fee source.
func feesZH(k *KPIs) string {
	if len(k.FeeCollection) == 0 {
		return ""
	}
	pc := k.FeeCollection[len(k.FeeCollection)-1]
	t := pc.Total
	return fmt.Sprintf("物业费收缴（%s）：应收%s元，实收%s元，减免%s元，欠收%s元，收缴率%s（%d户）",
		pc.Period, fee.Yuan(t.Billed), fee.Yuan(t.Collected), fee.Yuan(t.Relieved), fee.Yuan(t.Outstanding), ratePct(t.Rate()), t.Bills)
}

func feesEN(k *KPIs) string {
	if len(k.FeeCollection) == 0 {
		return ""
	}
	pc := k.FeeCollection[len(k.FeeCollection)-1]
	t := pc.Total
	return fmt.Sprintf("fees %s: billed %s, collected %s, relieved %s, outstanding %s yuan, collection rate %s (%d bills)",
		pc.Period, fee.Yuan(t.Billed), fee.Yuan(t.Collected), fee.Yuan(t.Relieved), fee.Yuan(t.Outstanding), ratePct(t.Rate()), t.Bills)
}

func ratePct(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *r*100)
}
