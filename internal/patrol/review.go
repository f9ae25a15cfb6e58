package patrol

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// RoundsForReview loads the community's rounds that started in [from, to)
// and ended by until, with one of guardIDs on them, their routes and every
// scan in them: three queries ($in over the guards, then over the rounds
// and their routes) however many guards and rounds. Routes carry no codes.
func (s *Service) RoundsForReview(ctx context.Context, communityID string, guardIDs []string, from, to, until time.Time) ([]*RoundView, error) {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "guardIds", Value: bson.D{{Key: "$in", Value: guardIDs}}},
		{Key: "start", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}},
		{Key: "end", Value: bson.D{{Key: "$lte", Value: until.UTC()}}}}
	rounds, err := mongo.FindAll[Round](ctx, s.rounds, q, "patrol rounds for review")
	if err != nil || len(rounds) == 0 {
		return nil, err
	}
	ids, routeIDs := make([]string, len(rounds)), make([]string, 0, len(rounds))
	byID := make(map[string]*RoundView, len(rounds))
	out := make([]*RoundView, len(rounds))
	for i, r := range rounds {
		ids[i] = r.ID
		routeIDs = append(routeIDs, r.RouteID)
		out[i] = &RoundView{Round: r, Scans: []*Scan{}}
		byID[r.ID] = out[i]
	}
	var scans []*Scan
	if err := findAll(ctx, s, "patrol_scans", bson.D{{Key: "roundId", Value: bson.D{{Key: "$in", Value: ids}}}}, &scans); err != nil {
		return nil, err
	}
	for _, x := range scans {
		byID[x.RoundID].Scans = append(byID[x.RoundID].Scans, x)
	}
	routes, err := s.RoutesByID(ctx, routeIDs)
	if err != nil {
		return nil, err
	}
	for _, v := range out {
		if v.Route = routes[v.RouteID]; v.Route != nil {
			hideCodes(v.Route)
		}
	}
	return out, nil
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "patrol_rounds", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "guardIds", Value: 1}, {Key: "start", Value: 1}}},
	}})
}
