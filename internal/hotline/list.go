package hotline

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
)

// Filter narrows the call log of one community.
type Filter struct {
	CommunityID string
	From, To    *time.Time // receivedAt in [From, To)
	AnsweredBy  string
	Outcome     Outcome
}

// List is a community's call log, newest first, counted: its supervisors
// and front desk see every call, a butler the calls they answered or
// logged; anyone else (residents included) is FORBIDDEN.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Call], error) {
	var none page.Page[*Call]
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	switch {
	case readsAll(c, f.CommunityID):
	case logs(c, f.CommunityID):
		if f.AnsweredBy != "" && f.AnsweredBy != c.ID {
			return none, apperr.ErrForbidden
		}
		q = append(q, bson.E{Key: "$or", Value: bson.A{bson.D{{Key: "answeredBy", Value: c.ID}}, bson.D{{Key: "loggedBy", Value: c.ID}}}})
	default:
		return none, apperr.ErrForbidden
	}
	if f.AnsweredBy != "" {
		if err := validate.ID("answeredBy", f.AnsweredBy); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "answeredBy", Value: f.AnsweredBy})
	}
	if f.Outcome != "" {
		if !slices.Contains(Outcomes, f.Outcome) {
			return none, apperr.Invalid("outcome", "input.bad_value")
		}
		q = append(q, bson.E{Key: "outcome", Value: f.Outcome})
	}
	if r := keyRange(f.From, f.To); len(r) > 0 {
		// Inside $and: the page's cursor adds its own sortKey condition.
		q = append(q, bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "sortKey", Value: r}}}})
	}
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: true}, func(x *Call) string { return x.SortKey })
}

// keyRange is receivedAt in [from, to) as a range of sortKey, whose number
// part falls as receivedAt rises (page.NewestFirst): a window of the log is
// then a range of the index the list walks anyway.
func keyRange(from, to *time.Time) bson.D {
	r := bson.D{}
	if to != nil {
		// receivedAt < to  <=>  number >= limit - (to - 1 ms)
		r = append(r, bson.E{Key: "$gte", Value: keyNumber(to.Add(-time.Millisecond))})
	}
	if from != nil {
		// receivedAt >= from  <=>  number <= limit - from  <=>  < that + 1
		r = append(r, bson.E{Key: "$lt", Value: keyNumber(from.Add(-time.Millisecond))})
	}
	return r
}

// keyNumber is the zero-padded number part of page.NewestFirst for t.
func keyNumber(t time.Time) string {
	return fmt.Sprintf("%019d", int64(1<<62)-t.UnixMilli())
}

// Mine lists the calls matched to the caller (a resident), newest first.
// Staff get an empty list, as from every "my" list.
func (s *Service) Mine(ctx context.Context, c *access.Caller, p page.Request) (page.Page[*Call], error) {
	if !c.IsPerson() {
		return page.Page[*Call]{Items: []*Call{}, Keys: []string{}, Total: 0}, nil
	}
	return mongo.FindPage(ctx, s.col, bson.D{{Key: "personId", Value: c.ID}}, p, mongo.PageQuery{}, func(x *Call) string { return x.SortKey })
}
