package committee

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// CompleteAction marks an action item done with a note of what was done:
// the staff member responsible for it, or a supervisor of its community,
// may. It then leaves the task list. Others who may read the meeting get
// FORBIDDEN, anyone else NOT_FOUND; CONFLICT when it is already done (also
// for the second of two racing completions: the completion's insert decides).
func (s *Meetings) CompleteAction(ctx context.Context, c *access.Caller, id, note string) (*Action, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	meetingID, i, ok := splitActionID(id)
	if !ok {
		return nil, apperr.Invalid("id", "input.bad_id")
	}
	note, err := validate.Text("note", note, false, maxActionNote)
	if err != nil {
		return nil, err
	}
	m, err := s.byID(ctx, meetingID)
	if meetingMissing(err) || (err == nil && i >= len(m.Actions)) {
		return nil, ErrActionNotFound
	}
	if err != nil {
		return nil, err
	}
	a := &m.Actions[i]
	if !c.IsStaff() || (c.ID != a.StaffID && !c.SupervisesIn(m.CommunityID)) {
		if _, err := s.readable(ctx, c, m); err != nil {
			if err == ErrMeetingNotFound {
				return nil, ErrActionNotFound
			}
			return nil, err
		}
		return nil, apperr.ErrForbidden
	}
	if a.Status == ActionDone {
		return nil, ErrActionDone
	}
	done := actionDone{ID: a.ID, MeetingID: m.ID, CommunityID: m.CommunityID, DoneAt: s.cfg.Now().UTC(), DoneBy: c.ID, Note: note}
	if _, err := s.done.InsertOne(ctx, done); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrActionDone
		}
		return nil, meetingErr("complete action", a.ID, err)
	}
	// The hint only narrows the task lists' read: a failure here leaves it
	// high, which the lists correct from the completions, so the item is
	// done whatever this returns.
	_, _ = s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "openActions", Value: -1}}}})
	a.Status, a.DoneAt, a.DoneBy, a.Note, a.Overdue = ActionDone, &done.DoneAt, c.ID, note, false
	return a, nil
}
