package facility

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// KindStats are one kind of equipment's registered items and the work
// orders on them due on a day of a window (community time), for the
// owners' management report.
type KindStats struct {
	Kind      Kind
	Equipment int // registered items of the kind
	// Planned orders due in the window, those whose outcome is known,
	// those done on plan (by the end of the due date, as OnPlan) and
	// those done at all by now.
	PlannedDue, PlannedKnown, PlannedOnPlan, PlannedDone int
	// Defect orders (handover findings) due in the window and those done.
	DefectsDue, DefectsDone int
}

// StatsByKind counts, per kind in Kinds order, the community's equipment
// and the orders due on a day of [from, to) as known at now; orders not
// tied to equipment count under OtherKind. Two streamed queries, both on
// the (communityId, sortKey) index; the kind is joined in Go.
func (s *Service) StatsByKind(ctx context.Context, communityID string, from, to, now time.Time) ([]KindStats, error) {
	by := make(map[Kind]*KindStats, len(Kinds))
	out := make([]KindStats, len(Kinds))
	for i, k := range Kinds {
		out[i].Kind = k
		by[k] = &out[i]
	}
	kindOf := map[string]Kind{}
	err := mongo.Stream(ctx, s.equipment, bson.D{{Key: "communityId", Value: communityID}}, bson.D{{Key: "kind", Value: 1}}, "equipment by kind",
		func(e *Equipment) error {
			kindOf[e.ID] = e.Kind
			if st := by[e.Kind]; st != nil {
				st.Equipment++
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	loc := s.cfg.Zone(communityID)
	first := from.In(loc).Format(time.DateOnly)
	lastDay := to.Add(-time.Nanosecond).In(loc)
	last, next := lastDay.Format(time.DateOnly), lastDay.AddDate(0, 0, 1).Format(time.DateOnly)
	today := now.In(loc).Format(time.DateOnly)
	q := bson.D{{Key: "communityId", Value: communityID},
		{Key: "sortKey", Value: bson.D{{Key: "$gte", Value: first}, {Key: "$lt", Value: next}}}}
	proj := bson.D{{Key: "kind", Value: 1}, {Key: "planId", Value: 1}, {Key: "equipmentId", Value: 1}, {Key: "dueDate", Value: 1}, {Key: "status", Value: 1}, {Key: "doneAt", Value: 1}}
	err = mongo.Stream(ctx, s.orders, q, proj, "orders by equipment kind", func(o *Order) error {
		if o.DueDate < first || o.DueDate > last {
			return nil
		}
		k, ok := kindOf[o.EquipmentID]
		if !ok || by[k] == nil {
			k = OtherKind
		}
		st := by[k]
		done := o.Status == Done && o.DoneAt != nil
		switch {
		case o.KindOf() == DefectFix:
			st.DefectsDue++
			if done {
				st.DefectsDone++
			}
		case o.PlanID != "":
			st.PlannedDue++
			if done {
				st.PlannedDone++
				st.PlannedKnown++
				if o.DoneAt.In(loc).Format(time.DateOnly) <= o.DueDate {
					st.PlannedOnPlan++
				}
			} else if o.DueDate < today {
				st.PlannedKnown++
			}
		}
		return nil
	})
	return out, err
}
