package incident

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Filter narrows a community's incidents; zero fields do not narrow.
type Filter struct {
	CommunityID string
	Type        Type
	Status      Status
	// From and To bound occurredAt to [From, To).
	From, To *time.Time
}

// List pages a community's incidents, newest first by when they occurred:
// its leads see all, its other staff (a guard, the front desk, a butler
// who was told) those they reported or were told of. Residents and staff
// of other communities are FORBIDDEN. One find a page (and one count when asked), each on an index
// (see the declarations): the window is a range of the sort key.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Incident], error) {
	var none page.Page[*Incident]
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	leads := Leads(c, f.CommunityID)
	if !leads && !c.WorksIn(f.CommunityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if !leads {
		q = append(q, bson.E{Key: "staffIds", Value: c.ID})
	}
	if f.Type != "" {
		if !slices.Contains(Types, f.Type) {
			return none, apperr.Invalid("type", "input.bad_value")
		}
		q = append(q, bson.E{Key: "type", Value: f.Type})
	}
	if f.Status != "" {
		if f.Status != Open && f.Status != Closed {
			return none, apperr.Invalid("status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return none, apperr.Invalid("to", "input.bad_value")
	}
	// Newest first: occurredAt < To is sortKey > NewestFirst(To, ""), and
	// occurredAt >= From is sortKey < NewestFirst(From - 1ms, "").
	r := bson.D{}
	if f.To != nil {
		r = append(r, bson.E{Key: "$gte", Value: page.NewestFirst(f.To.Add(-time.Millisecond), "")})
	}
	if f.From != nil {
		r = append(r, bson.E{Key: "$lt", Value: page.NewestFirst(f.From.Add(-time.Millisecond), "")})
	}
	if len(r) > 0 {
		// Under $and: the page cursor adds its own sortKey condition.
		q = append(q, bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "sortKey", Value: r}}}})
	}
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{}, func(x *Incident) string { return x.SortKey })
}
