package app

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/dunning"
	"qinqing/internal/fee"
	"qinqing/internal/platform/auth"
)

// The fee domain's wiring: the reminder ladder reads arrears from the bills
// and holds households back by their open complaints.

// feeArrears reads the bills' arrears for the reminder ladder.
type feeArrears struct{ fees *fee.Service }

func (a feeArrears) OverdueIn(ctx context.Context, communityID, today string) ([]dunning.Owing, error) {
	os, err := a.fees.OverdueIn(ctx, communityID, today)
	if err != nil {
		return nil, err
	}
	out := make([]dunning.Owing, len(os))
	for i, o := range os {
		out[i] = dunning.Owing{HouseholdID: o.HouseholdID, CommunityID: communityID, BuildingID: o.BuildingID, Fen: o.Fen, OldestDue: o.OldestDue}
	}
	return out, nil
}

// complaintHolds holds back households with a named complaint still open.
type complaintHolds struct{ complaints *complaint.Service }

func (h complaintHolds) Held(ctx context.Context, ids []string, _ string) (map[string]string, error) {
	open, err := h.complaints.OpenNamed(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(open))
	for id := range open {
		out[id] = dunning.HoldDispute
	}
	return out, nil
}

// reliefHolds holds back households with relief for the current or the
// previous period.
type reliefHolds struct{ fees *fee.Service }

func (h reliefHolds) Held(ctx context.Context, ids []string, today string) (map[string]string, error) {
	held, err := h.fees.ReliefHeld(ctx, ids, today)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(held))
	for id := range held {
		out[id] = dunning.HoldRelief
	}
	return out, nil
}

// communityIDs lists every community for the jobs that run per community.
type communityIDs struct{ communities *community.Service }

var jobsCaller = &access.Caller{Kind: auth.KindStaff, ID: "system:jobs", Roles: []access.Role{access.Admin}}

func (c communityIDs) IDs(ctx context.Context) ([]string, error) {
	cs, err := c.communities.List(ctx, jobsCaller)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(cs))
	for i, x := range cs {
		ids[i] = x.ID
	}
	return ids, nil
}
