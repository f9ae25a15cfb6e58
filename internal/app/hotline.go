package app

import (
	"context"

	"qinqing/graph"
	"qinqing/internal/access"
	"qinqing/internal/hotline"
	"qinqing/internal/staff"
)

// newHotline builds the call log with the items a call may be linked to,
// each read through its own domain with the caller's rights.
func newHotline(svc *graph.Services, d Deps, staffSvc *staff.Service) *hotline.Service {
	h := hotline.NewService(d.DB, svc.Households, staffSvc, d.Now)
	h.LinkItems(hotline.Repair, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.Repairs.Get(ctx, c, id)
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	h.LinkItems(hotline.Complaint, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.Complaints.Get(ctx, c, id)
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	h.LinkItems(hotline.ServiceOrder, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.ServiceOrders.Get(ctx, c, id)
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	h.LinkItems(hotline.MoveBooking, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.Moves.Get(ctx, c, id)
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	h.LinkItems(hotline.CampaignBooking, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.FreeServices.Visit(ctx, c, id)
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	h.LinkItems(hotline.Enquiry, func(ctx context.Context, c *access.Caller, id string) (string, error) {
		x, err := svc.Enquiries.Get(ctx, c, id) // svc.Enquiries is set after the call log: read at link time
		return communityOf(x, err, func() string { return x.CommunityID })
	})
	return h
}

func communityOf[T any](x *T, err error, community func() string) (string, error) {
	if err != nil || x == nil {
		return "", err
	}
	return community(), nil
}
