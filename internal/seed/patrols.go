package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/patrol"
	"qinqing/internal/platform/page"
)

const seedRoute = "夜间巡更"

// ensurePatrols sets up the first community's night patrol route (three
// checkpoints, 22:00-06:00, a round every two hours) and one round walked
// two nights ago: the gate and the fire lane scanned on time, the garage
// missed, which the missed-checkpoint job marks as it would have during
// the shift (and the security supervisor is told). The route is found by
// name and, once it has a missed checkpoint, a rerun adds nothing; a rerun
// the same day completes a run cut short (the scans' keys and the miss's
// id make each once).
func (s *seeder) ensurePatrols(ctx context.Context) error {
	if s.d.Patrols == nil || len(s.communities) == 0 {
		return nil
	}
	com := s.communities[0]
	guard, lead := s.staffWithRole(com.ID, access.Security), s.staffWithRole(com.ID, access.SecuritySupervisor)
	if guard == nil || lead == nil {
		return nil
	}
	routes, err := s.d.Patrols.Routes(ctx, lead, com.ID)
	if err != nil {
		return err
	}
	var r *patrol.Route
	for _, x := range routes {
		if x.Name == seedRoute {
			r = x
		}
	}
	if r == nil {
		if r, err = s.d.Patrols.UpsertRoute(ctx, lead, patrol.RouteInput{CommunityID: com.ID, Name: seedRoute, Active: true,
			ShiftStart: "22:00", ShiftEnd: "06:00", EveryMinutes: 120,
			Checkpoints: []patrol.CheckpointInput{
				{Name: "东门", Place: "东门岗亭", OffsetMinutes: 0, ToleranceMinutes: 10},
				{Name: "地下车库", Place: "B1 出口", OffsetMinutes: 30, ToleranceMinutes: 10},
				{Name: "消防通道", Place: "1号楼北侧消防通道", OffsetMinutes: 60, ToleranceMinutes: 10},
			}}); err != nil {
			return fmt.Errorf("patrol route: %w", err)
		}
	}
	s.counts["patrolRoutes"] = 1
	s.counts["patrolRounds"] = 1
	// A route that already has a missed checkpoint was walked by an
	// earlier run (on an earlier night): nothing more to add.
	rounds, err := s.d.Patrols.Patrols(ctx, lead, com.ID, r.ID, page.Request{First: 20})
	if err != nil {
		return err
	}
	for _, rv := range rounds.Items {
		if len(rv.Misses) > 0 {
			return nil
		}
	}
	// The first round of the shift that started two nights ago, local time.
	loc := com.Location()
	y, m, d := s.now.In(loc).AddDate(0, 0, -2).Date()
	start := time.Date(y, m, d, 22, 0, 0, 0, loc)
	for i, sc := range []struct {
		cp   int
		done time.Duration
	}{{0, 3 * time.Minute}, {2, 62 * time.Minute}} {
		if _, err := s.d.Patrols.RecordScan(ctx, guard, patrol.ScanInput{CommunityID: com.ID, Code: r.Checkpoints[sc.cp].Code,
			DoneAt: start.Add(sc.done), IdempotencyKey: fmt.Sprintf("seed-patrol-%s-%d", start.Format("20060102"), i)}); err != nil {
			return fmt.Errorf("patrol scan: %w", err)
		}
	}
	// The job as it ran 45 minutes into the round: the garage's window
	// (22:30 ± 10) has closed unscanned.
	if err := s.d.Patrols.Tick(ctx, start.Add(45*time.Minute)); err != nil {
		return fmt.Errorf("patrol misses: %w", err)
	}
	return nil
}
