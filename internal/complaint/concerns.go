package complaint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// MaxConcerns is how many staff members one complaint may name: a
// complaint about a whole team names the team's lead, not its roster.
const MaxConcerns = 5

// setConcerns is the step's action, also the timeline entries redaction
// drops for residents.
const setConcerns = "set_concerns"

// concernsVisible: whom a complaint names is for the community's staff who
// may see it; the complainant's household never learns it, so a resident
// cannot be pressed about a named colleague nor read the company's verdict.
func concernsVisible(c *access.Caller, x *Complaint) bool {
	return c.IsStaff() && c.WorksIn(x.CommunityID)
}

// hideConcerns is x without the staff it names and without the steps that
// named them, for a caller who may not learn them.
func hideConcerns(c *access.Caller, x *Complaint) *Complaint {
	if concernsVisible(c, x) {
		return x
	}
	named := slices.ContainsFunc(x.Timeline, func(e lifecycle.Entry) bool { return e.Action == setConcerns })
	if len(x.ConcernsStaffIDs) == 0 && !named {
		return x
	}
	y := *x
	y.ConcernsStaffIDs = nil
	y.Timeline = slices.DeleteFunc(slices.Clone(x.Timeline), func(e lifecycle.Entry) bool { return e.Action == setConcerns })
	return &y
}

// maySetConcerns: the community's supervisors (and admins), and the
// complaint's handler, who investigated it.
func maySetConcerns(c *access.Caller, x *Complaint) error {
	if c.IsAdmin() || c.SupervisesIn(x.CommunityID) {
		return nil
	}
	if handles(c, x.CommunityID) && x.HandlerStaffID != "" && c.ID == x.HandlerStaffID {
		return nil
	}
	return apperr.ErrForbidden
}

// SetConcerns names the staff members complaint id is about (replacing any
// named before; an empty list clears them). version, when given, must be
// the complaint's current version (CONFLICT otherwise), so a supervisor
// does not overwrite a naming they have not seen.
func (s *Service) SetConcerns(ctx context.Context, c *access.Caller, id string, version *int, staffIDs []string, note string) (*Complaint, error) {
	ids := dedupe(staffIDs)
	if err := validate.IDs("staffIds", ids, MaxConcerns); err != nil {
		return nil, err
	}
	note, err := validate.Text("note", note, false, 200)
	if err != nil {
		return nil, err
	}
	x, err := s.get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := maySetConcerns(c, x); err != nil {
		return nil, err
	}
	if version != nil && *version != x.Version {
		return nil, lifecycle.ErrStale
	}
	if err := s.checkConcerns(ctx, x.CommunityID, ids); err != nil {
		return nil, err
	}
	st := step{Action: setConcerns, Note: note, Data: map[string]any{"staffIds": ids}, May: maySetConcerns,
		Change: func(*Complaint, Status, time.Time) (bson.D, bson.D, error) {
			return bson.D{{Key: "concernsStaffIds", Value: ids}}, nil, nil
		}}
	var out Complaint
	at := lifecycle.State[Status]{ID: x.ID, Status: x.Status, Version: x.Version}
	if _, err := lifecycle.Take(ctx, s.steps, Machine, c, s.now().UTC(), x, at, st, nil, &out); err != nil {
		return nil, err
	}
	s.publishToStaff(ctx, c, &out)
	return redact(c, &out), nil
}

// checkConcerns: every id an active staff member of the community.
func (s *Service) checkConcerns(ctx context.Context, communityID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if s.staff == nil {
		return errors.New("complaint: no staff directory to name staff with")
	}
	m, err := s.staff.ByIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("staff named by complaint: %w", err)
	}
	for _, id := range ids {
		if st := m[id]; st == nil || !st.Active || !slices.Contains(st.CommunityIDs, communityID) {
			return apperr.Invalid("staffIds", "complaint.concerns_not_staff")
		}
	}
	return nil
}

// publishToStaff tells the community's staff the complaint changed. Unlike
// the other steps it carries no household: residents following their
// household's events must not learn that staff were named.
func (s *Service) publishToStaff(ctx context.Context, c *access.Caller, x *Complaint) {
	if s.bus == nil {
		return
	}
	e := events.Event{Type: "complaint." + setConcerns, CommunityID: x.CommunityID, SubjectID: x.ID, ActorID: c.ID,
		Data: map[string]any{"action": setConcerns, "status": string(x.Status), "version": x.Version, "anonymous": x.Anonymous}}
	if err := s.bus.Publish(context.WithoutCancel(ctx), e); err != nil && s.log != nil {
		s.log.WarnContext(ctx, "publish complaint event", "complaint", x.ID, "action", setConcerns, "err", err)
	}
}

func dedupe(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// reviewFields are what a staff review reads of a complaint naming someone:
// when, what kind, whom; never who made it nor what it says.
var reviewFields = bson.D{
	{Key: "submittedAt", Value: 1}, {Key: "category", Value: 1}, {Key: "severity", Value: 1},
	{Key: "status", Value: 1}, {Key: "concernsStaffIds", Value: 1},
}

// ForReview streams, in one indexed query, the community's complaints
// received in [from, to) that name any of staffIDs, withdrawn ones left
// out (the complainant took them back), with only reviewFields.
func (s *Service) ForReview(ctx context.Context, communityID string, staffIDs []string, from, to time.Time, fn func(*Complaint) error) error {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "concernsStaffIds", Value: bson.D{{Key: "$in", Value: staffIDs}}},
		{Key: "submittedAt", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}},
		{Key: "status", Value: bson.D{{Key: "$ne", Value: string(Withdrawn)}}}}
	return mongo.Stream(ctx, s.col, q, reviewFields, "complaints for review", fn)
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"complaint.concerns_not_staff": {ZH: "所选员工不在本小区任职", EN: "names someone who is not an active staff member of this complaint's community"},
	})
	mongo.Declare(mongo.Indexes{Collection: "complaints", Models: []mgo.IndexModel{
		// The monthly staff review: complaints naming a batch of staff.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "concernsStaffIds", Value: 1}, {Key: "submittedAt", Value: 1}}},
	}})
}
