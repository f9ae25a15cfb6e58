package freeservice

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/repair"
)

// MaxNote bounds a visit's note (the problem's description).
const MaxNote = 500

// FilePurpose marks photos of visits (done or nobody home); photos of a
// problem found belong to its repair request.
const FilePurpose = "freeservice_visit"

// actions of recording a result.
var resultActions = map[Status]string{Done: "done", NotHome: "not_home", ProblemFound: "problem_found"}

// RecordInput is a visit's result for one household.
type RecordInput struct {
	CampaignID  string
	HouseholdID string
	// Cycle is the cycle visited; 0 is the current one. An earlier cycle
	// may be recorded late (results typed in after the last visit day,
	// when the next cycle has already opened).
	Cycle  int
	Result Status // DONE, NOT_HOME or PROBLEM_FOUND
	Note   string // required for PROBLEM_FOUND: it describes the problem
	Photos []files.Upload
	// For PROBLEM_FOUND: the repair request's category (OTHER when empty)
	// and urgency (NORMAL when empty; a gas leak is EMERGENCY).
	RepairCategory repair.Category
	Urgency        repair.Urgency
}

// recordsVisits: staff who go into homes, of the campaign's community.
func recordsVisits(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor, access.Engineer)
}

// Record stores a visit's result for a household, booked or not (staff
// also knock on doors). PROBLEM_FOUND files a repair request for the
// household through the repair loop and links it on the visit.
func (s *Service) Record(ctx context.Context, c *access.Caller, in RecordInput) (*Visit, error) {
	if err := validIDs("input.campaignId", in.CampaignID, "input.householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	action, ok := resultActions[in.Result]
	if !ok {
		return nil, apperr.Invalid("input.result", "input.bad_value")
	}
	note, err := validate.Text("input.description", in.Note, false, MaxNote)
	if err != nil {
		return nil, err
	}
	if in.Result == ProblemFound && note == "" {
		return nil, apperr.Invalid("input.description", "freeservice.description")
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	x, err := mongo.FindByID[Campaign](ctx, s.campaigns, in.CampaignID, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !c.WorksIn(x.CommunityID) {
		return nil, ErrNotFound
	}
	if !recordsVisits(c, x.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	cycle := in.Cycle
	if cycle == 0 {
		cycle = x.CurrentCycle
	}
	if cycle < 1 || cycle > x.CurrentCycle {
		return nil, apperr.Invalid("input.cycle", "freeservice.bad_cycle", x.CurrentCycle)
	}
	h, err := s.households.Get(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if !x.Covers(h) {
		return nil, ErrNotCovered.WithField("input.householdId")
	}
	id := visitID(x.ID, cycle, h.ID)
	v, err := s.visit(ctx, id)
	if err != nil {
		return nil, err
	}
	version := 0
	if v != nil {
		if _, err := Machine.Next(action, v.Status); err != nil {
			return nil, err
		}
		version = v.Version
	}
	now := s.now().UTC()
	res := result{status: in.Result, action: action, note: note, by: c.ID, at: now}
	if in.Result == ProblemFound {
		// The source names the visit and the version the result is recorded
		// on: a retry after a failure below files nothing twice.
		r, err := s.repairs.FileForHousehold(ctx, c, repair.FileInput{
			HouseholdID: h.ID, Category: orDefault(in.RepairCategory, "OTHER"), Urgency: in.Urgency, Photos: in.Photos,
			Description: x.Title + "：" + note, Source: fmt.Sprintf("freeservice-visit:%s:v%d", id, version),
		})
		if err != nil {
			return nil, err
		}
		res.photos, res.repairID = r.Photos, r.ID
	} else if res.photos, err = s.files.SaveImages(ctx, "input.photos", in.Photos, files.Meta{
		Purpose: FilePurpose, SubjectID: id, CommunityID: x.CommunityID, UploadedBy: c.ID}); err != nil {
		return nil, err
	}
	res.photos = nonNil(res.photos)
	out, err := s.record(ctx, c, x, h, cycle, v, res)
	if err != nil {
		if in.Result != ProblemFound {
			s.files.DeleteAll(context.WithoutCancel(ctx), res.photos)
		}
		return nil, err
	}
	s.publish(ctx, c, "record", out.CommunityID, out.HouseholdID, out.ID, map[string]any{
		"version": out.Version, "status": string(out.Status), "repairRequestId": out.RepairRequestID, "summary": x.Title})
	return out, nil
}

// result is what a visit record stores.
type result struct {
	status           Status
	action, note, by string
	at               time.Time
	photos           []string
	repairID         string
}

// record inserts the household's visit document with the result, or steps
// the existing one; an insert that finds one already there (a booking just
// made) steps that one.
func (s *Service) record(ctx context.Context, c *access.Caller, x *Campaign, h *household.Household, cycle int, v *Visit, r result) (*Visit, error) {
	entry := lifecycle.Entry{At: r.at, Action: r.action, To: string(r.status), ActorID: c.ID, ActorKind: string(c.Kind), Note: r.note}
	if v == nil {
		at := r.at
		nv := &Visit{
			ID: visitID(x.ID, cycle, h.ID), CampaignID: x.ID, CommunityID: x.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID,
			Cycle: cycle, Status: r.status, Version: 1, Note: r.note, Photos: r.photos, RecordedBy: r.by, RecordedAt: &at,
			RepairRequestID: r.repairID, Timeline: []lifecycle.Entry{entry}, CreatedAt: r.at, UpdatedAt: r.at,
		}
		_, err := s.visits.InsertOne(ctx, nv)
		if err == nil {
			return nv, nil
		}
		if !mongo.IsDuplicate(err) {
			return nil, fmt.Errorf("insert visit: %w", err)
		}
		if v, err = s.visit(ctx, nv.ID); err != nil || v == nil {
			return nil, cmp.Or[error](err, lifecycle.ErrStale)
		}
	}
	to, err := Machine.Next(r.action, v.Status)
	if err != nil {
		return nil, err
	}
	entry.From, entry.To = string(v.Status), string(to)
	set := bson.D{{Key: "note", Value: r.note}, {Key: "photos", Value: r.photos}, {Key: "recordedBy", Value: r.by},
		{Key: "recordedAt", Value: r.at}, {Key: "repairRequestId", Value: r.repairID}}
	var out Visit
	if err := s.steps.Apply(ctx, v.ID, v.Version, entry, set, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func orDefault(c repair.Category, def repair.Category) repair.Category {
	if c == "" {
		return def
	}
	return c
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// MayReadFile: a visit's photos are for the staff of its community and the
// household's members.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != FilePurpose {
		return false, nil
	}
	v, err := s.visit(ctx, m.SubjectID)
	if err != nil || v == nil {
		return false, err
	}
	return MayReadVisitFiles(c, v), nil
}

// MayReadVisitFiles is MayReadFile's rule for the photos a visit stored
// itself; a PROBLEM_FOUND visit's photos are the repair request's, under
// its rule.
func MayReadVisitFiles(c *access.Caller, v *Visit) bool {
	if _, ok := c.RoleIn(v.HouseholdID); ok {
		return true
	}
	return c.WorksIn(v.CommunityID)
}
