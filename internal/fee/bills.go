package fee

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Totals add up the bills a filter matches, over the whole filter.
type Totals struct {
	Count                               int
	Amount, Relieved, Paid, Outstanding int64
}

// BillPage is a page of bills with the totals of the whole filter.
type BillPage struct {
	page.Page[*Bill]
	Totals *Totals
}

// BillFilter narrows the staff bill list.
type BillFilter struct {
	BuildingID, Period string
	Status             BillStatus
	MinArrearsDays     int
}

// tenantsAllowed reports which of the households let their tenants see
// their bills (one query).
func (s *Service) tenantsAllowed(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.access.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "tenants", Value: true}})
	if err != nil {
		return nil, fmt.Errorf("bill access: %w", err)
	}
	var list []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("bill access: %w", err)
	}
	for _, a := range list {
		out[a.ID] = true
	}
	return out, nil
}

// SetTenantBillAccess lets (or stops) the household's tenants see its bills;
// its owners only. NOT_FOUND for anyone who is not a member.
func (s *Service) SetTenantBillAccess(ctx context.Context, c *access.Caller, householdID string, allowed bool) (bool, error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return false, err
	}
	role, ok := c.RoleIn(householdID)
	if !ok {
		return false, ErrHouseholdNotFound.WithField("householdId")
	}
	if role != access.Owner {
		return false, apperr.New(apperr.Forbidden, "fee.tenant_access_owners")
	}
	_, err := s.access.UpdateByID(ctx, householdID, bson.D{{Key: "$set", Value: bson.D{{Key: "tenants", Value: allowed},
		{Key: "by", Value: c.ID}, {Key: "at", Value: s.now().UTC()}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return false, fmt.Errorf("set bill access: %w", err)
	}
	return allowed, nil
}

// billHouseholds are the caller's households whose bills they see: owner
// and family always, tenant when the owner allowed it.
func (s *Service) billHouseholds(ctx context.Context, c *access.Caller) ([]string, error) {
	var out, tenancies []string
	for _, m := range c.Memberships {
		switch m.Role {
		case access.Owner, access.Family:
			out = append(out, m.HouseholdID)
		case access.Tenant:
			tenancies = append(tenancies, m.HouseholdID)
		}
	}
	allowed, err := s.tenantsAllowed(ctx, tenancies)
	if err != nil {
		return nil, err
	}
	for _, h := range tenancies {
		if allowed[h] {
			out = append(out, h)
		}
	}
	return out, nil
}

// MyBills pages the bills of the caller's households, newest period first;
// householdID narrows to one of them (NOT_FOUND for any other).
func (s *Service) MyBills(ctx context.Context, c *access.Caller, householdID string, p page.Request) (page.Page[*Bill], error) {
	var none page.Page[*Bill]
	ids, err := s.billHouseholds(ctx, c)
	if err != nil {
		return none, err
	}
	if householdID != "" {
		if !slices.Contains(ids, householdID) {
			return none, ErrHouseholdNotFound.WithField("householdId")
		}
		ids = []string{householdID}
	}
	if len(ids) == 0 {
		pg := page.Trim([]*Bill{}, p, billKey)
		pg.Total = 0
		return pg, nil
	}
	return mongo.FindPage(ctx, s.bills, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}}, p, mongo.PageQuery{Omit: []string{"timeline"}}, billKey)
}

func billKey(b *Bill) string { return b.SortKey }

// Bill returns one bill the caller may see (SeesHouseholdBills); NOT_FOUND
// otherwise, the same as for a bill that does not exist.
func (s *Service) Bill(ctx context.Context, c *access.Caller, id string) (*Bill, error) {
	if len(id) > 200 || !strings.HasPrefix(id, "bill:") {
		return nil, ErrBillNotFound.WithField("id")
	}
	b, err := mongo.FindByID[Bill](ctx, s.bills, id, ErrBillNotFound.WithField("id"))
	if err != nil {
		return nil, err
	}
	ok, err := s.sees(ctx, c, b)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBillNotFound.WithField("id")
	}
	return b, nil
}

func (s *Service) sees(ctx context.Context, c *access.Caller, b *Bill) (bool, error) {
	ref := access.HouseholdRef{ID: b.HouseholdID, CommunityID: b.CommunityID, BuildingID: b.BuildingID}
	tenants := false
	if role, ok := c.RoleIn(b.HouseholdID); ok && role == access.Tenant {
		allowed, err := s.tenantsAllowed(ctx, []string{b.HouseholdID})
		if err != nil {
			return false, err
		}
		tenants = allowed[b.HouseholdID]
	}
	return SeesHouseholdBills(c, ref, tenants), nil
}

func readsBills(c *access.Caller, communityID string) bool {
	return ReadsFinance(c, communityID) || RecordsPayments(c, communityID)
}

// Bills pages a community's bills for finance and the front desk, with the
// totals over the whole filter.
func (s *Service) Bills(ctx context.Context, c *access.Caller, communityID string, f BillFilter, p page.Request) (*BillPage, error) {
	com, err := s.staffCommunity(ctx, c, "communityId", communityID, readsBills)
	if err != nil {
		return nil, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if f.BuildingID != "" {
		if err := validate.ID("filter.buildingId", f.BuildingID); err != nil {
			return nil, err
		}
		q = append(q, bson.E{Key: "buildingId", Value: f.BuildingID})
	}
	if f.Period != "" {
		if err := checkPeriod("filter.period", f.Period); err != nil {
			return nil, err
		}
		q = append(q, bson.E{Key: "period", Value: f.Period})
	}
	statuses := bson.A{}
	if f.Status != "" {
		statuses = append(statuses, f.Status)
	}
	if f.MinArrearsDays < 0 || f.MinArrearsDays > 36500 {
		return nil, apperr.Invalid("filter.minArrearsDays", "input.out_of_range", 0, 36500)
	}
	if f.MinArrearsDays > 0 {
		// Overdue by at least that many days: due on or before today minus
		// the days, and still open.
		due := s.now().In(com.Location()).AddDate(0, 0, -f.MinArrearsDays)
		q = append(q, bson.E{Key: "dueDate", Value: bson.D{{Key: "$lte", Value: due.Format("2006-01-02")}}})
		if f.Status == "" {
			statuses = bson.A{Issued, PartlyPaid}
		} else if f.Status != Issued && f.Status != PartlyPaid {
			statuses = bson.A{"none"}
		}
	}
	if len(statuses) > 0 {
		q = append(q, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: statuses}}})
	}
	pg, err := mongo.FindPage(ctx, s.bills, q, p, mongo.PageQuery{Omit: []string{"timeline"}}, billKey)
	if err != nil {
		return nil, err
	}
	t, err := s.totals(ctx, q)
	if err != nil {
		return nil, err
	}
	pg.Total = t.Count
	return &BillPage{Page: pg, Totals: t}, nil
}

// totals adds up the bills of q from a projection of their amounts, in one
// streamed query (FerretDB's $group sums counts only).
func (s *Service) totals(ctx context.Context, q bson.D) (*Totals, error) {
	t := &Totals{}
	err := mongo.Stream(ctx, s.bills, q, bson.D{{Key: "amount", Value: 1}, {Key: "relieved", Value: 1}, {Key: "paid", Value: 1}, {Key: "status", Value: 1}},
		"bill totals", func(b *Bill) error {
			t.Count++
			t.Amount += b.Amount
			t.Relieved += b.Relieved
			t.Paid += b.Paid
			t.Outstanding += b.Outstanding()
			return nil
		})
	return t, err
}
