package incident

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// TypeStats are a community's incidents of one type that occurred in a
// window: how many, how many of those are closed by now, and the total
// time occurredAt→closedAt over the closed ones (the mean is
// CloseSeconds/Closed).
type TypeStats struct {
	Type         string
	Reported     int
	Closed       int
	CloseSeconds int64
}

// StatsIn counts a community's incidents by type that occurred in
// [from, to), in Types order, types with none left out: one aggregation on
// the (communityId, occurredAt) index. FerretDB serves one accumulator a
// $group, so the time to close is a key, not a second $sum: a row per
// closed incident at most, and a community has a few a week.
func (s *Service) StatsIn(ctx context.Context, communityID string, from, to time.Time) ([]TypeStats, error) {
	cur, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: mongo.InWindow(communityID, "occurredAt", from, to)}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "type", Value: "$type"}, {Key: "status", Value: "$status"}, {Key: "secs", Value: "$closeSeconds"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("incident stats: %w", err)
	}
	var rows []struct {
		ID struct {
			Type   Type   `bson:"type"`
			Status Status `bson:"status"`
			Secs   int64  `bson:"secs"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("incident stats: %w", err)
	}
	by := map[Type]*TypeStats{}
	for _, r := range rows {
		st := by[r.ID.Type]
		if st == nil {
			st = &TypeStats{Type: string(r.ID.Type)}
			by[r.ID.Type] = st
		}
		st.Reported += r.N
		if r.ID.Status == Closed {
			st.Closed += r.N
			st.CloseSeconds += r.ID.Secs * int64(r.N)
		}
	}
	out := []TypeStats{}
	for _, t := range Types {
		if st := by[t]; st != nil {
			out = append(out, *st)
		}
	}
	return out, nil
}
