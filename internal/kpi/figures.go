package kpi

import (
	"context"
	"time"
)

// Figures are the community's KPIs over [from, to) with no caller check:
// for services that decide themselves who reads which aggregate (the
// owners' management report). The window is bounded as ServiceKPIs'.
func (s *Service) Figures(ctx context.Context, communityID string, from, to time.Time) (*KPIs, error) {
	if !to.After(from) || to.Sub(from) > MaxWindow {
		return nil, ErrBadWindow.WithField("to")
	}
	com, err := s.community(ctx, communityID)
	if err != nil {
		return nil, err
	}
	ks, err := s.compute(ctx, com, span{from, to})
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}
