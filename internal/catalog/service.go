package catalog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Communities tells whether community ids exist (admins "work in" any id).
type Communities interface {
	ExistingIDs(ctx context.Context, ids []string) (map[string]bool, error)
}

// Service runs the price lists.
type Service struct {
	col         *mgo.Collection
	steps       *lifecycle.Store
	communities Communities
	now         func() time.Time
}

// NewService makes the service.
func NewService(db *mongo.DB, communities Communities, now func() time.Time) *Service {
	return &Service{col: db.Collection("service_items"), steps: lifecycle.NewStore(db, "service_items", now), communities: communities, now: now}
}

// maxItems bounds one community's price list as the list query returns it
// whole: a price list is read on one screen, not paged.
const maxItems = 300

// mayRead: the community's residents (every role: the list is public to
// them) and its staff.
func mayRead(c *access.Caller, communityID string) bool {
	if c.WorksIn(communityID) {
		return true
	}
	for _, m := range c.Memberships {
		if m.CommunityID == communityID {
			return true
		}
	}
	return false
}

// mayEdit: the community's supervisors, and admins, as for the other
// community-wide settings (repair deadlines, greetings).
func mayEdit(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.SupervisesIn(communityID)
}

// checkEdit answers NOT_FOUND to those who may not even read the list, and
// FORBIDDEN to readers who may not edit it.
func (s *Service) checkEdit(ctx context.Context, c *access.Caller, communityID string) error {
	if !mayRead(c, communityID) {
		return community.ErrNotFound
	}
	if !mayEdit(c, communityID) {
		return apperr.ErrForbidden
	}
	if c.IsAdmin() {
		ok, err := s.communities.ExistingIDs(ctx, []string{communityID})
		if err != nil {
			return err
		}
		if !ok[communityID] {
			return community.ErrNotFound
		}
	}
	return nil
}

// List is a community's price list in category then name order. Retired
// items are for staff only: residents always see what they can book.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, includeRetired bool) ([]*Item, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !mayRead(c, communityID) {
		return nil, community.ErrNotFound
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if !includeRetired || !c.WorksIn(communityID) {
		q = append(q, bson.E{Key: "status", Value: Active})
	}
	cur, err := s.col.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(maxItems).
		SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("price list: %w", err)
	}
	out := []*Item{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("price list: %w", err)
	}
	return out, nil
}

// PriceHistory is an item's price history for staff of its community;
// residents see the current price only (ok is false).
func PriceHistory(c *access.Caller, it *Item) (history []PriceChange, ok bool) {
	if !c.WorksIn(it.CommunityID) {
		return nil, false
	}
	return it.PriceHistory, true
}

// Item loads an item for another service (orders), without caller checks:
// the caller decides what the item may be used for.
func (s *Service) Item(ctx context.Context, id string) (*Item, error) {
	if !mongo.ValidID(id) {
		return nil, ErrNotFound
	}
	return mongo.FindByID[Item](ctx, s.col, id, ErrNotFound)
}

// FreeCleaning is the community's active free home-cleaning item, if it has
// one (nil otherwise): what a completed renovation's free cleaning books.
func (s *Service) FreeCleaning(ctx context.Context, communityID string) (*Item, error) {
	var it Item
	err := s.col.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "category", Value: HomeCleaning},
		{Key: "free", Value: true}, {Key: "status", Value: Active}}, options.FindOne().SetSort(bson.D{{Key: "sortKey", Value: 1}})).Decode(&it)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("free cleaning item: %w", err)
	}
	return &it, nil
}

// ItemInput creates an item (no ID) or edits one.
type ItemInput struct {
	ID          string
	CommunityID string
	Name        string
	Category    Category
	Description string
	PriceFen    int64
	Unit        Unit
	Free        bool
	Windows     []Window
}

// Upsert creates or edits an item of a community's price list. A change of
// price, unit or free/paid appends to the price history; orders already
// booked keep what they copied.
func (s *Service) Upsert(ctx context.Context, c *access.Caller, in ItemInput) (*Item, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if in.ID != "" {
		if err := validate.ID("input.id", in.ID); err != nil {
			return nil, err
		}
	}
	if err := s.checkEdit(ctx, c, in.CommunityID); err != nil {
		return nil, err
	}
	if err := clean(&in); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if in.ID == "" {
		return s.create(ctx, c, in, now)
	}
	it, err := s.Item(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if it.CommunityID != in.CommunityID {
		return nil, ErrNotFound // an item of another community is not this community's to edit
	}
	to, err := Machine.Next("edit", it.Status)
	if err != nil {
		return nil, err
	}
	if to == "" {
		to = it.Status
	}
	set := bson.D{{Key: "name", Value: in.Name}, {Key: "category", Value: in.Category}, {Key: "description", Value: in.Description},
		{Key: "priceFen", Value: in.PriceFen}, {Key: "unit", Value: in.Unit}, {Key: "free", Value: in.Free},
		{Key: "windows", Value: in.Windows}, {Key: "sortKey", Value: sortKey(in.Category, in.Name, it.ID)}}
	var extra bson.D
	if it.PriceFen != in.PriceFen || it.Unit != in.Unit || it.Free != in.Free {
		oldPrice, oldFree := it.PriceFen, it.Free
		ch := PriceChange{At: now, StaffID: c.ID, OldPriceFen: &oldPrice, NewPriceFen: in.PriceFen, OldUnit: it.Unit, NewUnit: in.Unit, OldFree: &oldFree, NewFree: in.Free}
		extra = bson.D{{Key: "$push", Value: bson.D{{Key: "priceHistory", Value: ch}}}}
	}
	entry := lifecycle.Entry{At: now, Action: "edit", From: string(it.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	var out Item
	if err := s.steps.ApplyWith(ctx, it.ID, it.Version, entry, set, extra, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) create(ctx context.Context, c *access.Caller, in ItemInput, now time.Time) (*Item, error) {
	n, err := s.col.CountDocuments(ctx, bson.D{{Key: "communityId", Value: in.CommunityID}})
	if err != nil {
		return nil, fmt.Errorf("count price list: %w", err)
	}
	if n >= maxItems {
		return nil, apperr.Invalid("input.communityId", "input.too_many", maxItems)
	}
	it := &Item{
		ID: mongo.NewID(), CommunityID: in.CommunityID, Name: in.Name, Category: in.Category, Description: in.Description,
		PriceFen: in.PriceFen, Unit: in.Unit, Free: in.Free, Windows: in.Windows, Status: Active,
		PriceHistory: []PriceChange{{At: now, StaffID: c.ID, NewPriceFen: in.PriceFen, NewUnit: in.Unit, NewFree: in.Free}},
		CreatedBy:    c.ID, CreatedAt: now, UpdatedAt: now,
	}
	it.SortKey = sortKey(it.Category, it.Name, it.ID)
	it.Timeline = []lifecycle.Entry{{At: now, Action: "create", To: string(Active), ActorID: c.ID, ActorKind: string(c.Kind)}}
	if _, err := s.col.InsertOne(ctx, it); err != nil {
		return nil, fmt.Errorf("insert service item: %w", err)
	}
	return it, nil
}

// Retire takes an item off the list; orders booked on it are not touched.
func (s *Service) Retire(ctx context.Context, c *access.Caller, id string) (*Item, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	it, err := s.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mayRead(c, it.CommunityID) {
		return nil, ErrNotFound
	}
	if !mayEdit(c, it.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	to, err := Machine.Next("retire", it.Status)
	if err != nil {
		return nil, err
	}
	var out Item
	entry := lifecycle.Entry{Action: "retire", From: string(it.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	if err := s.steps.Apply(ctx, it.ID, it.Version, entry, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func sortKey(cat Category, name, id string) string {
	return fmt.Sprintf("%02d|%s|%s", slices.Index(Categories, cat), name, id)
}

var clock = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// clean validates and normalises an item, naming the field that is wrong.
func clean(in *ItemInput) error {
	var err error
	if in.Name, err = validate.Text("input.name", in.Name, true, 40); err != nil {
		return err
	}
	if !slices.Contains(Categories, in.Category) {
		return apperr.Invalid("input.category", "input.bad_value")
	}
	if in.Description, err = validate.Text("input.description", in.Description, false, 500); err != nil {
		return err
	}
	if !slices.Contains(Units, in.Unit) {
		return apperr.Invalid("input.unit", "input.bad_value")
	}
	const maxPrice = 100_000_00 // 100,000 yuan: anything above is a typo
	switch {
	case in.PriceFen < 0 || in.PriceFen > maxPrice:
		return apperr.Invalid("input.priceFen", "input.out_of_range", 0, maxPrice)
	case in.Free && in.PriceFen != 0:
		return apperr.Invalid("input.priceFen", "catalog.price_when_free")
	case !in.Free && in.PriceFen == 0:
		return apperr.Invalid("input.priceFen", "catalog.price_required")
	}
	if len(in.Windows) == 0 {
		return apperr.Invalid("input.windows", "catalog.no_windows")
	}
	if len(in.Windows) > 14 {
		return apperr.Invalid("input.windows", "input.too_many", 14)
	}
	for i, w := range in.Windows {
		field := "input.windows." + strconv.Itoa(i)
		days := slices.Clone(w.Weekdays)
		slices.Sort(days)
		if len(days) == 0 || len(slices.Compact(slices.Clone(days))) != len(days) || days[0] < 1 || days[len(days)-1] > 7 {
			return apperr.Invalid(field+".weekdays", "catalog.bad_weekday")
		}
		if !clock.MatchString(w.From) {
			return apperr.Invalid(field+".from", "catalog.bad_clock")
		}
		if !clock.MatchString(w.To) {
			return apperr.Invalid(field+".to", "catalog.bad_clock")
		}
		if w.To <= w.From {
			return apperr.Invalid(field+".to", "catalog.bad_window")
		}
		in.Windows[i] = Window{Weekdays: days, From: w.From, To: w.To}
	}
	return nil
}

// Fits reports whether the slot on date (its weekday) from..to lies inside
// one of the item's windows.
func (it *Item) Fits(date time.Time, from, to string) bool {
	wd := int(date.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, w := range it.Windows {
		if slices.Contains(w.Weekdays, wd) && w.From <= from && to <= w.To && from < to {
			return true
		}
	}
	return false
}

// ValidClock reports an "HH:MM" time of day.
func ValidClock(s string) bool { return clock.MatchString(s) }
