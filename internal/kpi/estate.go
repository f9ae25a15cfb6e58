package kpi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qinqing/internal/incident"
)

// InspectionSource is the quality inspections (品质检查): the items of
// the inspections done in a window and how many passed, and the corrective
// tasks given in it whose outcome is known and how many closed on time.
type InspectionSource interface {
	PassCounts(ctx context.Context, communityID string, from, to time.Time) (passed, total int, err error)
	CorrectiveOnTime(ctx context.Context, communityID string, from, to, now time.Time) (onTime, known int, err error)
}

// PatrolSource is the guards' patrols: checkpoints due in a window.
type PatrolSource interface {
	Completeness(ctx context.Context, communityID string, from, to time.Time) (onTime, scanned, expected int, err error)
}

// MaintenanceSource is planned maintenance: orders due in a window whose
// outcome is known, and those done by their due date.
type MaintenanceSource interface {
	OnPlan(ctx context.Context, communityID string, from, to, now time.Time) (onPlan, known int, err error)
}

// IncidentSource is the incident log (安全事件): per type, the incidents
// that happened in a window, those of them closed, and their total time
// from happening to closing.
type IncidentSource interface {
	StatsIn(ctx context.Context, communityID string, from, to time.Time) ([]incident.TypeStats, error)
}

// EstateKPIs are how the estate itself is run (DOMAIN.md, "Running the
// estate"), each over the same window as the service figures.
type EstateKPIs struct {
	// InspectionPassRate: checklist items passed / checked, of the quality
	// inspections done in the window (the handover inspection aside).
	InspectionPassRate Ratio
	// CorrectiveOnTime: corrective tasks given in the window closed by the
	// first re-check by their deadline / those whose outcome is known.
	CorrectiveOnTime Ratio
	// PatrolCompleteness: checkpoints due in the window scanned / expected;
	// PatrolOnTime: scanned within their window / expected.
	PatrolCompleteness, PatrolOnTime Ratio
	// MaintenanceOnPlan: planned orders due in the window done by their
	// due date / those whose outcome is known.
	MaintenanceOnPlan Ratio
	Incidents         IncidentKPIs
}

// IncidentKPIs are the incidents that happened in the window, by type.
type IncidentKPIs struct {
	Available bool
	Reported  int
	Closed    int
	// CloseTime: happened → closed, of those closed.
	CloseTime Duration
	ByType    []IncidentTypeKPIs
}

// IncidentTypeKPIs are one type's incidents in the window.
type IncidentTypeKPIs struct {
	Type      incident.Type
	Reported  int
	Closed    int
	CloseTime Duration
}

// addEstate asks each connected estate source once per window.
func (s *Service) addEstate(ctx context.Context, communityID string, now time.Time, ks []*KPIs) error {
	for _, k := range ks {
		e := &k.Estate
		if src := s.cfg.Inspections; src != nil {
			passed, total, err := src.PassCounts(ctx, communityID, k.From, k.To)
			if err != nil {
				return fmt.Errorf("inspection pass rate: %w", err)
			}
			e.InspectionPassRate = Ratio{Numerator: passed, Denominator: total, Available: true}
			onTime, known, err := src.CorrectiveOnTime(ctx, communityID, k.From, k.To, now)
			if err != nil {
				return fmt.Errorf("corrective tasks on time: %w", err)
			}
			e.CorrectiveOnTime = Ratio{Numerator: onTime, Denominator: known, Available: true}
		}
		if src := s.cfg.Patrols; src != nil {
			onTime, scanned, expected, err := src.Completeness(ctx, communityID, k.From, k.To)
			if err != nil {
				return fmt.Errorf("patrol completeness: %w", err)
			}
			e.PatrolCompleteness = Ratio{Numerator: scanned, Denominator: expected, Available: true}
			e.PatrolOnTime = Ratio{Numerator: onTime, Denominator: expected, Available: true}
		}
		if src := s.cfg.Maintenance; src != nil {
			onPlan, known, err := src.OnPlan(ctx, communityID, k.From, k.To, now)
			if err != nil {
				return fmt.Errorf("maintenance on plan: %w", err)
			}
			e.MaintenanceOnPlan = Ratio{Numerator: onPlan, Denominator: known, Available: true}
		}
		if src := s.cfg.Incidents; src != nil {
			ts, err := src.StatsIn(ctx, communityID, k.From, k.To)
			if err != nil {
				return fmt.Errorf("incidents: %w", err)
			}
			e.Incidents = incidentKPIs(ts)
		}
	}
	return nil
}

// incidentKPIs lists every type, in the incident log's order, zeros
// included, so a week without fires still says so.
func incidentKPIs(ts []incident.TypeStats) IncidentKPIs {
	by := make(map[string]incident.TypeStats, len(ts))
	for _, t := range ts {
		by[t.Type] = t
	}
	out := IncidentKPIs{Available: true, ByType: make([]IncidentTypeKPIs, 0, len(incident.Types))}
	for _, typ := range incident.Types {
		t := by[string(typ)]
		d := Duration{Total: time.Duration(t.CloseSeconds) * time.Second, Count: t.Closed}
		out.ByType = append(out.ByType, IncidentTypeKPIs{Type: typ, Reported: t.Reported, Closed: t.Closed, CloseTime: d})
		out.Reported += t.Reported
		out.Closed += t.Closed
		out.CloseTime.Total += d.Total
		out.CloseTime.Count += d.Count
	}
	return out
}

// estateZH is the weekly report's line on running the estate; "" when no
// estate source is connected.
func estateZH(k, p *KPIs) string {
	e, pe := k.Estate, p.Estate
	var items []string
	if e.InspectionPassRate.Available {
		items = append(items, "品质检查合格率"+ratioZH(e.InspectionPassRate, pe.InspectionPassRate),
			"整改按时完成率"+ratioZH(e.CorrectiveOnTime, pe.CorrectiveOnTime))
	}
	if e.PatrolCompleteness.Available {
		items = append(items, "巡更完成率"+ratioZH(e.PatrolCompleteness, pe.PatrolCompleteness)+"，按时率"+ratioZH(e.PatrolOnTime, pe.PatrolOnTime))
	}
	if e.MaintenanceOnPlan.Available {
		items = append(items, "设备按计划保养率"+ratioZH(e.MaintenanceOnPlan, pe.MaintenanceOnPlan))
	}
	if in := e.Incidents; in.Available {
		var types []string
		for _, t := range in.ByType {
			if t.Reported > 0 {
				types = append(types, fmt.Sprintf("%s%d起", incident.TypeNames[t.Type][0], t.Reported))
			}
		}
		line := fmt.Sprintf("安全事件%d起", in.Reported)
		if len(types) > 0 {
			line += "（" + strings.Join(types, "、") + "）"
		}
		items = append(items, line+fmt.Sprintf("，已处理%d起，平均处理%s", in.Closed, durationZH(in.CloseTime)))
	}
	return strings.Join(items, "；")
}

func estateEN(k, p *KPIs) string {
	e, pe := k.Estate, p.Estate
	var items []string
	if e.InspectionPassRate.Available {
		items = append(items, "inspection pass rate "+ratioEN(e.InspectionPassRate, pe.InspectionPassRate),
			"corrective tasks closed on time "+ratioEN(e.CorrectiveOnTime, pe.CorrectiveOnTime))
	}
	if e.PatrolCompleteness.Available {
		items = append(items, "patrol completeness "+ratioEN(e.PatrolCompleteness, pe.PatrolCompleteness)+", on time "+ratioEN(e.PatrolOnTime, pe.PatrolOnTime))
	}
	if e.MaintenanceOnPlan.Available {
		items = append(items, "maintenance on plan "+ratioEN(e.MaintenanceOnPlan, pe.MaintenanceOnPlan))
	}
	if in := e.Incidents; in.Available {
		var types []string
		for _, t := range in.ByType {
			if t.Reported > 0 {
				types = append(types, fmt.Sprintf("%d %s", t.Reported, incident.TypeNames[t.Type][1]))
			}
		}
		line := fmt.Sprintf("%d incidents", in.Reported)
		if len(types) > 0 {
			line += " (" + strings.Join(types, ", ") + ")"
		}
		items = append(items, line+fmt.Sprintf(", %d closed in %s on average", in.Closed, durationEN(in.CloseTime)))
	}
	return strings.Join(items, "; ")
}
