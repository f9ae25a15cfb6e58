package fee

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

func init() {
	mongo.Declare(mongo.Indexes{Collection: colReliefs, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "toPeriod", Value: 1}}},
	}})
	mongo.Declare(mongo.Indexes{Collection: colBills, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "period", Value: 1}}},
	}})
}

// Relief is fee relief (减免) a supervisor granted a household for a range
// of periods: a share of some or all fee items, with the reason. It reduces
// bills already issued for those periods (never below what is already paid:
// money paid is not taken back) and is applied to bills issued later.
// Its reason usually tells of hardship, so staff reads of it are audited
// like the care archive's sensitive details.
type Relief struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	BuildingID  string    `bson:"buildingId"`
	HouseholdID string    `bson:"householdId"`
	FromPeriod  string    `bson:"fromPeriod"`
	ToPeriod    string    `bson:"toPeriod"`
	ItemCodes   []string  `bson:"itemCodes"` // empty: every item
	Percent     int       `bson:"percent"`   // 1..100; 100 waives
	Reason      string    `bson:"reason"`
	GrantedBy   string    `bson:"grantedBy"`
	GrantedAt   time.Time `bson:"grantedAt"`
	// Applied is what it took off bills already issued when granted.
	Applied []AppliedRelief `bson:"applied"`
}

// AppliedRelief is relief taken off one bill.
type AppliedRelief struct {
	BillID string `bson:"billId"`
	Fen    int64  `bson:"fen"`
}

// Covers reports whether r relieves item code in period.
func (r *Relief) Covers(period, code string) bool {
	return period >= r.FromPeriod && period <= r.ToPeriod && (len(r.ItemCodes) == 0 || slices.Contains(r.ItemCodes, code))
}

// lineRelief is what r takes off a line of amount fen: its share, rounded
// half up to the fen.
func (r *Relief) lineRelief(amount int64) int64 {
	return (amount*int64(r.Percent) + 50) / 100
}

// ReliefInput is a grant as a supervisor makes it.
type ReliefInput struct {
	HouseholdID string
	FromPeriod  string
	ToPeriod    string
	ItemCodes   []string
	Percent     int
	Reason      string
}

var periodRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// ErrReliefNotFound is a relief the caller may not see, or none.
var ErrReliefNotFound = apperr.New(apperr.NotFound, "fee.relief_not_found")

func init() {
	apperr.Register(map[string]apperr.Text{
		"fee.relief_not_found": {ZH: "减免记录不存在", EN: "Relief not found"},
		"fee.period_order":     {ZH: "结束账期不能早于开始账期", EN: "The last period cannot be before the first"},
		"fee.relief_span":      {ZH: "一次减免最长 24 个账期", EN: "One grant of relief covers at most 24 periods"},
	})
}

// GrantRelief records relief for a household and applies it to its bills
// already issued in the periods, each by a guarded update of that bill. A
// supervisor of the household's community grants it (not finance, not
// admins: it is a care decision about a family).
func (s *Service) GrantRelief(ctx context.Context, c *access.Caller, in ReliefInput) (*Relief, error) {
	if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	m, err := s.households.ByIDs(ctx, []string{in.HouseholdID})
	if err != nil {
		return nil, err
	}
	h := m[in.HouseholdID]
	if h == nil || !c.WorksIn(h.CommunityID) {
		return nil, household.ErrNotFound.WithField("input.householdId")
	}
	if !GrantsRelief(c, h.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if !periodRE.MatchString(in.FromPeriod) {
		return nil, apperr.Invalid("input.fromPeriod", "input.bad_value")
	}
	if !periodRE.MatchString(in.ToPeriod) {
		return nil, apperr.Invalid("input.toPeriod", "input.bad_value")
	}
	if in.ToPeriod < in.FromPeriod {
		return nil, apperr.Invalid("input.toPeriod", "fee.period_order")
	}
	if months(in.FromPeriod, in.ToPeriod) > 24 {
		return nil, apperr.Invalid("input.toPeriod", "fee.relief_span")
	}
	if in.Percent < 1 || in.Percent > 100 {
		return nil, apperr.Invalid("input.percent", "input.out_of_range", 1, 100)
	}
	if len(in.ItemCodes) > 20 {
		return nil, apperr.Invalid("input.itemCodes", "input.too_many", 20)
	}
	reason, err := validate.Text("input.reason", in.Reason, true, 500)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r := &Relief{ID: mongo.NewID(), CommunityID: h.CommunityID, BuildingID: h.BuildingID, HouseholdID: h.ID, FromPeriod: in.FromPeriod,
		ToPeriod: in.ToPeriod, ItemCodes: append([]string{}, in.ItemCodes...), Percent: in.Percent, Reason: reason, GrantedBy: c.ID,
		GrantedAt: now, Applied: []AppliedRelief{}}
	if _, err := s.reliefs.InsertOne(ctx, r); err != nil {
		return nil, fmt.Errorf("grant relief: %w", err)
	}
	applied, err := s.applyToIssued(ctx, c, r, now)
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		r.Applied = applied
		if _, err := s.reliefs.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "applied", Value: applied}}}}); err != nil {
			return nil, fmt.Errorf("grant relief: %w", err)
		}
	}
	return r, nil
}

// months counts the periods from..to inclusive.
func months(from, to string) int {
	f, _ := time.Parse("2006-01", from)
	t, _ := time.Parse("2006-01", to)
	return (t.Year()-f.Year())*12 + int(t.Month()-f.Month()) + 1
}

// applyToIssued reduces the household's open bills in r's periods.
func (s *Service) applyToIssued(ctx context.Context, c *access.Caller, r *Relief, now time.Time) ([]AppliedRelief, error) {
	bills, err := mongo.FindAll[Bill](ctx, s.bills, bson.D{{Key: "householdId", Value: r.HouseholdID},
		{Key: "period", Value: bson.D{{Key: "$gte", Value: r.FromPeriod}, {Key: "$lte", Value: r.ToPeriod}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []BillStatus{Issued, PartlyPaid}}}}}, "bills to relieve")
	if err != nil {
		return nil, err
	}
	var out []AppliedRelief
	for _, b := range bills {
		fen, err := s.relieveBill(ctx, c, b, r, now)
		if err != nil {
			return out, err
		}
		if fen > 0 {
			out = append(out, AppliedRelief{BillID: b.ID, Fen: fen})
		}
	}
	return out, nil
}

// relieveBill applies r to b as a guarded step on the bill's version (the
// same ledger the payments claim, so a payment landing meanwhile makes this
// read the bill again and decide anew); it returns the fen relieved.
func (s *Service) relieveBill(ctx context.Context, c *access.Caller, b *Bill, r *Relief, now time.Time) (int64, error) {
	store := lifecycle.NewStore(&mongo.DB{Database: s.bills.Database()}, colBills, s.now)
	for attempt := 0; ; attempt++ {
		if b.Status != Issued && b.Status != PartlyPaid {
			return 0, nil
		}
		lines, fen := ApplyRelief(b, r)
		if fen == 0 {
			return 0, nil
		}
		relieved := b.Relieved + fen
		status := StatusFor(b.Amount, relieved, b.Paid)
		entry := lifecycle.Entry{At: now, Action: "relief", From: string(b.Status), To: string(status), ActorID: c.ID, ActorKind: string(c.Kind),
			Data: map[string]any{"reliefId": r.ID, "fen": fen}}
		var out Bill
		err := store.ApplyWith(ctx, b.ID, b.Version, entry, bson.D{{Key: "lines", Value: lines}, {Key: "relieved", Value: relieved}}, nil, &out)
		if err == nil {
			return fen, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) || attempt >= 8 {
			return 0, fmt.Errorf("relieve bill %s: %w", b.ID, err)
		}
		fresh, err := mongo.FindByID[Bill](ctx, s.bills, b.ID, ErrBillNotFound)
		if err != nil {
			return 0, err
		}
		b = fresh
	}
}

// ApplyRelief is b's lines with r's share taken off the lines it covers,
// never relieving more than is still unpaid (what is paid stays paid), and
// the fen it takes off; generation calls it for bills issued after a grant.
func ApplyRelief(b *Bill, r *Relief) ([]Line, int64) {
	room := b.Amount - b.Relieved - b.Paid
	lines := slices.Clone(b.Lines)
	var total int64
	for i := range lines {
		l := &lines[i]
		if room <= 0 || !r.Covers(b.Period, l.Code) {
			continue
		}
		want := min(r.lineRelief(l.Amount), l.Amount-l.Relief, room)
		if want <= 0 {
			continue
		}
		l.Relief += want
		room -= want
		total += want
	}
	return lines, total
}

// ReliefsFor lists the reliefs of households covering period, by
// household: one query for a batch of a generation run.
func (s *Service) ReliefsFor(ctx context.Context, householdIDs []string, period string) (map[string][]*Relief, error) {
	list, err := mongo.FindAll[Relief](ctx, s.reliefs, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: householdIDs}}},
		{Key: "toPeriod", Value: bson.D{{Key: "$gte", Value: period}}}, {Key: "fromPeriod", Value: bson.D{{Key: "$lte", Value: period}}}}, "reliefs for period")
	if err != nil {
		return nil, err
	}
	out := map[string][]*Relief{}
	for _, r := range list {
		out[r.HouseholdID] = append(out[r.HouseholdID], r)
	}
	return out, nil
}

// Reliefs lists a household's reliefs, newest first, for those who may see
// its bills: its owners and family (and tenants an owner allowed), and the
// staff who read its finances. Others get NOT_FOUND.
func (s *Service) Reliefs(ctx context.Context, c *access.Caller, householdID string) ([]*Relief, error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	m, err := s.households.ByIDs(ctx, []string{householdID})
	if err != nil {
		return nil, err
	}
	h := m[householdID]
	if h == nil {
		return nil, household.ErrNotFound
	}
	tenants, err := s.tenantsAllowed(ctx, []string{householdID})
	if err != nil {
		return nil, err
	}
	if !SeesHouseholdBills(c, h.Ref(), tenants[householdID]) {
		return nil, household.ErrNotFound
	}
	cur, err := s.reliefs.Find(ctx, bson.D{{Key: "householdId", Value: householdID}},
		options.Find().SetSort(bson.D{{Key: "grantedAt", Value: -1}}).SetLimit(100))
	if err != nil {
		return nil, fmt.Errorf("reliefs: %w", err)
	}
	out := []*Relief{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("reliefs: %w", err)
	}
	return out, nil
}

// ReasonFor returns r's reason if c may read it, with the read to audit:
// the household's own members read theirs unaudited; staff reads are
// written to the archive's audit log before they are shown (as for health
// and hardship details).
func ReasonFor(c *access.Caller, r *Relief) (string, *archive.SensitiveRead) {
	if c.IsPerson() {
		return r.Reason, nil
	}
	return r.Reason, &archive.SensitiveRead{Via: access.HouseholdRef{ID: r.HouseholdID, CommunityID: r.CommunityID, BuildingID: r.BuildingID},
		Field: "feeRelief.reason", Subject: "feeRelief:" + r.ID}
}

// ReliefHeld reports which of households have relief covering the current
// or the previous period (today is YYYY-MM-DD in their community): the fee
// reminders hold them back.
func (s *Service) ReliefHeld(ctx context.Context, householdIDs []string, today string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(householdIDs) == 0 {
		return out, nil
	}
	t, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return nil, errors.New("relief held: bad date " + today)
	}
	prev := t.AddDate(0, -1, -t.Day()+1).Format("2006-01")
	cur, err := s.reliefs.Find(ctx, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: householdIDs}}},
		{Key: "toPeriod", Value: bson.D{{Key: "$gte", Value: prev}}}}, options.Find().SetProjection(bson.D{{Key: "householdId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("relief held: %w", err)
	}
	var list []struct {
		HouseholdID string `bson:"householdId"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("relief held: %w", err)
	}
	for _, x := range list {
		out[x.HouseholdID] = true
	}
	return out, nil
}
