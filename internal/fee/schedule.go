package fee

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// MaxRate bounds a rate: 100,000 元 per unit per month is far above any
// real schedule, so a larger figure is a typing slip (fen typed as 元×100
// twice), not a price.
const MaxRate = 10_000_000

var codeRe = regexp.MustCompile(`^[A-Z0-9-]{1,20}$`)

// ItemInput is a new fee item or a new version of one.
type ItemInput struct {
	ItemID              string // empty: a new item
	BaseVersion         *int   // the version the editor changed; required with ItemID
	Code, Name, NameEN  string
	Kind                ItemKind
	Rate                int64
	RatesByBuildingType map[string]int64
	Apportion           Apportion
	EffectiveFrom       string
	Retired             bool
	Note                string
}

// ScheduledItem is an item in force with all its versions, newest first.
type ScheduledItem struct {
	Item    *Item
	History []*Item
}

// UpsertItem adds a fee item or a new version of one (ManagesSchedule).
// Versions are claimed by inserting "<itemId>#<version>": of two editors
// who changed the same version, the second gets CONFLICT.
func (s *Service) UpsertItem(ctx context.Context, c *access.Caller, communityID string, in ItemInput) (*Item, error) {
	if _, err := s.staffCommunity(ctx, c, "communityId", communityID, ManagesSchedule); err != nil {
		return nil, err
	}
	it, err := checkItem(in)
	if err != nil {
		return nil, err
	}
	it.CommunityID, it.CreatedBy, it.CreatedAt = communityID, c.ID, s.now().UTC()
	it.ItemID, it.Version = mongo.NewID(), 1
	if in.ItemID != "" {
		if err := validate.ID("input.itemId", in.ItemID); err != nil {
			return nil, err
		}
		if in.BaseVersion == nil {
			return nil, apperr.Invalid("input.baseVersion", "fee.version_required")
		}
		prev, err := mongo.FindByID[Item](ctx, s.items, in.ItemID+"#"+strconv.Itoa(*in.BaseVersion), ErrItemNotFound.WithField("input.itemId"))
		if err != nil {
			return nil, err
		}
		if prev.CommunityID != communityID {
			return nil, ErrItemNotFound.WithField("input.itemId")
		}
		if prev.Kind != it.Kind {
			return nil, apperr.Invalid("input.kind", "fee.kind_changed")
		}
		if it.EffectiveFrom < prev.EffectiveFrom {
			return nil, apperr.Invalid("input.effectiveFrom", "fee.effective_before", prev.EffectiveFrom)
		}
		it.ItemID, it.Version = prev.ItemID, prev.Version+1
	}
	it.ID = it.ItemID + "#" + strconv.Itoa(it.Version)
	if _, err := s.items.InsertOne(ctx, it); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrVersionConflict.WithField("input.baseVersion")
		}
		return nil, fmt.Errorf("insert fee item: %w", err)
	}
	return it, nil
}

func checkItem(in ItemInput) (*Item, error) {
	if !codeRe.MatchString(in.Code) {
		return nil, apperr.Invalid("input.code", "fee.bad_code")
	}
	name, err := validate.Text("input.name", in.Name, true, 40)
	if err != nil {
		return nil, err
	}
	nameEN, err := validate.Text("input.nameEN", in.NameEN, false, 80)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ItemKinds, in.Kind) {
		return nil, apperr.Invalid("input.kind", "fee.bad_kind")
	}
	if in.Rate < 0 || in.Rate > MaxRate {
		return nil, apperr.Invalid("input.rate", "fee.rate_range", MaxRate)
	}
	for t, r := range in.RatesByBuildingType {
		if !slices.Contains(community.BuildingTypes, community.BuildingType(t)) {
			return nil, apperr.Invalid("input.ratesByBuildingType.buildingType", "community.bad_building_type")
		}
		if r < 0 || r > MaxRate {
			return nil, apperr.Invalid("input.ratesByBuildingType.rate", "fee.rate_range", MaxRate)
		}
	}
	shared := in.Kind == SharedWater || in.Kind == SharedElectricity
	if shared && in.Apportion != ByArea && in.Apportion != Equally {
		return nil, apperr.Invalid("input.apportion", "fee.apportion_required")
	}
	if !shared {
		in.Apportion = ""
	}
	if err := checkPeriod("input.effectiveFrom", in.EffectiveFrom); err != nil {
		return nil, err
	}
	note, err := validate.Text("input.note", in.Note, false, 200)
	if err != nil {
		return nil, err
	}
	rates := in.RatesByBuildingType
	if len(rates) == 0 || in.Kind != Management {
		rates = nil
	}
	return &Item{Code: in.Code, Kind: in.Kind, Name: name, NameEN: nameEN, Rate: in.Rate, RatesByBuildingType: rates,
		Apportion: in.Apportion, EffectiveFrom: in.EffectiveFrom, Retired: in.Retired, Note: note}, nil
}

// Schedule is the fee schedule of a community in force in period (empty:
// the current period in the community's time zone), each item with its
// history; residents of the community and its staff read it.
func (s *Service) Schedule(ctx context.Context, c *access.Caller, communityID, period string) (string, []*ScheduledItem, error) {
	com, err := s.readerCommunity(ctx, c, "communityId", communityID)
	if err != nil {
		return "", nil, err
	}
	if period == "" {
		period = currentPeriod(com, s.now())
	} else if err := checkPeriod("period", period); err != nil {
		return "", nil, err
	}
	out, err := s.inForce(ctx, communityID, period)
	return period, out, err
}

// inForce reads all versions of the community's items (tens of items with a
// few versions each: one query) and picks, per item, the version in force in
// period: the latest effective from period or before, unless it retires the
// item.
func (s *Service) inForce(ctx context.Context, communityID, period string) ([]*ScheduledItem, error) {
	all, err := mongo.FindAll[Item](ctx, s.items, bson.D{{Key: "communityId", Value: communityID}}, "fee schedule",
		options.Find().SetSort(asc("communityId", "itemId", "version")))
	if err != nil {
		return nil, err
	}
	byItem := map[string][]*Item{}
	var order []string
	for _, it := range all {
		if _, ok := byItem[it.ItemID]; !ok {
			order = append(order, it.ItemID)
		}
		byItem[it.ItemID] = append(byItem[it.ItemID], it)
	}
	var out []*ScheduledItem
	for _, id := range order {
		vs := byItem[id]
		var pick *Item
		for _, v := range vs {
			if v.EffectiveFrom <= period && (pick == nil || v.EffectiveFrom > pick.EffectiveFrom || (v.EffectiveFrom == pick.EffectiveFrom && v.Version > pick.Version)) {
				pick = v
			}
		}
		if pick == nil || pick.Retired {
			continue
		}
		hist := slices.Clone(vs)
		slices.Reverse(hist)
		out = append(out, &ScheduledItem{Item: pick, History: hist})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Item.Code < out[j].Item.Code })
	return out, nil
}

// RateFor is the item's rate for a building of type t.
func (it *Item) RateFor(t community.BuildingType) int64 {
	if r, ok := it.RatesByBuildingType[string(t)]; ok {
		return r
	}
	return it.Rate
}
