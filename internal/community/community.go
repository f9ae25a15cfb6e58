// Package community owns communities (小区) and their buildings (楼栋) and units.
package community

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// DefaultTimeZone is where the communities we serve are.
const DefaultTimeZone = "Asia/Shanghai"

// Community is a residential community run by the company.
type Community struct {
	ID        string    `bson:"_id"`
	CompanyID string    `bson:"companyId"`
	Name      string    `bson:"name"`
	Address   string    `bson:"address"`
	TimeZone  string    `bson:"timeZone"`
	CreatedAt time.Time `bson:"createdAt"`
}

// Location is the community's time zone.
func (c *Community) Location() *time.Location {
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	loc, _ := time.LoadLocation(DefaultTimeZone)
	return loc
}

// Building is a building with its units.
type Building struct {
	ID          string   `bson:"_id"`
	CommunityID string   `bson:"communityId"`
	Name        string   `bson:"name"`
	Units       []string `bson:"units"`
	// Type decides the management fee rate (see BuildingType); empty until
	// staff set it.
	Type      BuildingType `bson:"type,omitempty"`
	CreatedAt time.Time    `bson:"createdAt"`
}

var (
	ErrNotFound         = apperr.New(apperr.NotFound, "community.not_found")
	ErrBuildingNotFound = apperr.New(apperr.NotFound, "community.building_not_found")
	ErrNameTaken        = apperr.New(apperr.Conflict, "community.name_taken")
	ErrBuildingTaken    = apperr.New(apperr.Conflict, "community.building_taken")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"community.not_found":          {ZH: "小区不存在", EN: "Community not found"},
		"community.building_not_found": {ZH: "楼栋不存在", EN: "Building not found"},
		"community.name_taken":         {ZH: "已有同名小区", EN: "A community with this name already exists"},
		"community.building_taken":     {ZH: "该小区已有同名楼栋", EN: "This community already has a building with this name"},
		"community.bad_time_zone":      {ZH: "时区无效", EN: "is not a known time zone"},
		"community.unit_duplicate":     {ZH: "单元名称重复", EN: "has a duplicate unit name"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "communities", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "companyId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)},
		}},
		mongo.Indexes{Collection: "buildings", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)},
		}},
	)
}

// Service manages communities and buildings.
type Service struct {
	communities *mgo.Collection
	buildings   *mgo.Collection
	companyID   string
	now         func() time.Time
}

// NewService makes the service for one company.
func NewService(db *mongo.DB, companyID string, now func() time.Time) *Service {
	return &Service{communities: db.Collection("communities"), buildings: db.Collection("buildings"), companyID: companyID, now: now}
}

// CreateCommunityInput is what an admin gives for a new community.
type CreateCommunityInput struct {
	Name, Address, TimeZone string
}

// CreateCommunity adds a community; admins only.
func (s *Service) CreateCommunity(ctx context.Context, c *access.Caller, in CreateCommunityInput) (*Community, error) {
	if !c.IsAdmin() {
		return nil, apperr.ErrForbidden
	}
	name, err := validate.Text("input.name", in.Name, true, 60)
	if err != nil {
		return nil, err
	}
	addr, err := validate.Text("input.address", in.Address, false, 200)
	if err != nil {
		return nil, err
	}
	tz := in.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, apperr.Invalid("input.timeZone", "community.bad_time_zone")
	}
	com := &Community{ID: mongo.NewID(), CompanyID: s.companyID, Name: name, Address: addr, TimeZone: tz, CreatedAt: s.now().UTC()}
	if _, err := s.communities.InsertOne(ctx, com); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrNameTaken.WithField("input.name")
		}
		return nil, fmt.Errorf("insert community: %w", err)
	}
	return com, nil
}

// Get returns a community the caller may see.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Community, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	com, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSeeCommunity(c, id) {
		return nil, ErrNotFound
	}
	return com, nil
}

func canSeeCommunity(c *access.Caller, id string) bool {
	if c.WorksIn(id) {
		return true
	}
	for _, m := range c.Memberships {
		if m.CommunityID == id {
			return true
		}
	}
	return false
}

func (s *Service) byID(ctx context.Context, id string) (*Community, error) {
	return mongo.FindByID[Community](ctx, s.communities, id, ErrNotFound)
}

// MaxListed bounds the communities list (schema: Query.communities): a
// property company runs tens of communities, not hundreds; past it the list
// stops at the MaxListed-th name.
const MaxListed = 500

// List returns the communities the caller works or lives in, by name.
func (s *Service) List(ctx context.Context, c *access.Caller) ([]*Community, error) {
	filter := bson.D{{Key: "companyId", Value: s.companyID}}
	if !c.IsAdmin() {
		ids := append([]string(nil), c.Communities...)
		for _, m := range c.Memberships {
			ids = append(ids, m.CommunityID)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	cur, err := s.communities.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(MaxListed))
	if err != nil {
		return nil, fmt.Errorf("list communities: %w", err)
	}
	var out []*Community
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list communities: %w", err)
	}
	return out, nil
}

// ByIDs loads communities by id for per-request loaders. Missing ids are
// absent from the map. It checks nothing: the caller already saw the parent.
func (s *Service) ByIDs(ctx context.Context, ids []string) (map[string]*Community, error) {
	return mongo.ByIDs(ctx, s.communities, ids, func(c *Community) string { return c.ID })
}

// CreateBuildingInput is a new building with its units.
type CreateBuildingInput struct {
	CommunityID string
	Name        string
	Units       []string
}

// CreateBuilding adds a building; admins and the community's supervisors.
func (s *Service) CreateBuilding(ctx context.Context, c *access.Caller, in CreateBuildingInput) (*Building, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if _, err := s.byID(ctx, in.CommunityID); errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound.WithField("input.communityId")
	} else if err != nil {
		return nil, err
	}
	if c.IsStaff() && !c.WorksIn(in.CommunityID) {
		// Another company community is as absent as an unknown one.
		return nil, ErrNotFound.WithField("input.communityId")
	}
	if !c.IsAdmin() && !c.SupervisesIn(in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	name, err := validate.Text("input.name", in.Name, true, 40)
	if err != nil {
		return nil, err
	}
	units, err := validate.List("input.units", in.Units, 50, 20)
	if err != nil {
		return nil, err
	}
	if len(units) == 0 {
		units = []string{"1"}
	}
	seen := map[string]bool{}
	for _, u := range units {
		if seen[u] {
			return nil, apperr.Invalid("input.units", "community.unit_duplicate")
		}
		seen[u] = true
	}
	b := &Building{ID: mongo.NewID(), CommunityID: in.CommunityID, Name: name, Units: units, CreatedAt: s.now().UTC()}
	if _, err := s.buildings.InsertOne(ctx, b); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrBuildingTaken.WithField("input.name")
		}
		return nil, fmt.Errorf("insert building: %w", err)
	}
	return b, nil
}

// Building returns one building, checking nothing (callers check the community).
func (s *Service) Building(ctx context.Context, id string) (*Building, error) {
	return mongo.FindByID[Building](ctx, s.buildings, id, ErrBuildingNotFound)
}

// BuildingsByIDs is the loader batch for buildings.
func (s *Service) BuildingsByIDs(ctx context.Context, ids []string) (map[string]*Building, error) {
	return mongo.ByIDs(ctx, s.buildings, ids, func(b *Building) string { return b.ID })
}

// BuildingsByCommunities is the loader batch for Community.buildings; the map
// key is the community id and values are in name order.
func (s *Service) BuildingsByCommunities(ctx context.Context, ids []string) (map[string][]*Building, error) {
	cur, err := s.buildings.Find(ctx, bson.D{{Key: "communityId", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetSort(bson.D{{Key: "communityId", Value: 1}, {Key: "name", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("buildings of communities: %w", err)
	}
	var list []*Building
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("buildings of communities: %w", err)
	}
	out := make(map[string][]*Building, len(ids))
	for _, b := range list {
		out[b.CommunityID] = append(out[b.CommunityID], b)
	}
	for _, bs := range out {
		slices.SortStableFunc(bs, func(a, b *Building) int { return naturalCompare(a.Name, b.Name) })
	}
	return out, nil
}

// CommunityIDsOfBuildings maps building ids to their community, so staff
// scope changes can check that every building is in an assigned community.
func (s *Service) CommunityIDsOfBuildings(ctx context.Context, ids []string) (map[string]string, error) {
	m, err := s.BuildingsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for id, b := range m {
		out[id] = b.CommunityID
	}
	return out, nil
}

// CheckBuildings validates the buildings an audience names (an
// announcement's, a campaign's, an event's, a survey's): well-formed ids, at
// most max, each a building of the community. It returns them without
// repeats, in order; an empty list means the whole community. Errors name
// field.
func (s *Service) CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error) {
	if err := validate.IDs(field, ids, max); err != nil {
		return nil, err
	}
	out := []string{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	of, err := s.CommunityIDsOfBuildings(ctx, out)
	if err != nil {
		return nil, err
	}
	for _, id := range out {
		if of[id] != communityID {
			return nil, ErrBuildingNotFound.WithField(field)
		}
	}
	return out, nil
}

// ExistingIDs reports which community ids exist.
func (s *Service) ExistingIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	m, err := s.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(m))
	for id := range m {
		out[id] = true
	}
	return out, nil
}
