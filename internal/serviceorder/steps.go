package serviceorder

import (
	"context"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/validate"
)

// step is one guarded step of an order (the repair loop's shape, on the
// same lifecycle).
type step = lifecycle.Move[*Order, Status]

// do loads the order the caller may see and takes the step on it.
func (s *Service) do(ctx context.Context, c *access.Caller, id string, st step) (*Order, error) {
	o, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var out Order
	at := lifecycle.State[Status]{ID: o.ID, Status: o.Status, Version: o.Version}
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now().UTC(), o, at, st, nil, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c.ID, &out, st.Action, string(o.Status))
	return &out, nil
}

func isHousehold(c *access.Caller, o *Order) error {
	if actsForHousehold(c, o.HouseholdID) {
		return nil
	}
	return apperr.ErrForbidden
}

func isHandler(c *access.Caller, o *Order) error {
	if handles(c, o.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// isServing: the staff member assigned to the order, or a handler recording
// the step for them (cleaners often have no app).
func isServing(c *access.Caller, o *Order) error {
	if (c.IsStaff() && o.AssigneeID == c.ID) || handles(c, o.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// Cancel: the household while nobody has confirmed the order; staff (the
// community's handlers) with a reason at any time before it is done.
func (s *Service) Cancel(ctx context.Context, c *access.Caller, id, reason string) (*Order, error) {
	o, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if actsForHousehold(c, o.HouseholdID) {
		if reason, err = validate.Text("reason", reason, false, 200); err != nil {
			return nil, err
		}
		return s.do(ctx, c, id, step{Action: "cancel", Note: reason, May: isHousehold, Change: cancelled(reason)})
	}
	if !handles(c, o.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if reason, err = validate.Text("reason", reason, true, 200); err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "staff_cancel", Note: reason, May: isHandler, Change: cancelled(reason)})
}

func cancelled(reason string) func(*Order, Status, time.Time) (bson.D, bson.D, error) {
	return func(*Order, Status, time.Time) (bson.D, bson.D, error) {
		return bson.D{{Key: "cancelReason", Value: reason}}, nil, nil
	}
}

// Confirm: a handler accepts the booking and assigns a staff member of the
// community to serve it, agreeing the slot when the order has none (a
// granted order) or moving it. The confirming handler owes the callback.
func (s *Service) Confirm(ctx context.Context, c *access.Caller, id, assigneeID string, slot *SlotInput, note string) (*Order, error) {
	if err := validate.ID("assigneeId", assigneeID); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	var agreed *Slot
	return s.do(ctx, c, id, step{Action: "confirm", Note: note, Data: map[string]any{"assigneeId": assigneeID},
		May: func(c *access.Caller, o *Order) error {
			if err := isHandler(c, o); err != nil {
				return err
			}
			st, err := s.cfg.Staff.Get(ctx, assigneeID)
			if err != nil || !st.Active || !slices.Contains(st.CommunityIDs, o.CommunityID) {
				return ErrNotStaff.WithField("assigneeId")
			}
			switch {
			case slot != nil:
				// Staff agree the time with the owner: the item's windows
				// bound what owners pick, not what staff arrange.
				if agreed, err = s.slot(o.CommunityID, "slot", *slot); err != nil {
					return err
				}
				if !agreed.Start.After(s.now()) {
					return apperr.Invalid("slot.date", "serviceorder.slot_past")
				}
			case o.Slot == nil:
				return apperr.Invalid("slot", "serviceorder.slot_required")
			}
			return nil
		},
		Change: func(o *Order, _ Status, _ time.Time) (bson.D, bson.D, error) {
			set := bson.D{{Key: "handlerId", Value: c.ID}, {Key: "assigneeId", Value: assigneeID}}
			if agreed != nil {
				set = append(set, bson.E{Key: "slot", Value: agreed})
			}
			var extra bson.D
			if !slices.Contains(o.AssigneeHistory, assigneeID) {
				extra = bson.D{{Key: "$push", Value: bson.D{{Key: "assigneeHistory", Value: assigneeID}}}}
			}
			return set, extra, nil
		}})
}

// Start: service begins; for laundry this is the pick-up, with the items
// counted, their condition noted and a return date promised.
func (s *Service) Start(ctx context.Context, c *access.Caller, id string, pickup *Pickup) (*Order, error) {
	return s.do(ctx, c, id, step{Action: "start", May: isServing,
		Change: func(o *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			set, err := s.pickupChange(c, o, pickup, now)
			return set, nil, err
		}})
}

// Complete: the service is done, with any extras charged; the owner sees
// the final charges before accepting. A laundry order is done only once its
// return was checked.
func (s *Service) Complete(ctx context.Context, c *access.Caller, id string, extras []Extra, notes string) (*Order, error) {
	notes, err := validate.Text("input.notes", notes, false, 1000)
	if err != nil {
		return nil, err
	}
	if len(extras) > 20 {
		return nil, apperr.Invalid("input.extras", "input.too_many", 20)
	}
	clean := make([]Extra, len(extras))
	for i, e := range extras {
		f := "input.extras." + strconv.Itoa(i)
		if e.Name, err = validate.Text(f+".name", e.Name, true, 40); err != nil {
			return nil, err
		}
		if e.AmountFen <= 0 || e.AmountFen > 100_000_00 {
			return nil, apperr.Invalid(f+".amountFen", "input.out_of_range", 1, 100_000_00)
		}
		clean[i] = e
	}
	return s.do(ctx, c, id, step{Action: "complete", Note: notes,
		May: func(c *access.Caller, o *Order) error {
			if err := isServing(c, o); err != nil {
				return err
			}
			if o.Line.Free && len(clean) > 0 {
				return ErrChargesWhenFree.WithField("input.extras")
			}
			if o.IsLaundry() && o.Status == InService && o.Laundry.ReturnedAt == nil {
				return ErrReturnPending
			}
			return nil
		},
		Change: func(_ *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "extras", Value: clean}, {Key: "completionNotes", Value: notes}, {Key: "doneAt", Value: now}}, nil, nil
		}})
}

// Accept: the owner (or family) confirms the done order, rating it 1-5; a
// rating of 0 accepts without rating, and the owner is asked to rate later
// (as repairs do).
func (s *Service) Accept(ctx context.Context, c *access.Caller, id string, rating int, comment string) (*Order, error) {
	if rating < 0 || rating > 5 {
		return nil, apperr.Invalid("rating", "serviceorder.bad_rating")
	}
	comment, err := validate.Text("comment", comment, false, 500)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "accept", Data: map[string]any{"rating": rating}, May: isHousehold,
		Change: func(_ *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			a := Acceptance{PersonID: c.ID, Rating: rating, Comment: comment, At: now}
			return bson.D{{Key: "acceptance", Value: a}, {Key: "acceptedAt", Value: now}, {Key: "rated", Value: rating > 0}}, nil, nil
		}})
}

// Rate adds the rating to an order accepted without one, until the callback.
func (s *Service) Rate(ctx context.Context, c *access.Caller, id string, rating int, comment string) (*Order, error) {
	if rating < 1 || rating > 5 {
		return nil, apperr.Invalid("rating", "serviceorder.bad_rating")
	}
	comment, err := validate.Text("comment", comment, false, 500)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "rate", Data: map[string]any{"rating": rating},
		May: func(c *access.Caller, o *Order) error {
			if err := isHousehold(c, o); err != nil {
				return err
			}
			if o.Status == Accepted && o.Acceptance != nil && o.Acceptance.Rating > 0 {
				return ErrAlreadyRated
			}
			return nil
		},
		Change: func(_ *Order, _ Status, _ time.Time) (bson.D, bson.D, error) {
			set := bson.D{{Key: "acceptance.rating", Value: rating}, {Key: "rated", Value: true}}
			if comment != "" {
				set = append(set, bson.E{Key: "acceptance.comment", Value: comment})
			}
			return set, nil, nil
		}})
}

// Callback records the butler's (or supervisor's) callback. Satisfied or
// not, the order is called back; an unsatisfied owner's notes stay on the
// record (required then, as for repairs) for the supervisors to follow up.
func (s *Service) Callback(ctx context.Context, c *access.Caller, id string, satisfied bool, notes string) (*Order, error) {
	notes, err := validate.Text("notes", notes, !satisfied, 1000)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "callback", Note: notes, Data: map[string]any{"satisfied": satisfied}, May: isHandler,
		Change: func(_ *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "callback", Value: Callback{StaffID: c.ID, Satisfied: satisfied, Notes: notes, At: now}}}, nil, nil
		}})
}

// SetPayment records the payment of a done order's charges. Handlers record
// a payment at the counter; only the community's supervisors waive charges
// (hardship relief is their call: admins, who do not read hardship details,
// do not waive) or set a record back to unpaid, each with a reason. Free
// orders are never charged.
func (s *Service) SetPayment(ctx context.Context, c *access.Caller, id string, status PaymentStatus, reason string) (*Order, error) {
	if status != Unpaid && status != PaidAtCounter && status != Waived {
		return nil, apperr.Invalid("status", "input.bad_value")
	}
	reason, err := validate.Text("reason", reason, status != PaidAtCounter, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "payment", Note: reason, Data: map[string]any{"payment": string(status)},
		May: func(c *access.Caller, o *Order) error {
			if status == PaidAtCounter {
				if err := isHandler(c, o); err != nil {
					return err
				}
			} else if !c.SupervisesIn(o.CommunityID) {
				return apperr.ErrForbidden
			}
			if o.Line.Free {
				return apperr.Invalid("status", "serviceorder.free_never_charged")
			}
			if o.Payment.Status == status {
				return ErrPaymentSame
			}
			if status != Unpaid && o.Payment.Status != Unpaid {
				return apperr.Invalid("status", "serviceorder.bad_payment_step")
			}
			return nil
		},
		Change: func(_ *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "payment", Value: Payment{Status: status, StaffID: c.ID, At: &now, Reason: reason}}}, nil, nil
		}})
}
