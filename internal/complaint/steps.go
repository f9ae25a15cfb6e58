package complaint

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/validate"
)

// step is one guarded step of a complaint.
type step = lifecycle.Move[*Complaint, Status]

// do loads the complaint the caller may see and takes the step on it; every
// step sets the deadline of the stage it enters.
func (s *Service) do(ctx context.Context, c *access.Caller, id string, st step) (*Complaint, error) {
	x, err := s.get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var out Complaint
	at := lifecycle.State[Status]{ID: x.ID, Status: x.Status, Version: x.Version}
	deadline := func(x *Complaint, to Status) bson.D { return bson.D{{Key: "nextDeadline", Value: nextDeadline(x, to)}} }
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now().UTC(), x, at, st, deadline, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, &out, st.Action, string(x.Status))
	return redact(c, &out), nil
}

// nextDeadline is the deadline of the stage the complaint enters: only
// acknowledgement runs against a clock.
func nextDeadline(x *Complaint, to Status) *time.Time {
	if to == Received {
		return &x.RespondBy
	}
	return nil
}

func isHandler(c *access.Caller, x *Complaint) error {
	if handles(c, x.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// isOwner is the first-contact rule (首问责任制) for the steps that move a
// complaint on its handler's behalf (answer, callback, close): the staff
// member who acknowledged it or to whom it was handed over, or a supervisor
// of the community standing in. Any other handler must have it handed over
// first (HandOver).
//
// From a state where action is illegal anyway, only the handler check
// applies, so the machine answers CONFLICT as for everyone.
func isOwner(action string) func(c *access.Caller, x *Complaint) error {
	return func(c *access.Caller, x *Complaint) error {
		if err := isHandler(c, x); err != nil {
			return err
		}
		if !slices.Contains(Machine[action].From, x.Status) {
			return nil
		}
		if c.ActsAsOwner(x.HandlerStaffID, x.CommunityID) {
			return nil
		}
		return ErrNotHandler
	}
}

// Acknowledge makes the caller the complaint's handler, who owns it until
// it is closed (首问责任制).
func (s *Service) Acknowledge(ctx context.Context, c *access.Caller, id string) (*Complaint, error) {
	return s.do(ctx, c, id, step{Action: "acknowledge", May: isHandler, Change: func(*Complaint, Status, time.Time) (bson.D, bson.D, error) {
		return bson.D{{Key: "handlerStaffId", Value: c.ID}}, nil, nil
	}})
}

// Reply answers the complainant: the handler, or a supervisor of the
// community (or an admin) standing in.
func (s *Service) Reply(ctx context.Context, c *access.Caller, id, text string) (*Complaint, error) {
	text, err := validate.Text("text", text, true, 1000)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "reply", Note: text,
		May: isOwner("reply"),
		Change: func(_ *Complaint, _ Status, now time.Time) (bson.D, bson.D, error) {
			return nil, bson.D{{Key: "$push", Value: bson.D{{Key: "replies", Value: Reply{StaffID: c.ID, Text: text, At: now}}}}}, nil
		}})
}

// Callback records the butler's callback (回访). Satisfied closes the
// complaint; not satisfied sends it back to its handler for another round.
func (s *Service) Callback(ctx context.Context, c *access.Caller, id string, satisfied bool, notes string) (*Complaint, error) {
	notes, err := validate.Text("notes", notes, false, 1000)
	if err != nil {
		return nil, err
	}
	if !satisfied && notes == "" {
		return nil, apperr.Invalid("notes", "complaint.notes_required")
	}
	action := "callback_closed"
	if !satisfied {
		action = "callback_reopen"
	}
	return s.do(ctx, c, id, step{Action: action, Note: notes, Data: map[string]any{"satisfied": satisfied}, May: isOwner(action),
		Change: func(x *Complaint, _ Status, now time.Time) (bson.D, bson.D, error) {
			cb := Callback{Round: x.Round, StaffID: c.ID, Satisfied: satisfied, Notes: notes, At: now}
			extra := bson.D{{Key: "$push", Value: bson.D{{Key: "callbacks", Value: cb}}}}
			if !satisfied {
				extra = append(extra, bson.E{Key: "$inc", Value: bson.D{{Key: "round", Value: 1}}})
			}
			return nil, extra, nil
		}})
}

// HandOver passes a complaint to another butler or supervisor of the
// community, who then owns it (首问责任制): the handler or a supervisor
// may. The state stays as it is.
func (s *Service) HandOver(ctx context.Context, c *access.Caller, id, toStaffID, note string) (*Complaint, error) {
	if err := validate.ID("toStaffId", toStaffID); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "hand_over", Note: note, Data: map[string]any{"toStaffId": toStaffID},
		May: func(c *access.Caller, x *Complaint) error {
			if err := isOwner("hand_over")(c, x); err != nil {
				return err
			}
			if toStaffID == x.HandlerStaffID {
				return apperr.Invalid("toStaffId", "complaint.same_handler")
			}
			if s.staff == nil {
				return errors.New("complaint: no staff directory to hand over with")
			}
			st, err := s.staff.Get(ctx, toStaffID)
			if err != nil || !st.MayOwnRequestsIn(x.CommunityID) {
				return apperr.Invalid("toStaffId", "complaint.not_handler_staff")
			}
			return nil
		},
		Change: func(*Complaint, Status, time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "handlerStaffId", Value: toStaffID}}, nil, nil
		}})
}

// Withdraw: the complainant, still a member of the household, while the
// complaint is not yet answered.
func (s *Service) Withdraw(ctx context.Context, c *access.Caller, id, reason string) (*Complaint, error) {
	reason, err := validate.Text("reason", reason, false, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "withdraw", Note: reason, May: func(c *access.Caller, x *Complaint) error {
		if _, ok := c.RoleIn(x.HouseholdID); ok && c.ID == x.ComplainantID {
			return nil
		}
		return ErrNotComplainant
	}})
}
