package graph

import (
	"context"

	"qinqing/graph/model"
	"qinqing/internal/inspection"
	"qinqing/internal/staff"
)

// optStaff is a staff reference that may be unset.
func optStaff(ctx context.Context, id string) (*staff.Staff, error) {
	if id == "" {
		return nil, nil
	}
	return one(ctx, loaders(ctx).Staff, id)
}

// recordInput is the domain's form of a recorded inspection.
func recordInput(in model.RecordInspectionInput) inspection.RecordInput {
	out := inspection.RecordInput{CommunityID: in.CommunityID, Area: in.Area, Location: deref(in.Location),
		TemplateVersion: in.TemplateVersion, ScheduleID: deref(in.ScheduleID), ResponsibleStaffID: deref(in.ResponsibleStaffID), DoneAt: in.DoneAt,
		IdempotencyKey: in.IdempotencyKey, Note: deref(in.Note)}
	for _, r := range in.Results {
		if r == nil {
			continue
		}
		res := inspection.ResultInput{Seq: r.Seq, Passed: r.Passed, Note: deref(r.Note), Photos: uploads(r.Photos),
			AssigneeStaffID: deref(r.AssigneeStaffID), Deadline: r.Deadline}
		if r.AssigneeTeam != nil {
			res.AssigneeTeam = *r.AssigneeTeam
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// ptrs points at each element of a stored list, for list fields.
func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}
