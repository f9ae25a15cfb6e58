// Package household owns households (户), the people in them (人员) and their
// memberships: a person may belong to several households.
package household

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/ratelimit"
	"qinqing/internal/platform/validate"
)

// Household is one flat and the facts about it.
type Household struct {
	ID          string   `bson:"_id"`
	CommunityID string   `bson:"communityId"`
	BuildingID  string   `bson:"buildingId"`
	Unit        string   `bson:"unit"`
	Room        string   `bson:"room"`
	Label       string   `bson:"label"`
	FloorArea   *float64 `bson:"floorArea,omitempty"`
	MoveInDate  string   `bson:"moveInDate,omitempty"` // YYYY-MM-DD
	// CareFlags is the union of the members' care flags, kept here so a staff
	// screen can filter households by flag with one indexed query.
	CareFlags []string `bson:"careFlags"`
	// SortKey orders households the way staff walk them: building, unit,
	// room, in natural order; it is also the page cursor.
	SortKey string `bson:"sortKey"`
	// Search holds the label and members' names and phones, lower-cased.
	Search    string    `bson:"search"`
	CreatedAt time.Time `bson:"createdAt"`
}

// Ref is what access rules need.
func (h *Household) Ref() access.HouseholdRef {
	return access.HouseholdRef{ID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID}
}

var (
	ErrNotFound       = apperr.New(apperr.NotFound, "household.not_found")
	ErrRoomTaken      = apperr.New(apperr.Conflict, "household.room_taken")
	ErrPersonNotFound = apperr.New(apperr.NotFound, "household.person_not_found")
	ErrAlreadyMember  = apperr.New(apperr.Conflict, "household.already_member")
	ErrNotMember      = apperr.New(apperr.NotFound, "household.not_member")
	// ErrPhoneTaken names nobody: who holds a phone is no one else's business.
	ErrPhoneTaken     = apperr.New(apperr.Conflict, "household.phone_taken")
	ErrSensitiveScope = apperr.New(apperr.Forbidden, "household.sensitive_filter")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"household.not_found":          {ZH: "房屋不存在", EN: "Household not found"},
		"household.room_taken":         {ZH: "该单元已有此房号", EN: "This unit already has a household with this room number"},
		"household.person_not_found":   {ZH: "人员不存在", EN: "Person not found"},
		"household.already_member":     {ZH: "此人已是该房屋成员", EN: "This person is already a member of the household"},
		"household.not_member":         {ZH: "此人不是该房屋成员", EN: "This person is not a member of the household"},
		"household.phone_taken":        {ZH: "该手机号已登记，请选择已有人员添加", EN: "This phone number is already registered; add the existing person by id"},
		"household.sensitive_filter":   {ZH: "只有负责的管家和主管可以按敏感关怀标记筛选", EN: "Only the responsible butler and supervisors may filter by a sensitive care flag"},
		"household.unknown_unit":       {ZH: "该楼栋没有这个单元", EN: "is not a unit of this building"},
		"household.bad_area":           {ZH: "面积应在 1 到 10000 平方米之间", EN: "must be between 1 and 10000 square metres"},
		"household.person_or_id":       {ZH: "请提供已有人员ID或新人员信息（二选一）", EN: "give either personId or person, not both or neither"},
		"household.bad_role":           {ZH: "房屋角色只能是业主、家属或租户", EN: "must be OWNER, FAMILY or TENANT"},
		"household.owner_adds_family":  {ZH: "业主只能添加或移除家属和租户", EN: "Owners may only add or remove family members and tenants"},
		"household.search_too_short":   {ZH: "搜索内容太短", EN: "is too short"},
		"household.community_required": {ZH: "请指定小区", EN: "is required for this filter"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "households", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "buildingId", Value: 1}, {Key: "unit", Value: 1}, {Key: "room", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "buildingId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "careFlags", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
		mongo.Indexes{Collection: "memberships", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "personId", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "personId", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "_id", Value: 1}}}, // a community's residents, paged
		}},
		// A phone identifies at most one person; the claim has the phone as _id
		// so persons without a phone (children) need no sparse index.
		mongo.Indexes{Collection: "person_phones"},
		mongo.Indexes{Collection: "persons"},
	)
}

// Places is what households need from communities.
type Places interface {
	Building(ctx context.Context, id string) (*community.Building, error)
}

// Service manages households, persons and memberships.
type Service struct {
	households, members, persons, phones *mgo.Collection
	invitations, answers                 *mgo.Collection
	notifier                             Notifier
	places                               Places
	// sensitiveFlags are care flags that only the archive's readers may filter on.
	sensitiveFlags []string
	audit          FilterAuditor
	files          *files.Store
	limits         *ratelimit.Limiter // per-caller adds by phone (guessing.go)
	placed         placements         // placement.go
	now            func() time.Time
}

// FilterAuditor records a list query that filtered on a sensitive flag, since
// its result reveals who carries that flag.
type FilterAuditor interface {
	RecordFilter(ctx context.Context, c *access.Caller, communityID, flag string) error
}

// NewService makes the service.
func NewService(db *mongo.DB, places Places, sensitiveFlags []string, audit FilterAuditor, now func() time.Time) *Service {
	return &Service{
		households: db.Collection("households"), members: db.Collection("memberships"),
		persons: db.Collection("persons"), phones: db.Collection("person_phones"),
		invitations: db.Collection("household_invitations"), answers: db.Collection("household_invitation_answers"),
		places: places, sensitiveFlags: sensitiveFlags, audit: audit, now: now,
	}
}

// CreateInput describes a new household.
type CreateInput struct {
	BuildingID, Unit, Room string
	FloorArea              *float64
	MoveInDate             string
}

var roomRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,10}$`)

// Create adds a household; admins and the community's supervisors and butlers.
func (s *Service) Create(ctx context.Context, c *access.Caller, in CreateInput) (*Household, error) {
	if err := validate.ID("input.buildingId", in.BuildingID); err != nil {
		return nil, err
	}
	b, err := s.places.Building(ctx, in.BuildingID)
	if errors.Is(err, community.ErrBuildingNotFound) {
		return nil, community.ErrBuildingNotFound.WithField("input.buildingId")
	}
	if err != nil {
		return nil, err
	}
	if c.IsStaff() && !c.WorksIn(b.CommunityID) {
		// Another community's building is as absent as an unknown one.
		return nil, community.ErrBuildingNotFound.WithField("input.buildingId")
	}
	if !c.IsAdmin() && !c.StaffIn(b.CommunityID, access.Supervisor, access.Butler) {
		return nil, apperr.ErrForbidden
	}
	unit := strings.TrimSpace(in.Unit)
	if !slices.Contains(b.Units, unit) {
		return nil, apperr.Invalid("input.unit", "household.unknown_unit")
	}
	room := strings.TrimSpace(in.Room)
	if !roomRe.MatchString(room) {
		return nil, apperr.Invalid("input.room", "input.bad_value")
	}
	if in.FloorArea != nil && (*in.FloorArea < 1 || *in.FloorArea > 10000) {
		return nil, apperr.Invalid("input.floorArea", "household.bad_area")
	}
	h := &Household{
		ID: mongo.NewID(), CommunityID: b.CommunityID, BuildingID: b.ID, Unit: unit, Room: room,
		FloorArea: in.FloorArea, MoveInDate: in.MoveInDate, CareFlags: []string{}, CreatedAt: s.now().UTC(),
	}
	h.Label = Label(b.Name, unit, room)
	h.SortKey = strings.Join([]string{community.NaturalKey(b.Name), community.NaturalKey(unit), community.NaturalKey(room), h.ID}, "|")
	h.Search = strings.ToLower(h.Label)
	if _, err := s.households.InsertOne(ctx, h); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrRoomTaken.WithField("input.room")
		}
		return nil, fmt.Errorf("insert household: %w", err)
	}
	return h, nil
}

// Label is how staff and owners name a flat: 3栋2单元1502.
func Label(building, unit, room string) string {
	b := building
	if !strings.HasSuffix(b, "栋") && !strings.HasSuffix(b, "座") && !strings.HasSuffix(b, "号楼") {
		b += "栋"
	}
	u := unit
	if !strings.HasSuffix(u, "单元") {
		u += "单元"
	}
	return b + u + room
}

// Get returns a household the caller may see. Households of other people are
// NOT_FOUND rather than FORBIDDEN, so ids cannot be probed.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Household, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	h, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.Visible(c, h); err != nil {
		return nil, err
	}
	return h, nil
}

// Visible is Get's rule for a household already loaded: a live event's
// household is loaded once and shown to each subscriber who may see it.
func (s *Service) Visible(c *access.Caller, h *Household) error {
	if !c.CanSeeHousehold(h.Ref()) {
		return ErrNotFound
	}
	return nil
}

// Load reads a household without an access check; callers apply Visible.
func (s *Service) Load(ctx context.Context, id string) (*Household, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	return s.byID(ctx, id)
}

func (s *Service) byID(ctx context.Context, id string) (*Household, error) {
	return mongo.FindByID[Household](ctx, s.households, id, ErrNotFound)
}

// Filter narrows a household list.
type Filter struct {
	CommunityID, BuildingID, CareFlag, Search string
}

// List is the staff household screen (and a resident's own households). One
// query for the page and one count, whatever the page size.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Household], error) {
	var none page.Page[*Household]
	q := bson.D{}
	switch {
	case c.IsPerson():
		ids := make([]string, 0, len(c.Memberships))
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	case c.IsStaff():
		if f.CommunityID != "" {
			if err := validate.ID("filter.communityId", f.CommunityID); err != nil {
				return none, err
			}
			if !c.WorksIn(f.CommunityID) {
				return none, apperr.ErrForbidden
			}
			q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		} else if scope := c.VisibleCommunities(); scope != nil {
			q = append(q, bson.E{Key: "communityId", Value: bson.D{{Key: "$in", Value: scope}}})
		}
	default:
		return none, apperr.ErrUnauthenticated
	}
	if f.BuildingID != "" {
		if err := validate.ID("filter.buildingId", f.BuildingID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "buildingId", Value: f.BuildingID})
	}
	if f.CareFlag != "" {
		q = append(q, bson.E{Key: "careFlags", Value: f.CareFlag})
		if slices.Contains(s.sensitiveFlags, f.CareFlag) {
			restrict, err := s.sensitiveFilterScope(ctx, c, f)
			if err != nil {
				return none, err
			}
			q = append(q, restrict...)
		}
	}
	if f.Search != "" {
		term, err := validate.Text("filter.search", f.Search, false, 40)
		if err != nil {
			return none, err
		}
		if term != "" {
			q = append(q, bson.E{Key: "search", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(strings.ToLower(term))}}})
		}
	}
	total, err := s.households.CountDocuments(ctx, q)
	if err != nil {
		return none, fmt.Errorf("count households: %w", err)
	}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := s.households.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit()))
	if err != nil {
		return none, fmt.Errorf("list households: %w", err)
	}
	var list []*Household
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("list households: %w", err)
	}
	pg := page.Trim(list, p, func(h *Household) string { return h.SortKey })
	pg.Total = int(total)
	return pg, nil
}

// sensitiveFilterScope lets supervisors filter their community by a sensitive
// flag and butlers only their own households; the query is audited.
func (s *Service) sensitiveFilterScope(ctx context.Context, c *access.Caller, f Filter) (bson.D, error) {
	if f.CommunityID == "" {
		return nil, apperr.Invalid("filter.communityId", "household.community_required")
	}
	var restrict bson.D
	switch {
	case c.SupervisesIn(f.CommunityID):
	case c.StaffIn(f.CommunityID, access.Butler):
		restrict = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "buildingId", Value: bson.D{{Key: "$in", Value: nonNil(c.Buildings)}}}},
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: nonNil(c.Households)}}}},
		}}}
	default:
		return nil, ErrSensitiveScope
	}
	if s.audit != nil {
		if err := s.audit.RecordFilter(ctx, c, f.CommunityID, f.CareFlag); err != nil {
			return nil, err
		}
	}
	return restrict, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MaxMine bounds myHouseholds: a person lives in or owns a handful of homes.
const MaxMine = 50

// Mine returns the caller's own households in walking order, at most MaxMine.
func (s *Service) Mine(ctx context.Context, c *access.Caller) ([]*Household, error) {
	if !c.IsPerson() || len(c.Memberships) == 0 {
		return []*Household{}, nil
	}
	ids := make([]string, 0, len(c.Memberships))
	for _, m := range c.Memberships {
		ids = append(ids, m.HouseholdID)
	}
	cur, err := s.households.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(MaxMine))
	if err != nil {
		return nil, fmt.Errorf("my households: %w", err)
	}
	out := []*Household{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("my households: %w", err)
	}
	return out, nil
}

// SetCareFlags replaces the union of members' care flags; the archive calls it
// after a care profile changes.
func (s *Service) SetCareFlags(ctx context.Context, householdID string, flags []string) error {
	if flags == nil {
		flags = []string{}
	}
	_, err := s.households.UpdateOne(ctx, bson.D{{Key: "_id", Value: householdID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "careFlags", Value: flags}}}})
	if err != nil {
		return fmt.Errorf("set care flags of %s: %w", householdID, err)
	}
	return nil
}
