package graph

import (
	"context"
	"qinqing/graph/model"
	"qinqing/internal/dunning"
	"qinqing/internal/fee"
	"qinqing/internal/platform/page"
)

// billConnection is the one place a bill page becomes a connection; totals
// is nil on myBills (an owner's own bills need no sums).
func billConnection(pg page.Page[*fee.Bill], totals *fee.Totals) *model.BillConnection {
	total := pg.Total
	if totals != nil {
		total = totals.Count
	}
	return &model.BillConnection{PageInfo: pageInfo(pg), TotalCount: total, Totals: totals,
		Edges: edges(pg, func(cur string, b *fee.Bill) *model.BillEdge { return &model.BillEdge{Cursor: cur, Node: b} })}
}

// The fee lists' bounds for the complexity estimate (see listBounds): a
// schedule has tens of items with a few versions each, a bill a line per
// item and an allocation per payment.
func init() {
	for k, v := range map[string]int{
		"FeeSchedule.items":            20,
		"FeeScheduleEntry.history":     10,
		"FeeItem.ratesByBuildingType":  4,
		"Bill.lines":                   8,
		"Bill.allocations":             5,
		"Mutation.recordMeterReadings": 50,
	} {
		listBounds[k] = v
	}
}

// lastRecord is the last step of the household's open arrears case.
func lastRecord(ctx context.Context, a *fee.Arrear) (*dunning.Record, error) {
	x, err := one(ctx, loaders(ctx).OpenDunning, a.HouseholdID)
	if x == nil || err != nil || len(x.Records) == 0 {
		return nil, err
	}
	return &x.Records[len(x.Records)-1], nil
}
