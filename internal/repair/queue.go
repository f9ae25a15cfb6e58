package repair

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Mine lists the requests of the caller's households, newest first.
func (s *Service) Mine(ctx context.Context, c *access.Caller, p page.Request) (page.Page[*Request], error) {
	ids := []string{}
	for _, m := range c.Memberships {
		ids = append(ids, m.HouseholdID)
	}
	return s.find(ctx, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}}, p, false)
}

// QueueFilter narrows the staff queue.
type QueueFilter struct {
	CommunityID string
	BuildingID  string // the building of the home or of the public area
	Statuses    []Status
	AssigneeID  string // the engineer of the current order, or the owning staff member
	Urgency     Urgency
	Category    Category
	Overdue     bool
	From, To    *time.Time // submitted within
}

// Queue is the staff work queue. Butlers and supervisors see their
// communities' requests; engineers see the orders dispatched to them.
func (s *Service) Queue(ctx context.Context, c *access.Caller, f QueueFilter, p page.Request) (page.Page[*Request], error) {
	var none page.Page[*Request]
	if !c.IsStaff() {
		return none, apperr.ErrForbidden
	}
	q := bson.D{}
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
	handlerSomewhere := c.IsAdmin() || c.Has(access.Butler, access.Supervisor)
	switch {
	case f.CommunityID != "" && handles(c, f.CommunityID):
	case f.CommunityID == "" && handlerSomewhere && !c.Has(access.Engineer):
	case c.Has(access.Engineer):
		// Engineers' own orders: every order they were ever dispatched.
		q = append(q, bson.E{Key: "engineerHistory", Value: c.ID})
	default:
		return none, apperr.ErrForbidden
	}
	if len(f.Statuses) > 0 {
		q = append(q, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: f.Statuses}}})
	}
	if f.AssigneeID != "" {
		if err := validate.ID("filter.assigneeId", f.AssigneeID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "engineerId", Value: f.AssigneeID}}, bson.D{{Key: "ownerStaffId", Value: f.AssigneeID}},
		}})
	}
	if f.BuildingID != "" {
		if err := validate.ID("filter.buildingId", f.BuildingID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "buildingId", Value: f.BuildingID})
	}
	if f.Urgency != "" {
		q = append(q, bson.E{Key: "urgency", Value: f.Urgency})
	}
	if f.Category != "" {
		q = append(q, bson.E{Key: "category", Value: f.Category})
	}
	if f.Overdue {
		q = append(q, bson.E{Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: s.now().UTC()}}})
	}
	q = mongo.InRange(q, "submittedAt", f.From, f.To)
	return s.find(ctx, q, p, true)
}

func (s *Service) find(ctx context.Context, q bson.D, p page.Request, count bool) (page.Page[*Request], error) {
	// The list screens need no timelines: leave them in the database.
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(r *Request) string { return r.SortKey })
}

// Counts are the dashboard figures of a community's queue.
type Counts struct {
	ByStatus map[Status]int
	Overdue  int
}

// CountsFor counts a community's requests per status, and the overdue ones.
func (s *Service) CountsFor(ctx context.Context, c *access.Caller, communityID string) (*Counts, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !handles(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	cur, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count by status: %w", err)
	}
	var rows []struct {
		ID Status `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count by status: %w", err)
	}
	out := &Counts{ByStatus: map[Status]int{}}
	for _, r := range rows {
		out.ByStatus[r.ID] = r.N
	}
	n, err := s.col.CountDocuments(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: s.now().UTC()}}}})
	if err != nil {
		return nil, fmt.Errorf("count overdue: %w", err)
	}
	out.Overdue = int(n)
	return out, nil
}

// EngineerLoad is an engineer and the orders they have open.
type EngineerLoad struct {
	Staff    *staff.Staff
	OpenLoad int
}

// Engineers lists a community's engineers with their open load, least busy
// first, for the dispatch screen: butlers and supervisors.
func (s *Service) Engineers(ctx context.Context, c *access.Caller, communityID string) ([]EngineerLoad, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !handles(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	engs, err := s.staff.WithRole(ctx, communityID, access.Engineer)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(engs))
	for i, e := range engs {
		ids[i] = e.ID
	}
	cur, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "engineerId", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Dispatched, Accepted, InProgress}}}}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$engineerId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("engineer load: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("engineer load: %w", err)
	}
	load := map[string]int{}
	for _, r := range rows {
		load[r.ID] = r.N
	}
	out := make([]EngineerLoad, len(engs))
	for i, e := range engs {
		out[i] = EngineerLoad{Staff: e, OpenLoad: load[e.ID]}
	}
	slices.SortStableFunc(out, func(a, b EngineerLoad) int { return a.OpenLoad - b.OpenLoad })
	return out, nil
}

// MayWatchQueue: the queue's live feed is for the community's butlers and
// supervisors, as the queue itself is.
func (s *Service) MayWatchQueue(c *access.Caller, communityID string) error {
	if err := validate.ID("communityId", communityID); err != nil {
		return err
	}
	if !handles(c, communityID) {
		return apperr.ErrForbidden
	}
	return nil
}
