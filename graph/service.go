package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/catalog"
	"qinqing/internal/platform/page"
	"qinqing/internal/serviceorder"
)

// serviceOrderStatuses is the order the counts are shown in.
var serviceOrderStatuses = serviceorder.Statuses

func serviceOrderConnection(pg page.Page[*serviceorder.Order]) *model.ServiceOrderConnection {
	return &model.ServiceOrderConnection{
		Edges: edges(pg, func(cur string, n *serviceorder.Order) *model.ServiceOrderEdge {
			return &model.ServiceOrderEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

func itemInput(in model.ServiceItemInput) catalog.ItemInput {
	out := catalog.ItemInput{ID: deref(in.ID), CommunityID: in.CommunityID, Name: in.Name, Category: in.Category,
		Description: deref(in.Description), PriceFen: int64(in.PriceFen), Unit: in.Unit, Free: in.Free}
	for _, w := range in.Windows {
		if w != nil {
			out.Windows = append(out.Windows, catalog.Window{Weekdays: w.Weekdays, From: w.From, To: w.To})
		}
	}
	return out
}

func slotInput(in *model.ServiceSlotInput) *serviceorder.SlotInput {
	if in == nil {
		return nil
	}
	return &serviceorder.SlotInput{Date: in.Date, From: in.From, To: in.To}
}

func flag(b *bool) bool { return b != nil && *b }

func laundryItems(in []*model.LaundryItemInput) []serviceorder.LaundryItem {
	out := make([]serviceorder.LaundryItem, 0, len(in))
	for _, it := range in {
		if it != nil {
			out = append(out, serviceorder.LaundryItem{Type: it.Type, Count: it.Count, Condition: serviceorder.Condition{
				Stains: flag(it.Stains), Damage: flag(it.Damage), MissingButtons: flag(it.MissingButtons), Note: deref(it.Note)}})
		}
	}
	return out
}

func laundryReturns(in []*model.LaundryReturnInput) []serviceorder.Return {
	out := make([]serviceorder.Return, 0, len(in))
	for _, r := range in {
		if r != nil {
			out = append(out, serviceorder.Return{Index: r.Index, ReturnedCount: r.ReturnedCount, Condition: serviceorder.Condition{
				Stains: flag(r.Stains), Damage: flag(r.Damage), MissingButtons: flag(r.MissingButtons), Note: deref(r.Note)}})
		}
	}
	return out
}
