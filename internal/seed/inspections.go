package seed

import (
	"context"
	"fmt"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/inspection"
	"qinqing/internal/platform/page"
)

// A month of quality inspections (品质检查) in the first community: a few a
// week across the cleaned areas and the front desk on the built-in
// checklists, the lobby's last week done for a daily schedule. Failed items
// became corrective tasks: most closed by a passing re-check the next day,
// one escalated by a failed re-check, the latest still open.

type inspectionPlan struct {
	daysAgo, hour int // done at this hour (company time) this many days before the seed runs
	area          inspection.Area
	fail          []int  // failed items by seq
	outcome       string // of the failures' tasks: "closed" (re-checked the next day), "escalated", "open"
	scheduled     bool   // done for the lobby's daily schedule
}

var inspectionPlans = []inspectionPlan{
	{daysAgo: 28, hour: 10, area: inspection.Lobby},
	{daysAgo: 27, hour: 15, area: inspection.FrontDesk, fail: []int{3}, outcome: "closed"},
	{daysAgo: 25, hour: 9, area: inspection.LiftCar, fail: []int{4}, outcome: "closed"},
	{daysAgo: 23, hour: 14, area: inspection.PublicToilet},
	{daysAgo: 21, hour: 10, area: inspection.Lobby, fail: []int{4, 8}, outcome: "closed"},
	{daysAgo: 20, hour: 15, area: inspection.FrontDesk},
	{daysAgo: 18, hour: 9, area: inspection.Corridor, fail: []int{4}, outcome: "closed"},
	{daysAgo: 16, hour: 14, area: inspection.PublicToilet, fail: []int{6}, outcome: "closed"},
	{daysAgo: 14, hour: 10, area: inspection.LiftCar},
	{daysAgo: 13, hour: 15, area: inspection.FrontDesk, fail: []int{1}, outcome: "escalated"},
	{daysAgo: 11, hour: 9, area: inspection.Corridor},
	{daysAgo: 9, hour: 14, area: inspection.PublicToilet},
	{daysAgo: 6, hour: 10, area: inspection.Lobby, fail: []int{5}, outcome: "closed", scheduled: true},
	{daysAgo: 5, hour: 15, area: inspection.FrontDesk},
	{daysAgo: 4, hour: 10, area: inspection.Lobby, scheduled: true},
	{daysAgo: 2, hour: 10, area: inspection.Lobby, fail: []int{8}, outcome: "open", scheduled: true},
}

var seedFailNotes = map[inspection.Area]string{
	inspection.Lobby: "发现问题，已拍照", inspection.FrontDesk: "现场观察未达标准", inspection.LiftCar: "镜面有手印",
	inspection.Corridor: "梯间烟头 5 个", inspection.PublicToilet: "垃圾篓超过 2/3",
}

// ensureInspections records the month through the inspection service with
// its clock set to each moment in turn (an inspection is uploaded minutes
// after it was done). Idempotency keys make a rerun replay the records; a
// task's re-checks are made only while it has fewer than planned.
func (s *seeder) ensureInspections(ctx context.Context) error {
	if s.d.Inspections == nil || s.d.Clock == nil || len(s.communities) == 0 {
		return nil
	}
	defer s.d.Clock.release()
	com := s.communities[0]
	inspector, cleaner := s.staffWithRole(com.ID, access.Inspector), s.staffWithRole(com.ID, access.Cleaner)
	if inspector == nil || cleaner == nil {
		return nil
	}
	svc := s.d.Inspections
	today := s.now.In(seedZone)
	at := func(daysAgo, hour int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()-daysAgo, hour, 0, 0, 0, seedZone)
	}
	schedule, err := s.lobbySchedule(ctx, inspector, cleaner.ID, com.ID, at(7, 8))
	if err != nil {
		return err
	}
	for i, p := range inspectionPlans {
		doneAt := at(p.daysAgo, p.hour)
		items, err := svc.Templates(ctx, inspector, com.ID, &p.area)
		if err != nil {
			return err
		}
		in := inspection.RecordInput{CommunityID: com.ID, Area: p.area, TemplateVersion: 1, DoneAt: doneAt,
			IdempotencyKey: fmt.Sprintf("seed-inspection-%02d", i)}
		if p.area != inspection.FrontDesk {
			in.ResponsibleStaffID = cleaner.ID
		}
		if p.scheduled {
			in.ScheduleID, in.Location = schedule, "1号楼大堂"
		}
		for _, it := range items[0].Items {
			r := inspection.ResultInput{Seq: it.Seq, Passed: true}
			for _, f := range p.fail {
				if f == it.Seq {
					r.Passed, r.Note = false, seedFailNotes[p.area]
				}
			}
			in.Results = append(in.Results, r)
		}
		s.d.Clock.set(doneAt.Add(10 * time.Minute))
		x, _, err := svc.Record(ctx, inspector, in)
		if err != nil {
			return fmt.Errorf("inspection %d: %w", i, err)
		}
		s.counts["inspections"]++
		for _, r := range x.Results {
			if r.TaskID == "" {
				continue
			}
			s.counts["correctiveTasks"]++
			if err := s.recheck(ctx, inspector, r.TaskID, p.outcome, doneAt.Add(20*time.Hour)); err != nil {
				return fmt.Errorf("inspection %d task %s: %w", i, r.TaskID, err)
			}
		}
	}
	return nil
}

// seedZone is the company's calendar.
var seedZone = time.FixedZone("CST", 8*3600)

// recheck gives a task its planned re-check the day after, once.
func (s *seeder) recheck(ctx context.Context, c *access.Caller, taskID, outcome string, at time.Time) error {
	if outcome == "open" {
		return nil
	}
	t, err := s.d.Inspections.Task(ctx, c, taskID)
	if err != nil || len(t.Rechecks) > 0 {
		return err
	}
	s.d.Clock.set(at)
	in := inspection.RecheckInput{TaskID: t.ID, Version: t.Version, Passed: outcome == "closed"}
	if !in.Passed {
		in.Note = "复查仍未达标，已通报主管"
	}
	_, err = s.d.Inspections.Recheck(ctx, c, in)
	return err
}

// lobbySchedule is the daily lobby inspection, planned a week ago for the
// inspector with the cleaner in charge; made once.
func (s *seeder) lobbySchedule(ctx context.Context, c *access.Caller, cleanerID, communityID string, plannedAt time.Time) (string, error) {
	pg, err := s.d.Inspections.Schedules(ctx, c, communityID, page.Request{First: page.MaxFirst})
	if err != nil {
		return "", err
	}
	for _, x := range pg.Items {
		if x.Area == inspection.Lobby && x.Frequency == inspection.Daily {
			return x.ID, nil
		}
	}
	s.d.Clock.set(plannedAt)
	x, err := s.d.Inspections.Schedule(ctx, c, inspection.ScheduleInput{CommunityID: communityID, Area: inspection.Lobby,
		Frequency: inspection.Daily, Note: "每日上午巡查大堂保洁", AssigneeID: c.ID, ResponsibleStaffID: cleanerID})
	if err != nil {
		return "", err
	}
	return x.ID, nil
}
