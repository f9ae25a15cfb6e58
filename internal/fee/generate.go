package fee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/page"
)

// BatchSize is how many households one billing batch reads and writes: a
// batch costs a constant number of round trips (households, spaces,
// one InsertMany), whatever the community's size.
const BatchSize = 500

// maxSkippedLabels bounds the labels of skipped households a run reports.
const maxSkippedLabels = 10

// GenerateResult is what a billing run did.
type GenerateResult struct {
	Period         string
	Households     int // households of the scope read
	Created        int // bills inserted by this run
	AlreadyPresent int // bills an earlier run had made
	// Skipped households have no floor area while a management fee is in
	// force: they get no bill yet (a bill without its management line could
	// never gain it, ids being derived), so staff fix the register and run
	// again, which bills just them.
	Skipped       int
	SkippedLabels []string // the first few, for staff to find
}

// GenerateBills bills every household of the community (or of one
// building) for period (ManagesSchedule). Bill ids are derived, so a second
// run inserts nothing and a household added later is billed by running
// again.
func (s *Service) GenerateBills(ctx context.Context, c *access.Caller, communityID, period, dueDate, buildingID string) (*GenerateResult, error) {
	if _, err := s.staffCommunity(ctx, c, "communityId", communityID, ManagesSchedule); err != nil {
		return nil, err
	}
	if err := checkPeriod("period", period); err != nil {
		return nil, err
	}
	if !dateRe.MatchString(dueDate) {
		return nil, apperr.Invalid("dueDate", "fee.bad_date")
	}
	var scope []string
	if buildingID != "" {
		if _, err := s.communities.CheckBuildings(ctx, "buildingId", communityID, []string{buildingID}, 1); err != nil {
			return nil, err
		}
		scope = []string{buildingID}
	}
	run, err := s.newRun(ctx, c, communityID, period, dueDate)
	if err != nil {
		return nil, err
	}
	p := page.Request{First: BatchSize}
	for {
		pg, err := s.households.InAudience(ctx, communityID, scope, p)
		if err != nil {
			return nil, err
		}
		if err := run.batch(ctx, pg.Items); err != nil {
			return nil, err
		}
		if !pg.HasNext {
			return run.res, nil
		}
		p.After = pg.Keys[len(pg.Keys)-1]
	}
}

// newRun reads what bills of period are computed from: the items in force,
// the building types and the shared charges' split.
func (s *Service) newRun(ctx context.Context, c *access.Caller, communityID, period, dueDate string) (*billRun, error) {
	items, err := s.inForce(ctx, communityID, period)
	if err != nil {
		return nil, err
	}
	bs, err := s.communities.BuildingsByCommunities(ctx, []string{communityID})
	if err != nil {
		return nil, err
	}
	types := map[string]community.BuildingType{}
	for _, b := range bs[communityID] {
		types[b.ID] = b.Type
	}
	shared, err := s.sharedLines(ctx, communityID, period, items)
	if err != nil {
		return nil, err
	}
	return &billRun{s: s, c: c, items: items, types: types, shared: shared, period: period, dueDate: dueDate,
		res: &GenerateResult{Period: period, SkippedLabels: []string{}}}, nil
}

type billRun struct {
	s               *Service
	c               *access.Caller
	items           []*ScheduledItem
	types           map[string]community.BuildingType
	shared          map[string][]Line
	period, dueDate string
	res             *GenerateResult
}

func (r *billRun) batch(ctx context.Context, hs []*household.Household) error {
	if len(hs) == 0 {
		return nil
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	spaces, reliefs, err := r.inputs(ctx, ids)
	if err != nil {
		return err
	}
	now := r.s.now().UTC()
	docs := make([]any, 0, len(hs))
	for _, h := range hs {
		r.res.Households++
		b, skipped := r.bill(h, BillID(h.CommunityID, h.ID, r.period), spaces[h.ID], reliefs[h.ID], now)
		if skipped {
			r.res.Skipped++
			if len(r.res.SkippedLabels) < maxSkippedLabels {
				r.res.SkippedLabels = append(r.res.SkippedLabels, h.Label)
			}
		}
		if b != nil {
			docs = append(docs, b)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	present, err := insertIgnoringDuplicates(ctx, r.s.bills, docs)
	if err != nil {
		return err
	}
	r.res.Created += len(docs) - len(present)
	r.res.AlreadyPresent += len(present)
	return r.s.announce(ctx, docs, present)
}

// inputs reads what a batch's bills need beyond the household: the parking
// spaces they hold (when parking is charged) and relief granted for the
// period (减免), which reduces the lines as they are made; one query each.
func (r *billRun) inputs(ctx context.Context, ids []string) (map[string]int, map[string][]*Relief, error) {
	var spaces map[string]int
	for _, it := range r.items {
		if it.Item.Kind == Parking && spaces == nil {
			var err error
			if spaces, err = r.s.spacesHeld(ctx, ids); err != nil {
				return nil, nil, err
			}
		}
	}
	reliefs, err := r.s.ReliefsFor(ctx, ids, r.period)
	if err != nil {
		return nil, nil, err
	}
	return spaces, reliefs, nil
}

// bill computes h's bill under id; nil when there is nothing to charge or
// h was skipped for want of a floor area.
func (r *billRun) bill(h *household.Household, id string, spaces int, reliefs []*Relief, now time.Time) (*Bill, bool) {
	lines, skipped := r.lines(h, spaces)
	if skipped || len(lines) == 0 {
		return nil, skipped
	}
	b := &Bill{ID: id, CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID,
		Label: h.Label, Period: r.period, DueDate: r.dueDate, Allocations: []Allocation{}, Version: 1, IssuedAt: now, UpdatedAt: now,
		Announced: r.s.notices != nil}
	for i := range lines {
		b.Amount += lines[i].Amount
	}
	b.Lines = lines
	for _, rl := range reliefs {
		var fen int64
		b.Lines, fen = ApplyRelief(b, rl)
		b.Relieved += fen
	}
	b.Status = StatusFor(b.Amount, b.Relieved, 0)
	b.SortKey = periodSortKey(r.period, b.ID)
	b.Timeline = []lifecycle.Entry{{At: now, Action: "create", To: string(b.Status), ActorID: r.c.ID, ActorKind: string(r.c.Kind)}}
	return b, false
}

// insertIgnoringDuplicates inserts docs unordered in one command and
// returns the positions of those already present.
func insertIgnoringDuplicates(ctx context.Context, col *mgo.Collection, docs []any) (map[int]bool, error) {
	present := map[int]bool{}
	_, err := col.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return present, nil
	}
	var bwe mgo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, fmt.Errorf("insert bills: %w", err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return nil, fmt.Errorf("insert bills: %w", err)
		}
		present[we.Index] = true
	}
	return present, nil
}

// lines computes a household's lines; skipped says its management line was
// left out for want of a floor area.
func (r *billRun) lines(h *household.Household, spaces int) ([]Line, bool) {
	var out []Line
	skipped := false
	for _, si := range r.items {
		it := si.Item
		l := Line{ItemID: it.ItemID, ItemVersion: it.Version, Code: it.Code, Kind: it.Kind, Name: it.Name, NameEN: it.NameEN}
		switch it.Kind {
		case Management:
			area := areaHundredths(h)
			if area <= 0 {
				skipped = true
				continue
			}
			l.UnitPrice = it.RateFor(r.types[h.BuildingID])
			l.Amount = roundHundredths(area * l.UnitPrice)
			l.Quantity = fmt.Sprintf("%d.%02d m²", area/100, area%100)
		case Parking:
			if spaces == 0 {
				continue
			}
			l.UnitPrice, l.Amount = it.Rate, it.Rate*int64(spaces)
			l.Quantity = fmt.Sprintf("%d 个车位", spaces)
		case OtherFee:
			l.UnitPrice, l.Amount, l.Quantity = it.Rate, it.Rate, "1 户"
		}
		if it.Kind == SharedWater || it.Kind == SharedElectricity {
			continue
		}
		out = append(out, l)
	}
	return append(out, r.shared[h.ID]...), skipped
}

func areaHundredths(h *household.Household) int64 {
	if h.FloorArea == nil || *h.FloorArea <= 0 {
		return 0
	}
	return int64(roundFloat(*h.FloorArea * 100))
}

func periodQuery(communityID, period string) bson.D {
	return bson.D{{Key: "communityId", Value: communityID}, {Key: "period", Value: period}}
}
