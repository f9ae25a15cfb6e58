package complaint

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Mine lists the complaints of the caller's households, newest first.
func (s *Service) Mine(ctx context.Context, c *access.Caller, p page.Request) (page.Page[*Complaint], error) {
	ids := []string{}
	if c.IsPerson() {
		for _, m := range c.Memberships {
			ids = append(ids, m.HouseholdID)
		}
	}
	return s.find(ctx, c, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}}}, p, false)
}

// Filter narrows the staff list.
type Filter struct {
	CommunityID string
	Statuses    []Status
	Category    Category
	Severity    Severity
	Overdue     bool // still unacknowledged past the response deadline
}

// List is the staff list of complaints, newest first, counted: butlers and
// supervisors of the communities (admins: all of the company's). Anonymous
// complaints come without their complainant for all but supervisors.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Complaint], error) {
	var none page.Page[*Complaint]
	if !c.IsStaff() {
		return none, apperr.ErrForbidden
	}
	q := bson.D{}
	if f.CommunityID != "" {
		if err := validate.ID("filter.communityId", f.CommunityID); err != nil {
			return none, err
		}
		if !handles(c, f.CommunityID) {
			return none, apperr.ErrForbidden
		}
		q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
	} else {
		if !c.IsAdmin() && !c.Has(access.Butler, access.Supervisor) {
			return none, apperr.ErrForbidden
		}
		if scope := c.VisibleCommunities(); scope != nil {
			q = append(q, bson.E{Key: "communityId", Value: bson.D{{Key: "$in", Value: scope}}})
		}
	}
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !slices.Contains(Statuses, st) {
				return none, apperr.Invalid("filter.statuses", "input.bad_value")
			}
		}
		q = append(q, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: f.Statuses}}})
	}
	if f.Category != "" {
		if !slices.Contains(Categories, f.Category) {
			return none, apperr.Invalid("filter.category", "input.bad_value")
		}
		q = append(q, bson.E{Key: "category", Value: f.Category})
	}
	if f.Severity != "" {
		if !slices.Contains(Severities, f.Severity) {
			return none, apperr.Invalid("filter.severity", "input.bad_value")
		}
		q = append(q, bson.E{Key: "severity", Value: f.Severity})
	}
	if f.Overdue {
		q = append(q, bson.E{Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: s.now().UTC()}}})
	}
	return s.find(ctx, c, q, p, true)
}

func (s *Service) find(ctx context.Context, c *access.Caller, q bson.D, p page.Request, count bool) (page.Page[*Complaint], error) {
	// The list screens need no timelines: leave them in the database.
	pg, err := mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(x *Complaint) string { return x.SortKey })
	for i, x := range pg.Items {
		pg.Items[i] = redact(c, x)
	}
	return pg, err
}
