package repair

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// step is one guarded step of a request.
type step = lifecycle.Move[*Request, Status]

// do loads the request the caller may see and takes the step on it; every
// step sets the deadline of the stage it enters (a hand-over keeps the
// state, and so the deadline).
func (s *Service) do(ctx context.Context, c *access.Caller, id string, st step) (*Request, error) {
	r, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return s.doOn(ctx, c, r, st)
}

// doOn is do on a request already loaded and checked with Get.
func (s *Service) doOn(ctx context.Context, c *access.Caller, r *Request, st step) (*Request, error) {
	var out Request
	at := lifecycle.State[Status]{ID: r.ID, Status: r.Status, Version: r.Version}
	deadline := func(r *Request, to Status) bson.D { return bson.D{{Key: "nextDeadline", Value: nextDeadline(r, to)}} }
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now().UTC(), r, at, st, deadline, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, &out, st.Action, string(r.Status))
	return &out, nil
}

// nextDeadline is the deadline of the stage the request enters.
func nextDeadline(r *Request, to Status) *time.Time {
	switch to {
	case Submitted:
		return &r.Deadlines.RespondBy
	case Taken, Dispatched, Accepted:
		return &r.Deadlines.ArriveBy
	case InProgress:
		return &r.Deadlines.FinishBy
	}
	return nil
}

func isMember(c *access.Caller, r *Request) error {
	if _, ok := c.RoleIn(r.HouseholdID); ok && !r.IsPublic() {
		return nil
	}
	return apperr.ErrForbidden
}

// mayCancel: the household; for a public-area fault, whoever put it on
// record (the staff member who filed it) and the community's handlers, while
// nobody is on the way.
func mayCancel(c *access.Caller, r *Request) error {
	if !r.IsPublic() {
		return isMember(c, r)
	}
	if (r.FiledByStaffID != "" && r.FiledByStaffID == c.ID && c.WorksIn(r.CommunityID)) || handles(c, r.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// signsOff: a household member signs for a home; a supervisor of the
// community for a public area (there is no owner to ask).
func signsOff(c *access.Caller, r *Request) error {
	if !r.IsPublic() {
		return isMember(c, r)
	}
	if c.SupervisesIn(r.CommunityID) {
		return nil
	}
	return ErrNotSupervisor
}

func isHandler(c *access.Caller, r *Request) error {
	if handles(c, r.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

// isOwner is the first-contact rule (首问责任制) for the steps that move a
// request on its owner's behalf (dispatch, callback, close): the staff member
// who took it or to whom it was handed over, or a supervisor of the
// community standing in. Any other handler must have it handed over first,
// so a request never has two people dispatching or closing it.
//
// From a state where action is illegal anyway, only the handler check
// applies, so the machine answers CONFLICT as for everyone.
func isOwner(action string) func(c *access.Caller, r *Request) error {
	return func(c *access.Caller, r *Request) error {
		if err := isHandler(c, r); err != nil {
			return err
		}
		if !slices.Contains(Machine[action].From, r.Status) {
			return nil
		}
		if c.ActsAsOwner(r.OwnerStaffID, r.CommunityID) {
			return nil
		}
		return ErrNotOwner
	}
}

// isAssignedEngineer: the engineer of the current work order, nobody else.
func isAssignedEngineer(c *access.Caller, r *Request) error {
	if w := r.Current(); w != nil && w.EngineerID == c.ID && c.IsStaff() {
		return nil
	}
	return ErrNotYourOrder
}

// Cancel: the household, while nobody is on the way.
func (s *Service) Cancel(ctx context.Context, c *access.Caller, id, reason string) (*Request, error) {
	reason, err := validate.Text("reason", reason, false, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "cancel", Note: reason, May: mayCancel, Change: func(r *Request, _ Status, _ time.Time) (bson.D, bson.D, error) {
		if r.Status != Dispatched {
			return nil, nil, nil
		}
		// The engineer had not set out: their order is withdrawn with the request.
		return append(setCurrent(r, bson.D{{Key: "status", Value: "CANCELLED"}}), bson.E{Key: "engineerId", Value: ""}), nil, nil
	}})
}

// Take makes the caller the request's owner until it is closed (首问责任制).
func (s *Service) Take(ctx context.Context, c *access.Caller, id string) (*Request, error) {
	return s.do(ctx, c, id, step{Action: "take", May: isHandler, Change: func(r *Request, _ Status, _ time.Time) (bson.D, bson.D, error) {
		return bson.D{{Key: "ownerStaffId", Value: c.ID}}, nil, nil
	}})
}

// HandOver passes ownership explicitly to another butler or supervisor of
// the community; the owner or a supervisor may do it.
func (s *Service) HandOver(ctx context.Context, c *access.Caller, id, toStaffID, note string) (*Request, error) {
	if err := validate.ID("toStaffId", toStaffID); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	var to *staff.Staff
	return s.do(ctx, c, id, step{Action: "hand_over", Note: note, Data: map[string]any{"toStaffId": toStaffID},
		May: func(c *access.Caller, r *Request) error {
			if !c.ActsAsOwner(r.OwnerStaffID, r.CommunityID) && !c.IsAdmin() {
				return ErrNotOwner
			}
			if toStaffID == r.OwnerStaffID {
				return apperr.Invalid("toStaffId", "repair.same_owner")
			}
			st, err := s.staff.Get(ctx, toStaffID)
			if err != nil || !st.MayOwnRequestsIn(r.CommunityID) {
				return apperr.Invalid("toStaffId", "repair.not_handler")
			}
			to = st
			return nil
		},
		Change: func(r *Request, _ Status, _ time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "ownerStaffId", Value: to.ID}}, nil, nil
		}})
}

// Dispatch sends the request to an engineer of the community as a new work
// order of the current round.
func (s *Service) Dispatch(ctx context.Context, c *access.Caller, id, engineerID, note string) (*Request, error) {
	if err := validate.ID("engineerId", engineerID); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "dispatch", Note: note, Data: map[string]any{"engineerId": engineerID},
		May: func(c *access.Caller, r *Request) error {
			if err := isOwner("dispatch")(c, r); err != nil {
				return err
			}
			st, err := s.staff.Get(ctx, engineerID)
			if err != nil || !st.Active || !slices.Contains(st.CommunityIDs, r.CommunityID) || !slices.Contains(st.Roles, access.Engineer) {
				return ErrNotEngineer.WithField("engineerId")
			}
			return nil
		},
		Change: func(r *Request, _ Status, now time.Time) (bson.D, bson.D, error) {
			w := WorkOrder{ID: mongo.NewID(), Round: r.Round, EngineerID: engineerID, DispatchedBy: c.ID, DispatchedAt: now,
				Status: "PENDING", BeforePhotos: []string{}, AfterPhotos: []string{}, Materials: []Material{}, Notes: note}
			set := bson.D{{Key: "engineerId", Value: engineerID}}
			push := bson.D{{Key: "workOrders", Value: w}}
			if !slices.Contains(r.EngineerHistory, engineerID) {
				push = append(push, bson.E{Key: "engineerHistory", Value: engineerID})
			}
			return set, bson.D{{Key: "$push", Value: push}}, nil
		}})
}

// setCurrent sets fields of the current work order. Positional updates are
// not available everywhere, so the index is written out: the version guard
// makes that safe.
func setCurrent(r *Request, fields bson.D) bson.D {
	i := len(r.WorkOrders) - 1
	out := make(bson.D, 0, len(fields))
	for _, f := range fields {
		out = append(out, bson.E{Key: "workOrders." + itoa(i) + "." + f.Key, Value: f.Value})
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// Accept: the engineer takes the order and is on the way.
func (s *Service) Accept(ctx context.Context, c *access.Caller, id string) (*Request, error) {
	return s.do(ctx, c, id, step{Action: "accept", May: isAssignedEngineer, Change: func(r *Request, _ Status, now time.Time) (bson.D, bson.D, error) {
		return setCurrent(r, bson.D{{Key: "status", Value: "ACCEPTED"}, {Key: "acceptedAt", Value: now}}), nil, nil
	}})
}

// Decline: the engineer refuses with a reason; the request waits for another dispatch.
func (s *Service) Decline(ctx context.Context, c *access.Caller, id, reason string) (*Request, error) {
	reason, err := validate.Text("reason", reason, true, 200)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "decline", Note: reason, May: isAssignedEngineer, Change: func(r *Request, _ Status, _ time.Time) (bson.D, bson.D, error) {
		set := setCurrent(r, bson.D{{Key: "status", Value: "DECLINED"}, {Key: "declineReason", Value: reason}})
		return append(set, bson.E{Key: "engineerId", Value: ""}), nil, nil
	}})
}

// Start: the engineer is on site, with photos of the fault before work.
func (s *Service) Start(ctx context.Context, c *access.Caller, id string, before []files.Upload) (*Request, error) {
	var photos []string
	r, err := s.do(ctx, c, id, step{Action: "start",
		May: func(c *access.Caller, r *Request) error {
			if err := isAssignedEngineer(c, r); err != nil {
				return err
			}
			if r.Status != Accepted {
				return nil // the machine refuses it; store nothing
			}
			if len(before) > files.MaxImagesPerStep {
				return apperr.Invalid("beforePhotos", "input.too_many", files.MaxImagesPerStep)
			}
			var err error
			photos, err = s.savePhotos(ctx, c, r, "beforePhotos", before)
			return err
		},
		Change: func(r *Request, _ Status, now time.Time) (bson.D, bson.D, error) {
			return setCurrent(r, bson.D{{Key: "status", Value: "STARTED"}, {Key: "startedAt", Value: now}, {Key: "beforePhotos", Value: photos}}), nil, nil
		}})
	if err != nil {
		s.dropFiles(ctx, photos)
	}
	return r, err
}

// CompleteInput is the engineer's record of the job.
type CompleteInput struct {
	AfterPhotos  []files.Upload
	Materials    []Material
	Paid         bool
	LabourFeeFen int64
	Notes        string
}

// Complete: the work is done; the owner sees the charges before signing off.
func (s *Service) Complete(ctx context.Context, c *access.Caller, id string, in CompleteInput) (*Request, error) {
	notes, err := validate.Text("input.notes", in.Notes, false, 1000)
	if err != nil {
		return nil, err
	}
	if len(in.Materials) > 50 {
		return nil, apperr.Invalid("input.materials", "input.too_many", 50)
	}
	for i, m := range in.Materials {
		field := "input.materials." + itoa(i)
		if m.Name, err = validate.Text(field+".name", m.Name, true, 60); err != nil {
			return nil, err
		}
		if m.UnitPriceFen < 0 || m.UnitPriceFen > 100_000_00 {
			return nil, apperr.Invalid(field+".unitPriceFen", "input.out_of_range", 0, 100_000_00)
		}
		// Only company-supplied materials of a paid repair are charged; the
		// others must still not round to nothing.
		charged := m.UnitPriceFen
		if !in.Paid || m.SuppliedByOwn {
			charged = 0
		}
		milli, err := validate.Quantity(field+".quantity", m.Quantity, 10000, charged)
		if err != nil {
			return nil, err
		}
		m.Quantity = float64(milli) / 1000
		in.Materials[i] = m
	}
	if in.LabourFeeFen < 0 || in.LabourFeeFen > 100_000_00 {
		return nil, apperr.Invalid("input.labourFeeFen", "input.out_of_range", 0, 100_000_00)
	}
	if !in.Paid && in.LabourFeeFen > 0 {
		return nil, ErrChargesWhenFree.WithField("input.labourFeeFen")
	}
	if in.Materials == nil {
		in.Materials = []Material{}
	}
	var photos []string
	r, err := s.do(ctx, c, id, step{Action: "complete", Note: notes,
		May: func(c *access.Caller, r *Request) error {
			if err := isAssignedEngineer(c, r); err != nil {
				return err
			}
			if r.Status != InProgress {
				return nil
			}
			if len(in.AfterPhotos) > files.MaxImagesPerStep {
				return apperr.Invalid("input.afterPhotos", "input.too_many", files.MaxImagesPerStep)
			}
			var err error
			photos, err = s.savePhotos(ctx, c, r, "input.afterPhotos", in.AfterPhotos)
			return err
		},
		Change: func(r *Request, _ Status, now time.Time) (bson.D, bson.D, error) {
			return setCurrent(r, bson.D{
				{Key: "status", Value: "COMPLETED"}, {Key: "completedAt", Value: now}, {Key: "afterPhotos", Value: photos},
				{Key: "materials", Value: in.Materials}, {Key: "paid", Value: in.Paid}, {Key: "labourFeeFen", Value: in.LabourFeeFen},
			}), nil, nil
		}})
	if err != nil {
		s.dropFiles(ctx, photos)
	}
	return r, err
}

// Confirm: a member of the household checks the result and signs for it.
// A rating of 0 signs without rating; the owner is asked to rate later.
func (s *Service) Confirm(ctx context.Context, c *access.Caller, id string, signature files.Upload, rating int, comment string) (*Request, error) {
	return s.confirm(ctx, c, id, signature, rating, comment, nil)
}

// ConfirmOnBehalf records the sign-off of a resident without the app on
// site: the engineer of the current work order or a butler or supervisor of
// the community holds the staff device, the member named in on signs on it,
// and the timeline says so (channel VISIT). The acceptance is the member's,
// as if they had signed in their own app; the callback follows by phone.
func (s *Service) ConfirmOnBehalf(ctx context.Context, c *access.Caller, id string, signature files.Upload, rating int, comment string, on intake.Input) (*Request, error) {
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	if on.Channel != intake.Visit {
		return nil, apperr.Invalid("onBehalf.channel", "intake.visit_only")
	}
	return s.confirm(ctx, c, id, signature, rating, comment, &on)
}

func (s *Service) confirm(ctx context.Context, c *access.Caller, id string, signature files.Upload, rating int, comment string, on *intake.Input) (*Request, error) {
	if rating < 0 || rating > 5 {
		return nil, apperr.Invalid("rating", "repair.bad_rating")
	}
	comment, err := validate.Text("comment", comment, false, 500)
	if err != nil {
		return nil, err
	}
	if signature.Content == nil {
		return nil, apperr.Invalid("signature", "input.required")
	}
	r, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	action := "confirm"
	if !r.OwesCallback() {
		action = "sign_off_close" // nobody to call back: the sign-off closes it
	}
	signer, data := c.ID, map[string]any{"rating": rating}
	if on != nil {
		signer = on.PersonID
		data["channel"], data["personId"] = string(on.Channel), on.PersonID
	}
	var sig string
	r, err = s.doOn(ctx, c, r, step{Action: action, Data: data,
		May: func(c *access.Caller, r *Request) error {
			if on == nil {
				if err := signsOff(c, r); err != nil {
					return err
				}
			} else {
				if r.IsPublic() {
					return apperr.ErrForbidden // a supervisor signs a public fault, on nobody's behalf
				}
				if isAssignedEngineer(c, r) != nil && !handles(c, r.CommunityID) {
					return apperr.ErrForbidden
				}
				if _, err := intake.MemberRole(ctx, s.households, r.HouseholdID, on.PersonID, "onBehalf.personId"); err != nil {
					return err
				}
			}
			if r.Status != Completed {
				return nil
			}
			ids, err := s.savePhotos(ctx, c, r, "signature", []files.Upload{signature})
			if err == nil {
				sig = ids[0]
			}
			if e, ok := apperr.As(err); ok && e.Field == "signature.0" {
				return e.WithField("signature")
			}
			return err
		},
		Change: func(r *Request, _ Status, now time.Time) (bson.D, bson.D, error) {
			a := Acceptance{Round: r.Round, PersonID: signer, SignatureID: sig, Rating: rating, Comment: comment, At: now}
			switch {
			case r.IsPublic():
				a.PersonID, a.StaffID = "", c.ID
			case on != nil:
				a.RecordedBy, a.Channel = c.ID, on.Channel
			}
			set := bson.D{{Key: "confirmedAt", Value: now}, {Key: "rated", Value: rating > 0}}
			return set, bson.D{{Key: "$push", Value: bson.D{{Key: "acceptances", Value: a}}}}, nil
		}})
	if err != nil && sig != "" {
		s.dropFiles(ctx, []string{sig})
	}
	return r, err
}

// Rate adds the owner's rating to a round signed without one.
func (s *Service) Rate(ctx context.Context, c *access.Caller, id string, rating int, comment string) (*Request, error) {
	if rating < 1 || rating > 5 {
		return nil, apperr.Invalid("rating", "repair.bad_rating")
	}
	comment, err := validate.Text("comment", comment, false, 500)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, c, id, step{Action: "rate", Data: map[string]any{"rating": rating},
		May: func(c *access.Caller, r *Request) error {
			if err := signsOff(c, r); err != nil {
				return err
			}
			if len(r.Acceptances) == 0 || r.Acceptances[len(r.Acceptances)-1].Rating > 0 {
				return apperr.New(apperr.Conflict, "repair.already_rated")
			}
			return nil
		},
		Change: func(r *Request, _ Status, _ time.Time) (bson.D, bson.D, error) {
			i := itoa(len(r.Acceptances) - 1)
			set := bson.D{{Key: "acceptances." + i + ".rating", Value: rating}, {Key: "rated", Value: true}}
			if comment != "" {
				set = append(set, bson.E{Key: "acceptances." + i + ".comment", Value: comment})
			}
			return set, nil, nil
		}})
}

// SignedOffBefore lists requests signed off before t that still wait for a
// callback: the reminders' work list, oldest first, bounded.
func (s *Service) SignedOffBefore(ctx context.Context, t time.Time, limit int) ([]*Request, error) {
	cur, err := s.col.Find(ctx, bson.D{{Key: "status", Value: Confirmed}, {Key: "confirmedAt", Value: bson.D{{Key: "$lt", Value: t}}}},
		options.Find().SetSort(bson.D{{Key: "confirmedAt", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("signed-off requests: %w", err)
	}
	var out []*Request
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("signed-off requests: %w", err)
	}
	return out, nil
}

// Callback records the butler's callback. Satisfied closes the request; not
// satisfied reopens it for another round with fresh deadlines.
func (s *Service) Callback(ctx context.Context, c *access.Caller, id string, satisfied bool, notes string) (*Request, error) {
	notes, err := validate.Text("notes", notes, !satisfied, 1000)
	if err != nil {
		return nil, err
	}
	action := "callback_closed"
	if !satisfied {
		action = "callback_reopen"
	}
	return s.do(ctx, c, id, step{Action: action, Note: notes, Data: map[string]any{"satisfied": satisfied},
		May: isOwner(action),
		Change: func(r *Request, to Status, now time.Time) (bson.D, bson.D, error) {
			cb := Callback{Round: r.Round, StaffID: c.ID, Satisfied: satisfied, Notes: notes, At: now}
			push := bson.D{{Key: "callbacks", Value: cb}}
			if satisfied {
				return nil, bson.D{{Key: "$push", Value: push}}, nil
			}
			dl, err := s.deadlinesFor(ctx, r.CommunityID, r.Urgency)
			if err != nil {
				return nil, nil, err
			}
			// The finished round's deadlines stay on record (PastDeadlines).
			push = append(push, bson.E{Key: "pastDeadlines", Value: RoundDeadlines{Round: r.Round, Deadlines: r.Deadlines}})
			r.Deadlines = Deadlines{RespondBy: now, ArriveBy: now.Add(dl.Arrive), FinishBy: now.Add(dl.Finish)}
			set := bson.D{{Key: "deadlines", Value: r.Deadlines}, {Key: "engineerId", Value: ""}}
			return set, bson.D{{Key: "$push", Value: push}, {Key: "$inc", Value: bson.D{{Key: "round", Value: 1}}}}, nil
		}})
}

// DeadlineSet is the time allowed for each stage.
type DeadlineSet struct {
	Respond, Arrive, Finish time.Duration
}

var defaultDeadlines = map[Urgency]DeadlineSet{
	Low:       {4 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour},
	Normal:    {30 * time.Minute, 4 * time.Hour, 24 * time.Hour},
	Urgent:    {15 * time.Minute, time.Hour, 8 * time.Hour},
	Emergency: {5 * time.Minute, 30 * time.Minute, 4 * time.Hour},
}

type deadlineDoc struct {
	ID        string                    `bson:"_id"`
	Urgencies map[string]map[string]int `bson:"urgencies"` // minutes: respond, arrive, finish
}

func (s *Service) deadlinesFor(ctx context.Context, communityID string, u Urgency) (DeadlineSet, error) {
	d := defaultDeadlines[u]
	var doc deadlineDoc
	err := s.deadlines.FindOne(ctx, bson.D{{Key: "_id", Value: communityID}}).Decode(&doc)
	if err != nil {
		if errors.Is(err, mgoErrNoDocuments) {
			return d, nil
		}
		return d, err
	}
	if m, ok := doc.Urgencies[string(u)]; ok {
		d = DeadlineSet{time.Duration(m["respond"]) * time.Minute, time.Duration(m["arrive"]) * time.Minute, time.Duration(m["finish"]) * time.Minute}
	}
	return d, nil
}

// Deadlines returns the community's deadlines per urgency.
func (s *Service) Deadlines(ctx context.Context, c *access.Caller, communityID string) (map[Urgency]DeadlineSet, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !c.WorksIn(communityID) {
		return nil, apperr.ErrForbidden
	}
	out := map[Urgency]DeadlineSet{}
	for _, u := range Urgencies {
		d, err := s.deadlinesFor(ctx, communityID, u)
		if err != nil {
			return nil, err
		}
		out[u] = d
	}
	return out, nil
}

// SetDeadlines changes one urgency's deadlines for a community, in minutes:
// supervisors. Requests already submitted keep the deadlines they were given.
func (s *Service) SetDeadlines(ctx context.Context, c *access.Caller, communityID string, u Urgency, respond, arrive, finish int) error {
	if err := validate.ID("communityId", communityID); err != nil {
		return err
	}
	if !c.SupervisesIn(communityID) && !c.IsAdmin() {
		return apperr.ErrForbidden
	}
	if !slices.Contains(Urgencies, u) {
		return apperr.Invalid("urgency", "input.bad_value")
	}
	// Bounded before any arithmetic, so no value can wrap into a short one.
	const maxMinutes = 90 * 24 * 60
	if respond <= 0 || arrive < respond || finish < arrive || finish > maxMinutes {
		return apperr.Invalid("deadlines", "repair.bad_deadlines")
	}
	_, err := s.deadlines.UpdateOne(ctx, bson.D{{Key: "_id", Value: communityID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "urgencies." + string(u), Value: bson.D{
			{Key: "respond", Value: respond}, {Key: "arrive", Value: arrive}, {Key: "finish", Value: finish},
		}}}}}, optUpsert)
	return err
}

// AwaitingCallbackIn lists a community's signed-off requests waiting for
// their callback, oldest sign-off first: the butler task list shows them.
func (s *Service) AwaitingCallbackIn(ctx context.Context, communityID string, limit int) ([]*Request, error) {
	cur, err := s.col.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: Confirmed}},
		// sortKey runs newest first; backwards on the queue's index is oldest
		// first, so a long list is cut at the newest, never the most overdue.
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: -1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("requests awaiting callback in %s: %w", communityID, err)
	}
	var out []*Request
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("requests awaiting callback in %s: %w", communityID, err)
	}
	return out, nil
}
