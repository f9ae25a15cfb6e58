package moving

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Filter narrows the bookings list. Staff name the community they work in
// (optionally a date and a building); anybody who may see a household names
// it; a resident who names neither gets their own households' bookings.
type Filter struct {
	CommunityID string
	HouseholdID string
	BuildingID  string
	Date        string
}

// List returns bookings by date and start time. A community's list without
// a date starts today (community time): staff plan the lift ahead; past
// days are asked for by date.
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Booking], error) {
	var none page.Page[*Booking]
	q, count, err := s.cfg.Households.Scope(ctx, c, f.CommunityID, f.HouseholdID)
	if err != nil {
		return none, err
	}
	if count {
		if f.BuildingID != "" {
			if err := validate.ID("buildingId", f.BuildingID); err != nil {
				return none, err
			}
			q = bson.D{{Key: "buildingId", Value: f.BuildingID}, {Key: "communityId", Value: f.CommunityID}}
		}
		if f.Date == "" {
			today := s.cfg.Now().In(s.cfg.Zone(f.CommunityID)).Format(time.DateOnly)
			q = append(q, bson.E{Key: "date", Value: bson.D{{Key: "$gte", Value: today}}})
		}
	}
	if f.Date != "" {
		if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
			return none, apperr.Invalid("date", "input.bad_date")
		}
		q = append(q, bson.E{Key: "date", Value: f.Date})
	}
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: count, Omit: []string{"timeline"}}, func(b *Booking) string { return b.SortKey })
}
