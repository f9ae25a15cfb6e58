package committee

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// completeTries bounds the re-reads when another item of the same meeting
// is completed at the same moment (each completion rewrites the items).
const completeTries = 3

// CompleteAction marks an action item done with a note of what was done:
// the staff member responsible for it, or a supervisor of its community,
// may. It then leaves the task list. Others who may read the meeting get
// FORBIDDEN, anyone else NOT_FOUND; CONFLICT when it is already done.
func (s *Meetings) CompleteAction(ctx context.Context, c *access.Caller, id, note string) (*Action, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	meetingID, i, ok := splitActionID(id)
	if !ok {
		return nil, apperr.Invalid("id", "input.bad_id")
	}
	note, err := validate.Text("note", note, false, maxNote)
	if err != nil {
		return nil, err
	}
	for try := 0; try < completeTries; try++ {
		m, err := s.byID(ctx, meetingID)
		if errNotFound(err) || (err == nil && i >= len(m.Actions)) {
			return nil, ErrActionNotFound
		}
		if err != nil {
			return nil, err
		}
		a := m.Actions[i]
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
		now := s.cfg.Now().UTC()
		items := append([]Action(nil), m.Actions...)
		items[i].Status, items[i].DoneAt, items[i].DoneBy, items[i].Note = ActionDone, &now, c.ID, note
		open := 0
		for _, x := range items {
			if x.Status == ActionOpen {
				open++
			}
		}
		res, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}, {Key: "version", Value: m.Version}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "actions", Value: items}, {Key: "openActions", Value: open},
				{Key: "version", Value: m.Version + 1}}}})
		if err != nil {
			return nil, wrap("complete action of meeting", m.ID, err)
		}
		if res.MatchedCount == 1 {
			m.Actions, m.OpenActions, m.Version = items, open, m.Version+1
			s.fill(m)
			return &m.Actions[i], nil
		}
	}
	return nil, ErrBusy
}
