package renovation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// system is the actor of the scheduler's steps (start on the start date,
// recording the cleaning order).
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:renovation", Roles: []access.Role{access.Admin}}

// step is one guarded move: who may take it, what it changes, what the
// owner is told. change runs only once the step is legal from the current
// state, so nothing (no photo) is stored for an illegal step; cleanup undoes
// what change stored when the step is not applied after all.
type step struct {
	action  string
	note    string
	data    map[string]any
	may     func(c *access.Caller, r *Renovation) error
	change  func(r *Renovation, to Status, now time.Time) (set, extra bson.D, err error)
	cleanup func()
	notice  func(out *Renovation) *notice
}

func (s *Service) do(ctx context.Context, c *access.Caller, id string, st step) (*Renovation, error) {
	r, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, c, r, st)
}

func (s *Service) apply(ctx context.Context, c *access.Caller, r *Renovation, st step) (*Renovation, error) {
	mv := lifecycle.Move[*Renovation, Status]{Action: st.action, Note: st.note, Data: st.data, May: st.may, Change: st.change}
	at := lifecycle.State[Status]{ID: r.ID, Status: r.Status, Version: r.Version}
	var out Renovation
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now().UTC(), r, at, mv, nil, &out); err != nil {
		// Whatever change stored (photos) goes with the step that was not
		// taken; before change runs there is nothing to remove.
		if st.cleanup != nil {
			st.cleanup()
		}
		return nil, err
	}
	s.publish(ctx, c, &out, st.action, string(r.Status))
	if st.notice != nil {
		s.tell(ctx, &out, st.notice(&out))
	}
	return &out, nil
}

func supervises(c *access.Caller, r *Renovation) error {
	if c.SupervisesIn(r.CommunityID) {
		return nil
	}
	return apperr.ErrForbidden
}

func isOwner(c *access.Caller, r *Renovation) error { return ownerOf(c, r.HouseholdID) }

// Resubmit replaces a returned application with the corrected one.
func (s *Service) Resubmit(ctx context.Context, c *access.Caller, id string, in Application) (*Renovation, error) {
	var docs, prev Documents
	return s.do(ctx, c, id, step{action: "resubmit", may: isOwner,
		change: func(r *Renovation, _ Status, _ time.Time) (bson.D, bson.D, error) {
			app, err := checkApplication(in, s.today(r.CommunityID))
			if err != nil {
				return nil, nil, err
			}
			prev = r.Documents
			if docs, err = s.saveDocuments(ctx, c, r, in.Documents, prev); err != nil {
				return nil, nil, err
			}
			return bson.D{{Key: "company", Value: app.company}, {Key: "workers", Value: app.workers}, {Key: "startDate", Value: app.start},
				{Key: "endDate", Value: app.end}, {Key: "scope", Value: app.scope}, {Key: "scopeTags", Value: app.tags}, {Key: "documents", Value: docs}}, nil, nil
		},
		cleanup: func() { s.files.DeleteAll(ctx, newPhotos(docs, prev)) },
	})
}

// Review is a supervisor's decision: approve, or return with reasons.
func (s *Service) Review(ctx context.Context, c *access.Caller, id string, approve bool, reasons []string, note string) (*Renovation, error) {
	reasons, err := validate.List("reasons", reasons, 10, 200)
	if err != nil {
		return nil, err
	}
	if note, err = validate.Text("note", note, false, 500); err != nil {
		return nil, err
	}
	if !approve && len(reasons) == 0 {
		return nil, apperr.Invalid("reasons", "renovation.reasons_required")
	}
	action := "return"
	if approve {
		action = "approve"
	}
	return s.do(ctx, c, id, step{action: action, note: joinNonEmpty(append(append([]string{}, reasons...), note)),
		data: map[string]any{"reasons": reasons}, may: supervises,
		change: func(r *Renovation, _ Status, now time.Time) (bson.D, bson.D, error) {
			if missing := missingDocuments(r); approve && len(missing) > 0 {
				return nil, nil, ErrDocumentsMissing.WithArgs(strings.Join(missing, "、"))
			}
			rv := Review{Approved: approve, Reasons: reasons, Note: note, ReviewerID: c.ID, At: now}
			return nil, bson.D{{Key: "$push", Value: bson.D{{Key: "reviews", Value: rv}}}}, nil
		},
		notice: func(out *Renovation) *notice { return reviewNotice(out, approve, reasons) },
	})
}

// InspectionInput is what an inspector records.
type InspectionInput struct {
	At            *time.Time // when the inspection took place; now if nil
	Result        Result
	ViolationType ViolationType
	Description   string
	Photos        []files.Upload
}

// clockSkew tolerates a phone's clock a little ahead of the server's.
const clockSkew = 5 * time.Minute

// Inspect records an inspection by the caller, staff of the community.
func (s *Service) Inspect(ctx context.Context, c *access.Caller, id string, in InspectionInput) (*Renovation, error) {
	desc, err := validate.Text("input.description", in.Description, false, 500)
	if err != nil {
		return nil, err
	}
	switch in.Result {
	case OK:
		if in.ViolationType != "" {
			return nil, apperr.Invalid("input.violationType", "renovation.violation_details")
		}
	case Violation:
		if !containsType(in.ViolationType) {
			return nil, apperr.Invalid("input.violationType", "renovation.violation_details")
		}
		if desc == "" {
			return nil, apperr.Invalid("input.description", "renovation.violation_details")
		}
	default:
		return nil, apperr.Invalid("input.result", "input.bad_value")
	}
	at := s.now().UTC()
	if in.At != nil {
		if in.At.After(at.Add(clockSkew)) {
			return nil, apperr.Invalid("input.at", "renovation.future_inspection")
		}
		at = in.At.UTC()
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	var photos []string
	return s.do(ctx, c, id, step{action: "inspect", data: map[string]any{"result": string(in.Result), "violationType": string(in.ViolationType)},
		may: func(c *access.Caller, r *Renovation) error {
			if !c.WorksIn(r.CommunityID) {
				return apperr.ErrForbidden
			}
			return nil
		},
		change: func(r *Renovation, _ Status, now time.Time) (bson.D, bson.D, error) {
			if photos, err = s.files.SaveImages(ctx, "input.photos", in.Photos, s.meta(c, r)); err != nil {
				return nil, nil, err
			}
			ins := Inspection{ID: mongo.NewID(), At: at, InspectorID: c.ID, Result: in.Result, ViolationType: in.ViolationType,
				Description: desc, Photos: photos, RecordedAt: now}
			var set bson.D
			if r.StartedAt == nil {
				set = bson.D{{Key: "startedAt", Value: now}}
			}
			extra := bson.D{{Key: "$push", Value: bson.D{{Key: "inspections", Value: ins}}}}
			if in.Result == Violation {
				extra = append(extra, bson.E{Key: "$inc", Value: bson.D{{Key: "violations", Value: 1}}})
			}
			return set, extra, nil
		},
		cleanup: func() { s.files.DeleteAll(ctx, photos) },
		notice:  func(out *Renovation) *notice { return inspectionNotice(out, s.zone(out.CommunityID)) },
	})
}

func joinNonEmpty(parts []string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "；")
}

func containsType(t ViolationType) bool {
	for _, v := range ViolationTypes {
		if v == t {
			return true
		}
	}
	return false
}

// mayComplete: the staff who accept finished works — butlers, engineers and
// supervisors of the community (and admins); not security or cleaners.
func mayComplete(c *access.Caller, r *Renovation) error {
	if c.IsAdmin() || c.StaffIn(r.CommunityID, access.Butler, access.Engineer, access.Supervisor) {
		return nil
	}
	return apperr.ErrForbidden
}

// Complete accepts the works as finished and asks for the household's free
// home cleaning. Without an orders service (or when it fails) the
// renovation records the cleaning as pending; the scheduler retries.
func (s *Service) Complete(ctx context.Context, c *access.Caller, id, note string) (*Renovation, error) {
	note, err := validate.Text("note", note, false, 500)
	if err != nil {
		return nil, err
	}
	r, err := s.do(ctx, c, id, step{action: "complete", note: note, may: mayComplete,
		change: func(_ *Renovation, _ Status, now time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "completedAt", Value: now}, {Key: "cleaningPending", Value: true}}, nil, nil
		},
		notice: completionNotice,
	})
	if err != nil {
		return nil, err
	}
	return s.orderCleaning(ctx, r), nil
}

// cleaningNote is what the cleaning order says it is for.
const cleaningNote = "装修完工赠送免费家庭保洁 (free cleaning after renovation)"

// orderCleaning makes the free cleaning order of a completed renovation and
// records it; on any failure the renovation stays pending for the next try.
func (s *Service) orderCleaning(ctx context.Context, r *Renovation) *Renovation {
	if s.cleaning == nil || !r.CleaningPending {
		return r
	}
	orderID, err := s.cleaning.CreateFreeCleaning(ctx, r.HouseholdID, CleaningSource(r.ID), cleaningNote)
	if err != nil {
		s.warn(ctx, "free cleaning order", r.ID, err)
		return r
	}
	out, err := s.apply(ctx, system, r, step{action: "cleaning_ordered", note: orderID, data: map[string]any{"orderId": orderID},
		change: func(*Renovation, Status, time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "cleaningOrderId", Value: orderID}, {Key: "cleaningPending", Value: false}}, nil, nil
		}})
	if err != nil {
		// Another server recorded it meanwhile (stale): show what is stored.
		if fresh, ferr := s.byID(ctx, r.ID); ferr == nil {
			return fresh
		}
		s.warn(ctx, "record free cleaning order", r.ID, err)
		return r
	}
	return out
}

// RequestExtension asks for a later end date; one request waits at a time.
func (s *Service) RequestExtension(ctx context.Context, c *access.Caller, id, newEndDate, reason string) (*Renovation, error) {
	reason, err := validate.Text("reason", reason, true, 200)
	if err != nil {
		return nil, err
	}
	if !validDate(newEndDate) {
		return nil, apperr.Invalid("newEndDate", "input.bad_date")
	}
	return s.do(ctx, c, id, step{action: "request_extension", note: reason, data: map[string]any{"newEndDate": newEndDate}, may: isOwner,
		change: func(r *Renovation, _ Status, now time.Time) (bson.D, bson.D, error) {
			if _, p := r.PendingExtension(); p != nil {
				return nil, nil, ErrExtensionPending
			}
			if newEndDate <= r.EndDate || daysBetween(r.StartDate, newEndDate) >= MaxTotalDays {
				return nil, nil, apperr.Invalid("newEndDate", "renovation.extension_not_later", r.EndDate, MaxTotalDays)
			}
			ext := Extension{ID: mongo.NewID(), NewEndDate: newEndDate, PreviousEndDate: r.EndDate, Reason: reason,
				Status: ExtensionPending, RequestedBy: c.ID, RequestedAt: now}
			return nil, bson.D{{Key: "$push", Value: bson.D{{Key: "extensions", Value: ext}}}}, nil
		}})
}

// DecideExtension approves (moving the end date) or refuses the pending
// extension; supervisors of the community.
func (s *Service) DecideExtension(ctx context.Context, c *access.Caller, id string, approve bool, note string) (*Renovation, error) {
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	var ext Extension
	return s.do(ctx, c, id, step{action: "decide_extension", note: note, data: map[string]any{"approved": approve}, may: supervises,
		change: func(r *Renovation, _ Status, now time.Time) (bson.D, bson.D, error) {
			i, p := r.PendingExtension()
			if p == nil {
				return nil, nil, ErrNoPendingExtension
			}
			ext = *p
			status := ExtensionRefused
			if approve {
				status = ExtensionApproved
			}
			f := "extensions." + strconv.Itoa(i) + "."
			set := bson.D{{Key: f + "status", Value: status}, {Key: f + "decidedBy", Value: c.ID}, {Key: f + "decidedAt", Value: now}, {Key: f + "note", Value: note}}
			if approve {
				set = append(set, bson.E{Key: "endDate", Value: p.NewEndDate})
			}
			return set, nil, nil
		},
		notice: func(out *Renovation) *notice { return extensionNotice(out, ext, approve, note) },
	})
}

// Start moves an approved renovation into the works (the scheduler, on the
// start date).
func (s *Service) start(ctx context.Context, r *Renovation) (*Renovation, error) {
	return s.apply(ctx, system, r, step{action: "start", note: "开工日期已到 (start date reached)",
		change: func(*Renovation, Status, time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "startedAt", Value: s.now().UTC()}}, nil, nil
		}})
}

func (s *Service) warn(ctx context.Context, what, id string, err error) {
	if s.log != nil && !errors.Is(err, context.Canceled) {
		s.log.WarnContext(ctx, what, "renovation", id, "err", fmt.Sprint(err))
	}
}
