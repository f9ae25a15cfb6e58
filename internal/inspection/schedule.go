package inspection

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// ScheduleInput plans inspections of an area: every day, week or month, or
// once on a date (On, a day in the community's calendar), by AssigneeID (an
// inspector or supervisor of the community; the planner when empty).
type ScheduleInput struct {
	CommunityID        string
	Area               Area
	Frequency          Frequency
	On                 string // YYYY-MM-DD
	Note               string
	AssigneeID         string
	ResponsibleStaffID string
}

// Schedule plans inspections of an area.
func (s *Service) Schedule(ctx context.Context, c *access.Caller, in ScheduleInput) (*Schedule, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if err := s.mustManage(c, in.CommunityID); err != nil {
		return nil, err
	}
	if err := checkArea("input.area", in.Area); err != nil {
		return nil, err
	}
	if !slices.Contains(Frequencies, in.Frequency) {
		return nil, apperr.Invalid("input.frequency", "input.bad_value")
	}
	switch {
	case in.Frequency == Once && in.On == "":
		return nil, apperr.Invalid("input.on", "inspection.date_required")
	case in.Frequency != Once && in.On != "":
		return nil, apperr.Invalid("input.on", "inspection.date_only_once")
	}
	now := s.now().In(s.loc(in.CommunityID))
	if in.On != "" {
		// A one-off inspection is planned from today (the company's
		// calendar) up to a year ahead.
		from, to := now.Format(time.DateOnly), now.AddDate(1, 0, 0).Format(time.DateOnly)
		if _, err := time.Parse(time.DateOnly, in.On); err != nil || in.On < from || in.On > to {
			return nil, apperr.Invalid("input.on", "input.out_of_range", from, to)
		}
	}
	note, err := validate.Text("input.note", in.Note, false, 200)
	if err != nil {
		return nil, err
	}
	assignee := c.ID
	if in.AssigneeID != "" && in.AssigneeID != c.ID {
		st, err := s.workerIn(ctx, "input.assigneeId", in.CommunityID, in.AssigneeID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(st.Roles, access.Inspector) && !slices.Contains(st.Roles, access.Supervisor) {
			return nil, apperr.Invalid("input.assigneeId", "inspection.not_inspector")
		}
		assignee = st.ID
	}
	if in.ResponsibleStaffID != "" {
		if _, err := s.workerIn(ctx, "input.responsibleStaffId", in.CommunityID, in.ResponsibleStaffID); err != nil {
			return nil, err
		}
	}
	x := &Schedule{ID: mongo.NewID(), CommunityID: in.CommunityID, Area: in.Area, Frequency: in.Frequency, On: in.On,
		Note: note, AssigneeID: assignee, ResponsibleStaffID: in.ResponsibleStaffID, CreatedBy: c.ID, CreatedAt: now.UTC()}
	x.SortKey = page.NewestFirst(now, x.ID)
	if _, err := s.schedules.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert inspection schedule: %w", err)
	}
	return x, nil
}

// Schedules lists a community's inspection schedules, newest first.
func (s *Service) Schedules(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Schedule], error) {
	if err := s.mustManage(c, communityID); err != nil {
		return page.Page[*Schedule]{}, err
	}
	return mongo.FindPage(ctx, s.schedules, bson.D{{Key: "communityId", Value: communityID}}, p, mongo.PageQuery{},
		func(x *Schedule) string { return x.SortKey })
}

// checkSchedule: an inspection done for a schedule names one of its
// community and area.
func (s *Service) checkSchedule(ctx context.Context, in RecordInput) (*Schedule, error) {
	if err := validate.ID("input.scheduleId", in.ScheduleID); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Schedule](ctx, s.schedules, in.ScheduleID, apperr.Invalid("input.scheduleId", "input.bad_value"))
	if err != nil {
		return nil, err
	}
	if x.CommunityID != in.CommunityID || x.Area != in.Area {
		return nil, apperr.Invalid("input.scheduleId", "input.bad_value")
	}
	// One done before the schedule ended (uploaded late from offline)
	// still counts for it.
	if x.EndedAt != nil && !in.DoneAt.Before(*x.EndedAt) {
		return nil, apperr.Invalid("input.scheduleId", "inspection.schedule_ended", x.EndedAt.In(s.loc(x.CommunityID)).Format(time.DateTime))
	}
	return x, nil
}

// EndSchedule stops a schedule: it owes no occurrence after now, the
// occurrence running now is dropped unless already done, and past ones keep
// their record. Inspectors and supervisors of its community; ending an
// ended schedule returns it unchanged.
func (s *Service) EndSchedule(ctx context.Context, c *access.Caller, id string) (*Schedule, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Schedule](ctx, s.schedules, id, ErrScheduleNotFound)
	if err != nil {
		return nil, err
	}
	if err := s.mustManage(c, x.CommunityID); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil, ErrScheduleNotFound
		}
		return nil, err
	}
	if x.EndedAt != nil {
		return x, nil
	}
	now := s.now().UTC()
	res, err := s.schedules.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "endedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "endedAt", Value: now}, {Key: "endedBy", Value: c.ID}}}})
	if err != nil {
		return nil, fmt.Errorf("end inspection schedule %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		// Someone else ended it meanwhile: theirs stands.
		return mongo.FindByID[Schedule](ctx, s.schedules, id, ErrScheduleNotFound)
	}
	x.EndedAt, x.EndedBy = &now, c.ID
	return x, nil
}
