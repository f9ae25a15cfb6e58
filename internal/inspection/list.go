package inspection

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// InspectionFilter narrows the inspections list.
type InspectionFilter struct {
	CommunityID string
	Area        *Area
}

// Inspections lists a community's inspections, newest done first.
func (s *Service) Inspections(ctx context.Context, c *access.Caller, f InspectionFilter, p page.Request) (page.Page[*Inspection], error) {
	var none page.Page[*Inspection]
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	if err := s.mustManage(c, f.CommunityID); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.Area != nil {
		if err := checkArea("area", *f.Area); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "area", Value: *f.Area})
	}
	return mongo.FindPage(ctx, s.records, q, p, mongo.PageQuery{}, func(x *Inspection) string { return x.SortKey })
}

// Inspection returns one inspection of a community the caller manages.
func (s *Service) Inspection(ctx context.Context, c *access.Caller, id string) (*Inspection, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Inspection](ctx, s.records, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !manages(c, x.CommunityID) {
		return nil, ErrNotFound
	}
	return x, nil
}

// TaskFilter narrows the corrective tasks list. AssigneeStaffID and
// AssigneeTeam pick whose tasks; staff who do not manage the community see
// only their own and their team's whatever they ask.
type TaskFilter struct {
	CommunityID     string
	Area            *Area
	Status          *TaskStatus
	AssigneeStaffID string
	AssigneeTeam    access.Role
}

// Tasks lists corrective tasks, newest first.
func (s *Service) Tasks(ctx context.Context, c *access.Caller, f TaskFilter, p page.Request) (page.Page[*Task], error) {
	var none page.Page[*Task]
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	if !c.IsStaff() || !slices.Contains(c.Communities, f.CommunityID) {
		return none, ErrNotFound
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.Area != nil {
		if err := checkArea("area", *f.Area); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "area", Value: *f.Area})
	}
	if f.Status != nil {
		if !slices.Contains(TaskStatuses, *f.Status) {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: *f.Status})
	}
	if f.AssigneeStaffID != "" {
		if err := validate.ID("assigneeStaffId", f.AssigneeStaffID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "assigneeStaffId", Value: f.AssigneeStaffID})
	}
	if f.AssigneeTeam != "" {
		if !slices.Contains(Teams, f.AssigneeTeam) {
			return none, apperr.Invalid("assigneeTeam", "inspection.bad_team")
		}
		q = append(q, bson.E{Key: "assigneeTeam", Value: f.AssigneeTeam})
	}
	if !manages(c, f.CommunityID) {
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "assigneeStaffId", Value: c.ID}},
			bson.D{{Key: "assigneeTeam", Value: bson.D{{Key: "$in", Value: myTeams(c)}}}},
		}})
	}
	return mongo.FindPage(ctx, s.tasks, q, p, mongo.PageQuery{}, func(t *Task) string { return t.SortKey })
}

// myTeams are the teams whose tasks c sees as a member.
func myTeams(c *access.Caller) []access.Role {
	out := []access.Role{}
	for _, t := range Teams {
		if c.Has(teamRoles(t)...) {
			out = append(out, t)
		}
	}
	return out
}
