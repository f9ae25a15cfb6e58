package inspection

import (
	"context"
	"time"

	"qinqing/internal/platform/mongo"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// AreaPass is one area's quality inspections done in a window: how many
// inspections, their checklist items and how many items passed.
type AreaPass struct {
	Area        Area
	Inspections int
	Passed      int
	Total       int
}

// PassByArea is PassCounts per area, in Areas order (the handover
// inspection left out, areas without an inspection included with zeros),
// for the owners' management report. One streamed query over the
// (communityId, doneAt) index.
func (s *Service) PassByArea(ctx context.Context, communityID string, from, to time.Time) ([]AreaPass, error) {
	by := map[Area]*AreaPass{}
	out := make([]AreaPass, 0, len(Areas)-1)
	for _, a := range Areas {
		if a != Handover {
			out = append(out, AreaPass{Area: a})
		}
	}
	for i := range out {
		by[out[i].Area] = &out[i]
	}
	q := mongo.InWindow(communityID, "doneAt", from, to)
	err := mongo.Stream(ctx, s.records, q, bson.D{{Key: "area", Value: 1}, {Key: "passed", Value: 1}, {Key: "total", Value: 1}}, "inspection pass by area",
		func(x *Inspection) error {
			if ap := by[x.Area]; ap != nil {
				ap.Inspections++
				ap.Passed += x.Passed
				ap.Total += x.Total
			}
			return nil
		})
	return out, err
}
