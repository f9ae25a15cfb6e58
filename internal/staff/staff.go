// Package staff owns staff accounts (员工): roles, the communities each works
// in, and the buildings and households a butler is responsible for.
package staff

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
	"qinqing/internal/identity"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Staff is one employee's account.
type Staff struct {
	ID           string        `bson:"_id"`
	CompanyID    string        `bson:"companyId"`
	Account      string        `bson:"account"`
	Name         string        `bson:"name"`
	Phone        string        `bson:"phone,omitempty"`
	PasswordHash string        `bson:"passwordHash"`
	Roles        []access.Role `bson:"roles"`
	CommunityIDs []string      `bson:"communityIds"`
	BuildingIDs  []string      `bson:"buildingIds"`
	HouseholdIDs []string      `bson:"householdIds"`
	// Skills of an engineer (水电, 门窗, 燃气...), shown when dispatching.
	Skills    []string  `bson:"skills"`
	Active    bool      `bson:"active"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// MayOwnRequestsIn reports whether st may be handed a repair or complaint of
// community under the first-contact rule: an active butler or supervisor
// working there.
func (st *Staff) MayOwnRequestsIn(community string) bool {
	return st.Active && slices.Contains(st.CommunityIDs, community) &&
		(slices.Contains(st.Roles, access.Butler) || slices.Contains(st.Roles, access.Supervisor))
}

var (
	ErrNotFound     = apperr.New(apperr.NotFound, "staff.not_found")
	ErrAccountTaken = apperr.New(apperr.Conflict, "staff.account_taken")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"staff.not_found":          {ZH: "员工不存在", EN: "Staff member not found"},
		"staff.account_taken":      {ZH: "账号已被使用", EN: "This account name is already taken"},
		"staff.bad_account":        {ZH: "账号只能包含字母、数字、点、下划线和连字符（3-32位）", EN: "must be 3-32 letters, digits, dots, underscores or hyphens"},
		"staff.no_roles":           {ZH: "至少需要一个角色", EN: "needs at least one role"},
		"staff.not_staff_role":     {ZH: "不是员工角色", EN: "is not a staff role"},
		"staff.no_communities":     {ZH: "至少需要一个小区", EN: "needs at least one community"},
		"staff.unknown_community":  {ZH: "包含不存在的小区", EN: "contains an unknown community"},
		"staff.outside_community":  {ZH: "包含不在所属小区内的楼栋或房屋", EN: "contains a building or household outside the staff member's communities"},
		"staff.cannot_demote_self": {ZH: "不能移除自己的管理员角色或停用自己", EN: "you cannot remove your own admin role or deactivate yourself"},
	})
	mongo.Declare(mongo.Indexes{Collection: "staff", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "account", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "communityIds", Value: 1}, {Key: "name", Value: 1}}},
	}})
}

// Places answers which community buildings and households are in, so scopes
// can be checked against the communities a staff member works in.
type Places interface {
	CommunityIDsOfBuildings(ctx context.Context, ids []string) (map[string]string, error)
	ExistingIDs(ctx context.Context, communityIDs []string) (map[string]bool, error)
}

// HouseholdPlaces answers which community households are in.
type HouseholdPlaces interface {
	CommunityIDsOfHouseholds(ctx context.Context, ids []string) (map[string]string, error)
}

// Service manages staff accounts.
type Service struct {
	col        *mgo.Collection
	companyID  string
	places     Places
	households HouseholdPlaces
	now        func() time.Time
	sessions   Sessions
}

// NewService makes the service.
func NewService(db *mongo.DB, companyID string, places Places, households HouseholdPlaces, now func() time.Time) *Service {
	return &Service{col: db.Collection("staff"), companyID: companyID, places: places, households: households, now: now}
}

var accountRe = regexp.MustCompile(`^[A-Za-z0-9._-]{3,32}$`)

// CreateInput is a new staff account.
type CreateInput struct {
	Account, Password, Name, Phone string
	Skills                         []string
	Roles                          []access.Role
	CommunityIDs                   []string
	BuildingIDs                    []string
	HouseholdIDs                   []string
}

// Create adds a staff account; admins only.
func (s *Service) Create(ctx context.Context, c *access.Caller, in CreateInput) (*Staff, error) {
	if !c.IsAdmin() {
		return nil, apperr.ErrForbidden
	}
	account := strings.ToLower(strings.TrimSpace(in.Account))
	if !accountRe.MatchString(account) {
		return nil, apperr.Invalid("input.account", "staff.bad_account")
	}
	if err := identity.CheckPassword("input.password", in.Password); err != nil {
		return nil, err
	}
	name, err := validate.Text("input.name", in.Name, true, 40)
	if err != nil {
		return nil, err
	}
	phone := ""
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = validate.Phone("input.phone", in.Phone); err != nil {
			return nil, err
		}
	}
	skills, err := validate.List("input.skills", in.Skills, 20, 20)
	if err != nil {
		return nil, err
	}
	st := &Staff{ID: mongo.NewID(), CompanyID: s.companyID, Account: account, Name: name, Phone: phone, Skills: skills, Active: true}
	sc := scope{Roles: in.Roles, CommunityIDs: in.CommunityIDs, BuildingIDs: in.BuildingIDs, HouseholdIDs: in.HouseholdIDs}
	if err := s.checkScope(ctx, &sc); err != nil {
		return nil, err
	}
	st.Roles, st.CommunityIDs, st.BuildingIDs, st.HouseholdIDs = sc.Roles, sc.CommunityIDs, sc.BuildingIDs, sc.HouseholdIDs
	if st.PasswordHash, err = identity.HashPassword(in.Password); err != nil {
		return nil, err
	}
	st.CreatedAt = s.now().UTC()
	st.UpdatedAt = st.CreatedAt
	if _, err := s.col.InsertOne(ctx, st); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrAccountTaken.WithField("input.account")
		}
		return nil, fmt.Errorf("insert staff: %w", err)
	}
	return st, nil
}

type scope struct {
	Roles                                   []access.Role
	CommunityIDs, BuildingIDs, HouseholdIDs []string
}

// checkScope validates and normalizes a scope: known staff roles, existing
// communities, and buildings and households inside those communities.
func (s *Service) checkScope(ctx context.Context, sc *scope) error {
	if len(sc.Roles) == 0 {
		return apperr.Invalid("input.roles", "staff.no_roles")
	}
	for _, r := range sc.Roles {
		if !slices.Contains(access.StaffRoles, r) {
			return apperr.Invalid("input.roles", "staff.not_staff_role")
		}
	}
	sc.Roles = dedupe(sc.Roles)
	sc.CommunityIDs = dedupe(sc.CommunityIDs)
	sc.BuildingIDs = dedupe(sc.BuildingIDs)
	sc.HouseholdIDs = dedupe(sc.HouseholdIDs)
	if len(sc.CommunityIDs) == 0 && !slices.Contains(sc.Roles, access.Admin) {
		return apperr.Invalid("input.communityIds", "staff.no_communities")
	}
	for field, ids := range map[string][]string{"input.communityIds": sc.CommunityIDs, "input.buildingIds": sc.BuildingIDs, "input.householdIds": sc.HouseholdIDs} {
		if err := validate.IDs(field, ids, 200); err != nil {
			return err
		}
	}
	if len(sc.CommunityIDs) > 0 {
		exist, err := s.places.ExistingIDs(ctx, sc.CommunityIDs)
		if err != nil {
			return err
		}
		if len(exist) != len(sc.CommunityIDs) {
			return apperr.Invalid("input.communityIds", "staff.unknown_community")
		}
	}
	inScope := func(field string, m map[string]string, ids []string) error {
		for _, id := range ids {
			if cid, ok := m[id]; !ok || !slices.Contains(sc.CommunityIDs, cid) {
				return apperr.Invalid(field, "staff.outside_community")
			}
		}
		return nil
	}
	if len(sc.BuildingIDs) > 0 {
		m, err := s.places.CommunityIDsOfBuildings(ctx, sc.BuildingIDs)
		if err != nil {
			return err
		}
		if err := inScope("input.buildingIds", m, sc.BuildingIDs); err != nil {
			return err
		}
	}
	if len(sc.HouseholdIDs) > 0 {
		m, err := s.households.CommunityIDsOfHouseholds(ctx, sc.HouseholdIDs)
		if err != nil {
			return err
		}
		if err := inScope("input.householdIds", m, sc.HouseholdIDs); err != nil {
			return err
		}
	}
	return nil
}

func dedupe[T comparable](in []T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ScopeInput changes roles, communities, responsibilities or activity; nil
// fields are unchanged.
type ScopeInput struct {
	Roles                                   *[]access.Role
	CommunityIDs, BuildingIDs, HouseholdIDs *[]string
	Active                                  *bool
}

// UpdateScope changes what a staff member may do; admins only. The change is
// effective at the staff member's next request, since roles are not in tokens.
func (s *Service) UpdateScope(ctx context.Context, c *access.Caller, id string, in ScopeInput) (*Staff, error) {
	if !c.IsAdmin() {
		return nil, apperr.ErrForbidden
	}
	if err := validate.ID("staffId", id); err != nil {
		return nil, err
	}
	st, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	sc := scope{Roles: st.Roles, CommunityIDs: st.CommunityIDs, BuildingIDs: st.BuildingIDs, HouseholdIDs: st.HouseholdIDs}
	if in.Roles != nil {
		sc.Roles = *in.Roles
	}
	if in.CommunityIDs != nil {
		sc.CommunityIDs = *in.CommunityIDs
	}
	if in.BuildingIDs != nil {
		sc.BuildingIDs = *in.BuildingIDs
	}
	if in.HouseholdIDs != nil {
		sc.HouseholdIDs = *in.HouseholdIDs
	}
	active := st.Active
	if in.Active != nil {
		active = *in.Active
	}
	if id == c.ID && (!active || !slices.Contains(sc.Roles, access.Admin)) {
		return nil, apperr.Invalid("input", "staff.cannot_demote_self")
	}
	if err := s.checkScope(ctx, &sc); err != nil {
		return nil, err
	}
	// Guard on updatedAt so two admins editing at once cannot silently
	// overwrite each other's change.
	var out Staff
	err = s.col.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "updatedAt", Value: st.UpdatedAt}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "roles", Value: sc.Roles}, {Key: "communityIds", Value: sc.CommunityIDs},
			{Key: "buildingIds", Value: sc.BuildingIDs}, {Key: "householdIds", Value: sc.HouseholdIDs},
			{Key: "active", Value: active}, {Key: "updatedAt", Value: s.now().UTC()},
		}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, apperr.ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("update staff scope: %w", err)
	}
	// On every explicit deactivation, not only the first: a retry after a
	// failed revocation must revoke.
	if !out.Active && in.Active != nil {
		if err := s.endSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Staff, error) {
	return mongo.FindByID[Staff](ctx, s.col, id, ErrNotFound)
}

// Get is a staff member's record for the caller resolution and loaders.
func (s *Service) Get(ctx context.Context, id string) (*Staff, error) { return s.byID(ctx, id) }

// List pages the staff an admin (the company's) or a supervisor (of their
// communities) may see, by account: the account is unique and indexed, so it
// is the cursor, and the list grows with the company, so it is paged.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Staff], error) {
	var none page.Page[*Staff]
	if !c.IsAdmin() && !c.Has(access.Supervisor) {
		return none, apperr.ErrForbidden
	}
	filter := bson.D{{Key: "companyId", Value: s.companyID}}
	switch {
	case communityID != "":
		if err := validate.ID("communityId", communityID); err != nil {
			return none, err
		}
		if !c.IsAdmin() && !c.SupervisesIn(communityID) {
			return none, apperr.ErrForbidden
		}
		filter = append(filter, bson.E{Key: "communityIds", Value: communityID})
	case !c.IsAdmin():
		filter = append(filter, bson.E{Key: "communityIds", Value: bson.D{{Key: "$in", Value: c.Communities}}})
	}
	return mongo.FindPage(ctx, s.col, filter, p, mongo.PageQuery{SortField: "account", Omit: []string{"passwordHash"}},
		func(st *Staff) string { return st.Account })
}

// ByIDs is the loader batch for staff.
func (s *Service) ByIDs(ctx context.Context, ids []string) (map[string]*Staff, error) {
	return mongo.ByIDs(ctx, s.col, ids, func(st *Staff) string { return st.ID })
}

// StaffCredentials lets identity verify a password without owning accounts.
func (s *Service) StaffCredentials(ctx context.Context, account string) (string, string, bool, error) {
	var st Staff
	err := s.col.FindOne(ctx, bson.D{{Key: "account", Value: strings.ToLower(strings.TrimSpace(account))}}).Decode(&st)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("find staff account: %w", err)
	}
	if !st.Active {
		return "", "", false, nil
	}
	return st.ID, st.PasswordHash, true, nil
}

// Caller turns an active staff account into the request's caller.
func (s *Service) Caller(ctx context.Context, id, session string) (*access.Caller, error) {
	st, err := s.byID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if !st.Active {
		return nil, apperr.ErrUnauthenticated
	}
	return &access.Caller{
		Kind: auth.KindStaff, ID: st.ID, Session: session, CompanyID: st.CompanyID,
		Roles: st.Roles, Communities: st.CommunityIDs, Buildings: st.BuildingIDs, Households: st.HouseholdIDs,
	}, nil
}

// Upsert writes a staff account as given, keyed by account; the seed uses it
// so that seeding twice changes nothing.
func (s *Service) Upsert(ctx context.Context, st *Staff) (*Staff, error) {
	st.Account = strings.ToLower(st.Account)
	st.CompanyID = s.companyID
	now := s.now().UTC()
	var out Staff
	err := s.col.FindOneAndUpdate(ctx, bson.D{{Key: "account", Value: st.Account}},
		bson.D{
			{Key: "$setOnInsert", Value: bson.D{{Key: "_id", Value: mongo.NewID()}, {Key: "createdAt", Value: now}, {Key: "passwordHash", Value: st.PasswordHash}}},
			{Key: "$set", Value: bson.D{
				{Key: "companyId", Value: st.CompanyID}, {Key: "name", Value: st.Name}, {Key: "phone", Value: st.Phone},
				{Key: "roles", Value: st.Roles}, {Key: "communityIds", Value: st.CommunityIDs},
				{Key: "buildingIds", Value: st.BuildingIDs}, {Key: "householdIds", Value: st.HouseholdIDs},
				{Key: "skills", Value: st.Skills}, {Key: "active", Value: true}, {Key: "updatedAt", Value: now},
			}},
		},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&out)
	if err != nil {
		return nil, fmt.Errorf("upsert staff %s: %w", st.Account, err)
	}
	return &out, nil
}

// MaxWithRole bounds WithRole (schema: Query.engineers): one community's
// engineers or butlers number in the tens.
const MaxWithRole = 500

// WithRole lists the active staff of a community holding role, by name, at
// most MaxWithRole: engineers to dispatch to, butlers to hand over to. It
// checks nothing; callers decide who may see the list.
func (s *Service) WithRole(ctx context.Context, communityID string, role access.Role) ([]*Staff, error) {
	cur, err := s.col.Find(ctx, bson.D{{Key: "communityIds", Value: communityID}, {Key: "roles", Value: role}, {Key: "active", Value: true}},
		options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(MaxWithRole))
	if err != nil {
		return nil, fmt.Errorf("staff with role: %w", err)
	}
	var out []*Staff
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("staff with role: %w", err)
	}
	return out, nil
}

// ActiveIn lists the active staff working in a community, by account, at
// most MaxWithRole, without password hashes: the staff reviews compute one
// month for all of them at once. It checks nothing.
func (s *Service) ActiveIn(ctx context.Context, communityID string) ([]*Staff, error) {
	return mongo.FindAll[Staff](ctx, s.col, bson.D{{Key: "communityIds", Value: communityID}, {Key: "active", Value: true}}, "staff of community",
		options.Find().SetSort(bson.D{{Key: "account", Value: 1}}).SetLimit(MaxWithRole).SetProjection(bson.D{{Key: "passwordHash", Value: 0}}))
}
