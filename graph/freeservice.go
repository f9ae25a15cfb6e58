package graph

import (
	"context"
	"errors"

	"qinqing/graph/model"
	"qinqing/internal/community"
	"qinqing/internal/freeservice"
)

func campaignInput(in model.CreateServiceCampaignInput) freeservice.CreateInput {
	out := freeservice.CreateInput{
		CommunityID: in.CommunityID, Title: in.Title, Description: deref(in.Description), BuildingIDs: in.BuildingIds,
		IntervalMonths: in.IntervalMonths, CloseTime: deref(in.BookingCloseTime),
	}
	if in.Cycles != nil {
		out.Cycles = *in.Cycles
	}
	for _, d := range in.VisitDays {
		day := freeservice.Day{Date: d.Date}
		for _, sl := range d.Slots {
			day.Slots = append(day.Slots, freeservice.SlotSpec{Start: sl.Start, End: sl.End, Capacity: sl.Capacity})
		}
		out.Days = append(out.Days, day)
	}
	return out
}

func visitInput(in model.RecordCampaignVisitInput) freeservice.RecordInput {
	out := freeservice.RecordInput{
		CampaignID: in.CampaignID, HouseholdID: in.HouseholdID, Result: in.Result, Note: deref(in.Description), Photos: uploads(in.Photos),
	}
	if in.Cycle != nil {
		out.Cycle = *in.Cycle
	}
	if in.RepairCategory != nil {
		out.RepairCategory = *in.RepairCategory
	}
	if in.Urgency != nil {
		out.Urgency = *in.Urgency
	}
	return out
}

func coverageModel(cov *freeservice.Coverage) *model.CampaignCoverage {
	out := &model.CampaignCoverage{
		Campaign: cov.Campaign, Cycle: cov.Cycle, TotalCount: cov.Total,
		Edges: edges(cov.Page, func(cur string, n *freeservice.CoverageEntry) *model.CampaignCoverageEdge {
			return &model.CampaignCoverageEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(cov.Page),
	}
	for _, st := range freeservice.CoverageStatuses {
		out.Counts = append(out.Counts, &model.CampaignCoverageCount{Status: st, Count: cov.Counts[st]})
	}
	return out
}

// campaignBuildings loads a campaign's buildings in one batch (thunks
// first, then waits, so they share a round); a building since removed is
// left out.
func campaignBuildings(ctx context.Context, ids []string) ([]*community.Building, error) {
	thunks := make([]func() (*community.Building, error), len(ids))
	for i, id := range ids {
		thunks[i] = loaders(ctx).Building.LoadThunk(ctx, id)
	}
	out := []*community.Building{}
	for _, th := range thunks {
		b, err := th()
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
