package mgmtreport

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/facility"
	"qinqing/internal/inspection"
	"qinqing/internal/platform/period"
)

// compute reads the record for the period's window [from, to) and lays out
// every section, in Sections order, without commentary. Outcomes (done on
// plan? closed?) are as known at now, as the KPIs count them.
func (s *Service) compute(ctx context.Context, communityID string, p period.Period, from, to, now time.Time) ([]SectionData, error) {
	k, err := s.cfg.KPIs.Figures(ctx, communityID, from, to)
	if err != nil {
		return nil, fmt.Errorf("report figures: %w", err)
	}
	kinds, err := s.cfg.Equipment.StatsByKind(ctx, communityID, from, to, now)
	if err != nil {
		return nil, fmt.Errorf("report equipment: %w", err)
	}
	areas, err := s.cfg.Inspections.PassByArea(ctx, communityID, from, to)
	if err != nil {
		return nil, fmt.Errorf("report inspections: %w", err)
	}
	e := estate{kinds: map[facility.Kind]facility.KindStats{}, areas: map[inspection.Area]inspection.AreaPass{}}
	for _, st := range kinds {
		e.kinds[st.Kind] = st
	}
	for _, ap := range areas {
		e.areas[ap.Area] = ap
	}
	park, err := s.cfg.Parking.Parking(ctx, communityID, p.MonthTexts())
	if err != nil {
		return nil, fmt.Errorf("report parking: %w", err)
	}
	held, err := s.cfg.Events.HeldIn(ctx, communityID, from, to)
	if err != nil {
		return nil, fmt.Errorf("report events: %w", err)
	}
	surveys, err := s.cfg.Surveys.ClosedIn(ctx, communityID, from, to)
	if err != nil {
		return nil, fmt.Errorf("report surveys: %w", err)
	}
	var actions []Action
	if s.cfg.Actions != nil {
		if actions, err = s.cfg.Actions.SurveyActions(ctx, communityID, p.Text); err != nil {
			return nil, fmt.Errorf("report survey actions: %w", err)
		}
	}
	st, err := s.cfg.Finance.Latest(ctx, communityID, p.Text)
	if err != nil {
		return nil, fmt.Errorf("report statement: %w", err)
	}
	var fund *Fund
	if st != nil && s.cfg.FundOf != nil {
		fund = s.cfg.FundOf(st)
	}
	return []SectionData{
		equipmentSection(e), securitySection(k), fireSection(e, k), parkingSection(e, park, st),
		cleaningSection(e), greeningSection(e, st), pestSection(e), repairsSection(k), enquiriesSection(k),
		eventsSection(held), surveysSection(surveys, actions), financeSection(st, fund),
	}, nil
}
