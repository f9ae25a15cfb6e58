package patrol

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// RoundView is a round with what happened in it, as the list shows it.
type RoundView struct {
	*Round
	Route  *Route
	Scans  []*Scan
	Misses []*Miss
}

// Patrols lists a community's rounds, newest first, with their scans and
// misses: its leads see every round, a guard the rounds they scanned in
// with their own scans. routeID, when given, narrows to one route. Four
// round trips a page whatever its size: rounds, their scans, their misses
// and their routes.
func (s *Service) Patrols(ctx context.Context, c *access.Caller, communityID, routeID string, p page.Request) (page.Page[*RoundView], error) {
	var none page.Page[*RoundView]
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	leads := Leads(c, communityID)
	if !leads && !Guard(c, communityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if routeID != "" {
		if err := validate.ID("routeId", routeID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "routeId", Value: routeID})
	}
	if !leads {
		q = append(q, bson.E{Key: "guardIds", Value: c.ID})
	}
	rounds, err := mongo.FindPage(ctx, s.rounds, q, p, mongo.PageQuery{}, func(r *Round) string { return r.SortKey })
	if err != nil {
		return none, err
	}
	out := page.Page[*RoundView]{Keys: rounds.Keys, HasNext: rounds.HasNext, HasPrev: rounds.HasPrev, Total: rounds.Total,
		Items: make([]*RoundView, len(rounds.Items))}
	ids := make([]string, len(rounds.Items))
	byID := make(map[string]*RoundView, len(ids))
	for i, r := range rounds.Items {
		ids[i] = r.ID
		out.Items[i] = &RoundView{Round: r, Scans: []*Scan{}, Misses: []*Miss{}}
		byID[r.ID] = out.Items[i]
	}
	if len(ids) == 0 {
		return out, nil
	}
	in := bson.D{{Key: "roundId", Value: bson.D{{Key: "$in", Value: ids}}}}
	sq := in
	if !leads {
		sq = append(append(bson.D{}, in...), bson.E{Key: "guardId", Value: c.ID})
	}
	// Both lists are bounded: one scan and one miss per checkpoint a round.
	var scans []*Scan
	if err := findAll(ctx, s, "patrol_scans", sq, &scans); err != nil {
		return none, err
	}
	for _, x := range scans {
		byID[x.RoundID].Scans = append(byID[x.RoundID].Scans, x)
	}
	var misses []*Miss
	if err := findAll(ctx, s, "patrol_misses", in, &misses); err != nil {
		return none, err
	}
	for _, x := range misses {
		byID[x.RoundID].Misses = append(byID[x.RoundID].Misses, x)
	}
	routeIDs := []string{}
	for _, r := range rounds.Items {
		routeIDs = append(routeIDs, r.RouteID)
	}
	routes, err := s.RoutesByID(ctx, routeIDs)
	if err != nil {
		return none, err
	}
	for _, r := range routes {
		if !leads {
			hideCodes(r)
		}
	}
	for _, v := range out.Items {
		v.Route = routes[v.RouteID]
		for _, x := range v.Scans {
			x.Checkpoint = v.Route.Checkpoint(x.CheckpointID)
		}
		for _, x := range v.Misses {
			x.Checkpoint = v.Route.Checkpoint(x.CheckpointID)
		}
	}
	return out, nil
}

func findAll[T any](ctx context.Context, s *Service, col string, q bson.D, out *[]T) error {
	cur, err := s.cfg.DB.Collection(col).Find(ctx, q, options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read %s: %w", col, err)
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("read %s: %w", col, err)
	}
	return nil
}

// RoutesByID loads routes for the list's rounds (the loader's batch).
func (s *Service) RoutesByID(ctx context.Context, ids []string) (map[string]*Route, error) {
	return mongo.ByIDs(ctx, s.routes, ids, func(r *Route) string { return r.ID })
}

// hideCodes blanks the posted codes: guards scan them, they are not told.
func hideCodes(r *Route) {
	for i := range r.Checkpoints {
		r.Checkpoints[i].Code = ""
	}
}
