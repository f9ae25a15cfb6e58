package tasks

import (
	"context"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/facility"
)

// MaintenanceOrders owes the community's open work orders: a planned one
// past its due date on its supervisors' lists (超期未保养); a handover
// defect on its assignee's list (the named staff member, or the engineers)
// from the day it is filed, and on the supervisors' too once it is overdue.
// Done where it is owed: completeMaintenance.
type MaintenanceOrders struct {
	Orders interface {
		OwedIn(ctx context.Context, communityID string, limit int) ([]*facility.Order, error)
		DueBy(o *facility.Order) time.Time
	}
	Now func() time.Time
}

// Owed implements Source.
func (m MaintenanceOrders) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	os, err := m.Orders.OwedIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	out := make([]*Task, 0, len(os))
	for _, o := range os {
		due := m.Orders.DueBy(o)
		t := &Task{CommunityID: o.CommunityID, SubjectID: o.ID, DueAt: due, CreatedAt: o.CreatedAt}
		if o.KindOf() == facility.DefectFix {
			t.Kind, t.Title, t.StaffID = HandoverDefect, summary(o.Title), o.AssigneeStaffID
			if o.AssigneeStaffID == "" {
				t.Team = []access.Role{o.AssigneeTeam}
			}
			if now.After(due) {
				t.Team = append(t.Team, access.Supervisor)
			}
		} else {
			t.Kind, t.Title, t.Team = MaintenanceOverdue, "超期未保养："+summary(o.Title)+"（应于 "+o.DueDate+"）", []access.Role{access.Supervisor}
		}
		t.ID = string(t.Kind) + ":" + o.ID
		out = append(out, t)
	}
	return out, nil
}
