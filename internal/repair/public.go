package repair

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// AreaKind is the kind of public place a fault is in.
type AreaKind string

// AreaKinds are the public places of a community.
var AreaKinds = []AreaKind{"LOBBY", "CORRIDOR", "LIFT", "STAIRWELL", "GARAGE", "GARDEN", "ROOF", "PLAYGROUND", "OTHER"}

// PublicArea is where a public-area fault is: a request with one has no
// household. BuildingID is "" for a place of the whole community (garden,
// garage); it is stored even then, so the residents' list of community-wide
// faults is one indexed equality.
type PublicArea struct {
	BuildingID string   `bson:"buildingId"`
	Floor      *int     `bson:"floor,omitempty"`
	Kind       AreaKind `bson:"kind"`
	Place      string   `bson:"place"`
}

// PublicAreaInput is where a public-area fault is, as reported.
type PublicAreaInput struct {
	CommunityID string
	BuildingID  string // optional
	Floor       *int   // optional; negative for basements
	Kind        AreaKind
	Place       string
}

// Places is what public-area requests need from the community register.
type Places interface {
	CommunityIDsOfBuildings(ctx context.Context, ids []string) (map[string]string, error)
}

// WithPlaces lets the service check the building a public-area fault names.
func (s *Service) WithPlaces(p Places) *Service {
	s.places = p
	return s
}

var (
	// ErrHouseholdOrArea is a report naming both a household and a public
	// place, or neither.
	ErrHouseholdOrArea = apperr.New(apperr.BadUserInput, "repair.household_or_area")
	// ErrNotSupervisor refuses a public-area sign-off by anyone but a
	// supervisor of the community.
	ErrNotSupervisor = apperr.New(apperr.Forbidden, "repair.not_supervisor")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"repair.household_or_area": {ZH: "请填写报修的房屋或公共区域（二者只能选一）", EN: "name either a household or a public area, not both"},
		"repair.not_supervisor":    {ZH: "公共区域报修由小区主管验收", EN: "A public-area repair is signed off by a supervisor of the community"},
	})
	mongo.Declare(mongo.Indexes{Collection: "repair_requests", Models: []mgo.IndexModel{
		// Residents following a building's (or the community's) public faults.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "public.buildingId", Value: 1}, {Key: "sortKey", Value: 1}}},
	}})
}

// IsPublic reports a fault in a public area: no household.
func (r *Request) IsPublic() bool { return r.Public != nil }

// OwesCallback: a household's request is called back; a public-area one only
// when a resident reported it (staff-filed ones close on the supervisor's
// sign-off). The KPIs count only these as finished jobs owing a callback.
func (r *Request) OwesCallback() bool { return !r.IsPublic() || r.ReporterID != "" }

// mayReportPublic: anyone on site (any staff role of the community), admins,
// and residents of the community.
func mayReportPublic(c *access.Caller, communityID string) bool {
	if c.WorksIn(communityID) {
		return true
	}
	return livesIn(c, communityID)
}

func livesIn(c *access.Caller, communityID string) bool {
	return c.IsPerson() && slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// submitPublic records a public-area fault.
func (s *Service) submitPublic(ctx context.Context, c *access.Caller, in SubmitInput) (*Request, error) {
	a := in.PublicArea
	if err := validate.ID("input.publicArea.communityId", a.CommunityID); err != nil {
		return nil, err
	}
	if !mayReportPublic(c, a.CommunityID) {
		if c.IsPerson() {
			return nil, community.ErrNotFound.WithField("input.publicArea.communityId")
		}
		return nil, apperr.ErrForbidden
	}
	if !slices.Contains(AreaKinds, a.Kind) {
		return nil, apperr.Invalid("input.publicArea.kind", "input.bad_value")
	}
	if a.Floor != nil && (*a.Floor < -10 || *a.Floor > 200) {
		return nil, apperr.Invalid("input.publicArea.floor", "input.out_of_range", -10, 200)
	}
	place, err := validate.Text("input.publicArea.place", a.Place, true, 100)
	if err != nil {
		return nil, err
	}
	if a.BuildingID != "" {
		if err := validate.ID("input.publicArea.buildingId", a.BuildingID); err != nil {
			return nil, err
		}
		of, err := s.places.CommunityIDsOfBuildings(ctx, []string{a.BuildingID})
		if err != nil {
			return nil, err
		}
		if of[a.BuildingID] != a.CommunityID {
			return nil, community.ErrBuildingNotFound.WithField("input.publicArea.buildingId")
		}
	}
	in.InHome, in.Place = false, place
	in.public = &PublicArea{BuildingID: a.BuildingID, Floor: a.Floor, Kind: a.Kind, Place: place}
	fi, err := intake.ResolveCommunity(ctx, s.households, c, a.CommunityID, in.Intake, s.now())
	if err != nil {
		return nil, err
	}
	where := &household.Household{CommunityID: a.CommunityID, BuildingID: a.BuildingID}
	f := filing{intake: fi.Record, data: fi.TimelineData()}
	if c.IsStaff() {
		// The staff member files it; the resident who rang, if named, is its
		// reporter and follows it.
		f.id, f.staffID, f.person = mongo.NewID(), c.ID, fi.PersonID
	}
	return s.create(ctx, c, where, in, f)
}

// followRight decides whether the caller may follow the public faults of a
// building (of the community, for buildingID ""): the community's staff, and
// residents of the building (of the community). For a resident it returns
// the households that give the right.
func (s *Service) followRight(ctx context.Context, c *access.Caller, communityID, buildingID string) ([]string, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if buildingID != "" {
		if err := validate.ID("buildingId", buildingID); err != nil {
			return nil, err
		}
	}
	if c.WorksIn(communityID) {
		return nil, nil
	}
	var ids []string
	for _, m := range c.Memberships {
		if c.IsPerson() && m.CommunityID == communityID {
			ids = append(ids, m.HouseholdID)
		}
	}
	if len(ids) == 0 {
		return nil, apperr.ErrForbidden
	}
	if buildingID == "" {
		return ids, nil
	}
	hs, err := s.households.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var in []string
	for _, id := range ids {
		if h := hs[id]; h != nil && h.BuildingID == buildingID {
			in = append(in, id)
		}
	}
	if len(in) == 0 {
		return nil, apperr.ErrForbidden
	}
	return in, nil
}

// PublicList lists a building's public-area faults (the community-wide ones
// when buildingID is ""), newest first: for its residents and the
// community's staff (followRight). Residents see them through the API's
// public view only: status and steps, no notes, no staff contacts.
func (s *Service) PublicList(ctx context.Context, c *access.Caller, communityID, buildingID string, p page.Request) (page.Page[*Request], error) {
	var none page.Page[*Request]
	if _, err := s.followRight(ctx, c, communityID, buildingID); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "public.buildingId", Value: buildingID}}
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{}, func(r *Request) string { return r.SortKey })
}

// PublicFollowers is the live feed's access decision, taken once when it
// starts and kept with the connection; MayFollowLive re-checks each event
// against the caller as the connection knows them then.
type PublicFollowers struct {
	CommunityID, BuildingID string
	households              []string // the households that give a resident the right
}

// FollowPublic decides whether the caller may follow the public faults of
// building (of the community when ""), as PublicList does.
func (s *Service) FollowPublic(ctx context.Context, c *access.Caller, communityID, buildingID string) (*PublicFollowers, error) {
	hs, err := s.followRight(ctx, c, communityID, buildingID)
	if err != nil {
		return nil, err
	}
	return &PublicFollowers{CommunityID: communityID, BuildingID: buildingID, households: hs}, nil
}

// MayFollowLive: the caller (as refreshed by the connection) still works in
// the community or still lives in a household that gave the right. No
// database read: a household does not move between buildings.
func (pf *PublicFollowers) MayFollowLive(c *access.Caller) bool {
	if c.WorksIn(pf.CommunityID) {
		return true
	}
	for _, h := range pf.households {
		if _, ok := c.RoleIn(h); ok {
			return true
		}
	}
	return false
}

// Follows reports a request of the followed place.
func (pf *PublicFollowers) Follows(r *Request) bool {
	return r.IsPublic() && r.CommunityID == pf.CommunityID && r.Public.BuildingID == pf.BuildingID
}

// mayReadReportedPhoto: the photos a public-area fault was reported with
// (never work photos or the supervisor's signature) are for those who follow
// the place (followRight), as the public view that signs their URLs is. A
// file's metadata does not name it, so a reported photo is one uploaded by
// the reporter or filer; when that person also worked on it or signed it,
// only what they uploaded before the first step after the report.
func (s *Service) mayReadReportedPhoto(ctx context.Context, c *access.Caller, r *Request, m files.Meta) (bool, error) {
	if !r.IsPublic() {
		return false, nil
	}
	by := r.ReporterID
	if by == "" {
		by = r.FiledByStaffID
	}
	if by == "" || m.UploadedBy != by {
		return false, nil
	}
	alsoWorked := slices.Contains(r.EngineerHistory, by) || slices.ContainsFunc(r.Acceptances, func(a Acceptance) bool { return a.StaffID == by })
	if alsoWorked && (len(r.Timeline) < 2 || !m.UploadedAt.Before(r.Timeline[1].At)) {
		return false, nil
	}
	if _, err := s.followRight(ctx, c, r.CommunityID, r.Public.BuildingID); err != nil {
		if _, ok := apperr.As(err); ok {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
