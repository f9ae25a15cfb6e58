package enquiry

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/validate"
)

type step = lifecycle.Move[*Enquiry, Status]

// do loads the enquiry the caller may see and takes the step on it; every
// step keeps nextDeadline to the promised time while the enquiry is open.
func (s *Service) do(ctx context.Context, c *access.Caller, id string, st step) (*Enquiry, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var out Enquiry
	at := lifecycle.State[Status]{ID: x.ID, Status: x.Status, Version: x.Version}
	deadline := func(x *Enquiry, to Status) bson.D {
		if to == Open {
			return bson.D{{Key: "nextDeadline", Value: x.PromisedBy}}
		}
		return bson.D{{Key: "nextDeadline", Value: nil}}
	}
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now(), x, at, st, deadline, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, &out, st.Action)
	return &out, nil
}

func isHandler(c *access.Caller, x *Enquiry) error {
	if handles(c, x.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// isOwner is the first-contact rule (首问责任制): the owner, or a supervisor
// of the community standing in; an enquiry asked in the app that nobody owns
// yet is anyone's at the desk. From a state where the step is illegal only
// the handler check applies, so the machine answers CONFLICT.
func isOwner(action string) func(c *access.Caller, x *Enquiry) error {
	return func(c *access.Caller, x *Enquiry) error {
		if err := isHandler(c, x); err != nil {
			return err
		}
		if !slices.Contains(Machine[action].From, x.Status) || x.OwnerStaffID == "" || c.ActsAsOwner(x.OwnerStaffID, x.CommunityID) {
			return nil
		}
		return ErrNotOwner
	}
}

// Take makes the caller the owner of an enquiry nobody owns yet (asked in
// the app); an owned one must be handed over.
func (s *Service) Take(ctx context.Context, c *access.Caller, id string) (*Enquiry, error) {
	return s.do(ctx, c, id, step{Action: "take", May: func(c *access.Caller, x *Enquiry) error {
		if err := isHandler(c, x); err != nil {
			return err
		}
		if x.OwnerStaffID != "" && x.OwnerStaffID != c.ID {
			return ErrNotOwner
		}
		return nil
	}, Change: func(*Enquiry, Status, time.Time) (bson.D, bson.D, error) {
		return bson.D{{Key: "ownerStaffId", Value: c.ID}}, nil, nil
	}})
}

// Answer closes an open enquiry with its outcome: the owner, or a supervisor
// standing in. Answered later than it was asked, it owes a callback. A staff
// note (notes.go) may go with it.
func (s *Service) Answer(ctx context.Context, c *access.Caller, id string, in AnswerInput, staffNotes string) (*Enquiry, error) {
	note, err := checkNote(c, "staffNotes", staffNotes)
	if err != nil {
		return nil, err
	}
	var checked AnswerInput
	return s.do(ctx, c, id, step{Action: "reply", Note: in.Text, Data: map[string]any{"outcome": string(in.Outcome)},
		May: func(c *access.Caller, x *Enquiry) error {
			if err := isOwner("reply")(c, x); err != nil {
				return err
			}
			var err error
			checked, err = s.answerFields(ctx, c, x, in)
			return err
		},
		Change: func(x *Enquiry, _ Status, now time.Time) (bson.D, bson.D, error) {
			set := bson.D{{Key: "outcome", Value: checked.Outcome}, {Key: "answer", Value: checked.Text},
				{Key: "referredTo", Value: checked.ReferredTo}, {Key: "answeredBy", Value: c.ID}, {Key: "answeredAt", Value: now}}
			if x.OwnerStaffID == "" {
				set = append(set, bson.E{Key: "ownerStaffId", Value: c.ID})
			}
			if checked.FaqEntryID != "" {
				set = append(set, bson.E{Key: "faqEntryId", Value: checked.FaqEntryID})
			}
			return set, pushNote(nil, c, note, now), nil
		}})
}

// HandOver passes an open enquiry to another front-desk staff member,
// butler or supervisor of the community, who then owns it; the timeline
// records both. note (why) is on the timeline the resident reads; what is
// noted about the resident goes in staffNotes.
func (s *Service) HandOver(ctx context.Context, c *access.Caller, id, toStaffID, note, staffNotes string) (*Enquiry, error) {
	if err := validate.ID("toStaffId", toStaffID); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	staffNote, err := checkNote(c, "staffNotes", staffNotes)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"toStaffId": toStaffID}
	return s.do(ctx, c, id, step{Action: "hand_over", Note: note, Data: data,
		May: func(c *access.Caller, x *Enquiry) error {
			if err := isOwner("hand_over")(c, x); err != nil {
				return err
			}
			if toStaffID == x.OwnerStaffID {
				return apperr.Invalid("toStaffId", "enquiry.same_owner")
			}
			st, err := s.cfg.Staff.Get(ctx, toStaffID)
			if err != nil || !st.Active || !slices.Contains(st.CommunityIDs, x.CommunityID) || !slices.ContainsFunc(deskRoles, func(r access.Role) bool { return slices.Contains(st.Roles, r) }) {
				return apperr.Invalid("toStaffId", "enquiry.not_desk_staff")
			}
			data["fromStaffId"] = x.OwnerStaffID
			return nil
		},
		Change: func(_ *Enquiry, _ Status, now time.Time) (bson.D, bson.D, error) {
			// A new owner has a fresh chance before the supervisors hear of it.
			return bson.D{{Key: "ownerStaffId", Value: toStaffID}, {Key: "escalatedAt", Value: nil}}, pushNote(nil, c, staffNote, now), nil
		}})
}

// RecordCallback records calling the resident back with an answer that was
// not given on the spot: the owner or a supervisor. notes (what was said)
// are the resident's to read too; what is noted about the resident goes in
// staffNotes.
func (s *Service) RecordCallback(ctx context.Context, c *access.Caller, id string, reached bool, notes, staffNotes string) (*Enquiry, error) {
	notes, err := validate.Text("notes", notes, false, 500)
	if err != nil {
		return nil, err
	}
	note, err := checkNote(c, "staffNotes", staffNotes)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "callback", Note: notes, Data: map[string]any{"reached": reached},
		May: func(c *access.Caller, x *Enquiry) error {
			if err := isOwner("callback")(c, x); err != nil {
				return err
			}
			if x.OnTheSpot {
				return apperr.Invalid("id", "enquiry.on_the_spot")
			}
			return nil
		},
		Change: func(_ *Enquiry, _ Status, now time.Time) (bson.D, bson.D, error) {
			cb := Callback{StaffID: c.ID, Reached: reached, Notes: notes, At: now}
			return nil, pushNote(bson.D{{Key: "$push", Value: bson.D{{Key: "callbacks", Value: cb}}}}, c, note, now), nil
		}})
}
