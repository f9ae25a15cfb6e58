package serviceorder

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Mine lists the orders of the caller's households (or of one of them),
// newest first. Staff have no households: an empty list, as every other
// "my" list answers them.
func (s *Service) Mine(ctx context.Context, c *access.Caller, householdID string, status Status, p page.Request) (page.Page[*Order], error) {
	var none page.Page[*Order]
	if !c.IsPerson() {
		return none, nil
	}
	var q bson.D
	if householdID != "" {
		if err := validate.ID("householdId", householdID); err != nil {
			return none, err
		}
		if _, ok := c.RoleIn(householdID); !ok {
			return none, household.ErrNotFound
		}
		q = bson.D{{Key: "householdId", Value: householdID}}
	} else {
		ids := []string{}
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
		q = bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}}
	}
	if status != "" {
		if !slices.Contains(Statuses, status) {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: status})
	}
	return s.find(ctx, q, p, false)
}

// Filter narrows the staff list of one community.
type Filter struct {
	CommunityID string
	Status      Status
	Category    catalog.Category
	AssigneeID  string
	From, To    *time.Time // the slot starts within
}

// List is the staff list of a community, newest booking first, counted.
// Handlers see every order of the community; other staff of it see the
// orders they were ever assigned; staff of other communities see nothing
// (NOT_FOUND, as for any thing of another community).
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Order], error) {
	var none page.Page[*Order]
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	if !c.WorksIn(f.CommunityID) {
		return none, community.ErrNotFound
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if !handles(c, f.CommunityID) {
		q = append(q, bson.E{Key: "assigneeHistory", Value: c.ID})
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.Category != "" {
		if !slices.Contains(catalog.Categories, f.Category) {
			return none, apperr.Invalid("category", "input.bad_value")
		}
		q = append(q, bson.E{Key: "line.category", Value: f.Category})
	}
	if f.AssigneeID != "" {
		if err := validate.ID("assigneeId", f.AssigneeID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "assigneeId", Value: f.AssigneeID})
	}
	q = mongo.InRange(q, "slot.start", f.From, f.To)
	return s.find(ctx, q, p, true)
}

func (s *Service) find(ctx context.Context, q bson.D, p page.Request, count bool) (page.Page[*Order], error) {
	// List screens need no timelines: leave them in the database.
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(o *Order) string { return o.SortKey })
}

// CountsFor counts a community's orders per status (one $group), for the
// handlers' dashboard.
func (s *Service) CountsFor(ctx context.Context, c *access.Caller, communityID string) (map[Status]int, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !c.WorksIn(communityID) {
		return nil, community.ErrNotFound
	}
	if !handles(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	cur, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	var rows []struct {
		ID Status `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	out := map[Status]int{}
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// CallbackDue is an order accepted by its owner and not yet called back.
type CallbackDue struct {
	OrderID        string
	CommunityID    string
	HouseholdID    string
	HouseholdLabel string
	ItemName       string
	AcceptedAt     time.Time
	HandlerID      string // the staff member who confirmed it and owes the callback
	AssigneeID     string
	BookedBy       string // the resident called back; empty when the company granted it
}

// AwaitingCallback lists a community's orders accepted by the owner and not
// yet called back, oldest first, at most limit (1..500): the butler task
// list's callbacks due. It checks no caller; the task list decides who sees
// what.
func (s *Service) AwaitingCallback(ctx context.Context, communityID string, limit int) ([]CallbackDue, error) {
	limit = min(max(limit, 1), 500)
	list, err := s.accepted(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: Accepted}}, limit)
	if err != nil {
		return nil, err
	}
	out := make([]CallbackDue, 0, len(list))
	for _, o := range list {
		out = append(out, CallbackDue{OrderID: o.ID, CommunityID: o.CommunityID, HouseholdID: o.HouseholdID, HouseholdLabel: o.HouseholdLabel,
			ItemName: o.Line.Name, AcceptedAt: *o.AcceptedAt, HandlerID: o.HandlerID, AssigneeID: o.AssigneeID, BookedBy: o.BookedBy})
	}
	return out, nil
}

// AwaitingCallbackBefore is the reminders' work list (notify.AwaitingLister):
// orders of every community accepted before t and not yet called back.
func (s *Service) AwaitingCallbackBefore(ctx context.Context, t time.Time, limit int) ([]notify.Awaiting, error) {
	list, err := s.accepted(ctx, bson.D{{Key: "status", Value: Accepted}, {Key: "acceptedAt", Value: bson.D{{Key: "$lt", Value: t}}}}, limit)
	if err != nil {
		return nil, err
	}
	out := make([]notify.Awaiting, 0, len(list))
	for _, o := range list {
		w := notify.Awaiting{ID: o.ID, CommunityID: o.CommunityID, Round: 1, Summary: notify.Summary(o.Line.Name), Label: o.HouseholdLabel,
			SignedOffAt: *o.AcceptedAt, Rated: o.Rated, StaffID: o.HandlerID, ResidentID: o.BookedBy}
		if o.Acceptance != nil {
			w.SignerID = o.Acceptance.PersonID
		}
		out = append(out, w)
	}
	return out, nil
}

func (s *Service) accepted(ctx context.Context, q bson.D, limit int) ([]*Order, error) {
	cur, err := s.col.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "acceptedAt", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("orders awaiting a callback: %w", err)
	}
	var out []*Order
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("orders awaiting a callback: %w", err)
	}
	return slices.DeleteFunc(out, func(o *Order) bool { return o.AcceptedAt == nil }), nil
}
