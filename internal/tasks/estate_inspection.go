package tasks

import (
	"context"

	"qinqing/internal/inspection"
)

// Kinds owed from quality inspections (品质检查).
const (
	CorrectiveFix     Kind = "CORRECTIVE_TASK"    // 整改: on the assignee's list, or every team member's
	InspectionRecheck Kind = "INSPECTION_RECHECK" // 复查: on the list of the inspector who found the failure
	InspectionDue     Kind = "INSPECTION_DUE"     // 计划检查: on the schedule's assignee's list
)

// CorrectiveTasks owes each open corrective task's fix by its deadline, to
// the staff member it is given to or to every member of its team in the
// community, and its re-check, due at the same deadline, to the inspector
// who found the failure. Both leave the lists when a re-check passes.
type CorrectiveTasks struct {
	Inspections interface {
		OpenTasksIn(ctx context.Context, communityID string, limit int) ([]*inspection.Task, error)
	}
}

// Owed implements Source.
func (c CorrectiveTasks) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	xs, err := c.Inspections.OpenTasksIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, 2*len(xs))
	for _, x := range xs {
		where := inspection.AreaNames[x.Area][0]
		if x.Location != "" {
			where = x.Location
		}
		fix := &Task{ID: string(CorrectiveFix) + ":" + x.ID, Kind: CorrectiveFix, CommunityID: x.CommunityID, SubjectID: x.ID,
			Title: "整改：" + summary(where+" "+x.Item.Text), DueAt: x.Deadline, CreatedAt: x.CreatedAt, StaffID: x.AssigneeStaffID}
		if x.AssigneeStaffID == "" {
			fix.Team = inspection.TeamRoles(x.AssigneeTeam)
		}
		out = append(out, fix)
		if x.InspectorID != "" {
			out = append(out, &Task{ID: string(InspectionRecheck) + ":" + x.ID, Kind: InspectionRecheck, CommunityID: x.CommunityID,
				SubjectID: x.ID, Title: "整改复查：" + summary(where+" "+x.Item.Text), DueAt: x.Deadline, CreatedAt: x.CreatedAt, StaffID: x.InspectorID})
		}
	}
	return out, nil
}

// DueInspections owes each scheduled inspection of the running period, and
// each missed one while an offline record may still be uploaded for it, to
// the schedule's assignee, due at the period's end; it leaves the list when
// an inspection done in the period is recorded against the schedule.
type DueInspections struct {
	Inspections interface {
		OpenOccurrencesIn(ctx context.Context, communityID string, limit int) ([]*inspection.Occurrence, error)
	}
}

// Owed implements Source.
func (d DueInspections) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	os, err := d.Inspections.OpenOccurrencesIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(os))
	for _, o := range os {
		out = append(out, &Task{ID: string(InspectionDue) + ":" + o.Schedule.ID + ":" + o.Start.Format("20060102"), Kind: InspectionDue,
			CommunityID: communityID, SubjectID: o.Schedule.ID, Title: o.Title(), DueAt: o.End, CreatedAt: o.Start, StaffID: o.Schedule.AssigneeID})
	}
	return out, nil
}
