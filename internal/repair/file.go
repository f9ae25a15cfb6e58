package repair

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/validate"
)

// FileInput is a fault staff found in a household's home and file for it,
// e.g. on a free gas-safety check (无偿服务): the household's own report,
// with staff as the filer and Source naming where it came from.
type FileInput struct {
	HouseholdID string
	Category    Category
	Description string
	Urgency     Urgency // NORMAL when empty
	Photos      []files.Upload
	// Source is required: the request's id is derived from it, so a retried
	// call (a visit record whose first attempt died half way) never files
	// the same fault twice.
	Source string
}

// MaxSource bounds a FileInput's Source.
const MaxSource = 200

// ErrSourceReused is a source already used for another household.
var ErrSourceReused = apperr.New(apperr.Conflict, "repair.source_reused")

func init() {
	apperr.Register(map[string]apperr.Text{
		"repair.source_reused": {ZH: "该来源已为另一户提交过报修", EN: "This source already filed a request for another household"},
	})
}

// FileForHousehold files a repair request on behalf of a household: staff
// who go into homes (butlers, supervisors, engineers) of the household's
// community, never residents (they use Submit) nor staff of another
// community (NOT_FOUND, as for any household they cannot see). It runs the
// same validation, deadlines, timeline and events as Submit; the request
// records the filer and the source, and its household follows it as usual.
func (s *Service) FileForHousehold(ctx context.Context, c *access.Caller, in FileInput) (*Request, error) {
	if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	source, err := validate.Text("input.source", in.Source, true, MaxSource)
	if err != nil {
		return nil, err
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	h, err := s.households.Get(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if !c.IsAdmin() && !c.StaffIn(h.CommunityID, access.Butler, access.Supervisor, access.Engineer) {
		return nil, apperr.ErrForbidden
	}
	f := filing{id: sourceID(source), staffID: c.ID, source: source}
	// A retry finds the request already filed and stores nothing new
	// (photos included); the insert's unique _id settles concurrent retries.
	if r, err := s.filedFrom(ctx, h.ID, f); err == nil || !errors.Is(err, ErrNotFound) {
		return r, err
	}
	return s.create(ctx, c, h, SubmitInput{
		HouseholdID: h.ID, Category: in.Category, Description: in.Description, InHome: true, Urgency: in.Urgency, Photos: in.Photos,
	}, f)
}

// filedFrom is the request already filed from f's source, if any.
func (s *Service) filedFrom(ctx context.Context, householdID string, f filing) (*Request, error) {
	r, err := s.byID(ctx, f.id)
	if err != nil {
		return nil, err
	}
	if r.Source != f.source || r.HouseholdID != householdID {
		return nil, ErrSourceReused
	}
	return r, nil
}

// sourceID derives a request id (an ObjectID's 24 hex digits, as every id)
// from a source.
func sourceID(source string) string {
	sum := sha256.Sum256([]byte("repair-source:" + source))
	return hex.EncodeToString(sum[:12])
}
