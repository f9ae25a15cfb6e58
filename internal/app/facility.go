package app

import (
	"context"
	"time"

	"qinqing/graph"
	"qinqing/internal/facility"
	"qinqing/internal/inspection"
	"qinqing/internal/tasks"
)

// wireFacilities joins the facility service to the others: failed handover
// items (承接查验) become its work orders, and its overdue and defect orders
// go on staff task lists.
func wireFacilities(svc *graph.Services, now func() time.Time) {
	svc.Inspections.UseDefects(handoverDefects{svc.Facilities})
	svc.Tasks.AddSource(tasks.MaintenanceOrders{Orders: svc.Facilities, Now: now})
}

// handoverDefects files an inspection's defects as facility work orders.
type handoverDefects struct{ f *facility.Service }

func (h handoverDefects) FileDefects(ctx context.Context, ds []inspection.Defect) error {
	in := make([]facility.DefectInput, len(ds))
	for i, d := range ds {
		in[i] = facility.DefectInput{OrderID: d.WorkOrderID, CommunityID: d.CommunityID, AssigneeStaffID: d.AssigneeStaffID,
			AssigneeTeam: d.AssigneeTeam, Deadline: d.Deadline,
			Defect: facility.Defect{InspectionID: d.InspectionID, Seq: d.Item.Seq, Text: d.Item.Text, Standard: d.Item.Standard,
				Note: d.Note, Location: d.Location, FoundBy: d.InspectorID, FoundAt: d.DoneAt}}
	}
	return h.f.FileDefects(ctx, in)
}
