package tasks

import (
	"context"
	"time"

	"qinqing/internal/archive"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
)

// RepairCallbacks owes a callback on every signed-off repair, due a set time
// after the owner signed (the same delay that reminds the butler).
type RepairCallbacks struct {
	Repairs interface {
		AwaitingCallbackIn(ctx context.Context, communityID string, limit int) ([]*repair.Request, error)
	}
	After time.Duration
}

// Owed implements Source.
func (r RepairCallbacks) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	rs, err := r.Repairs.AwaitingCallbackIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(rs))
	for _, x := range rs {
		if x.ConfirmedAt == nil {
			continue
		}
		// A public-area fault has no household ("" : Task.household is null);
		// its callback goes to the resident who reported it, owed by the owner.
		out = append(out, &Task{ID: string(RepairCallback) + ":" + x.ID, Kind: RepairCallback, CommunityID: x.CommunityID, HouseholdID: x.HouseholdID, BuildingID: x.BuildingID,
			SubjectID: x.ID, Title: "报修回访：" + summary(x.Description), DueAt: x.ConfirmedAt.Add(r.After), CreatedAt: *x.ConfirmedAt,
			StaffID: x.OwnerStaffID, PersonID: x.ReporterID})
	}
	return out, nil
}

// OrderCallbacks owes a callback on every service order the owner accepted,
// due a set time after acceptance, by the staff member who confirmed it.
type OrderCallbacks struct {
	Orders interface {
		AwaitingCallback(ctx context.Context, communityID string, limit int) ([]serviceorder.CallbackDue, error)
	}
	After time.Duration
}

// Owed implements Source.
func (o OrderCallbacks) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	os, err := o.Orders.AwaitingCallback(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(os))
	for _, x := range os {
		out = append(out, &Task{ID: string(ServiceOrderCallback) + ":" + x.OrderID, Kind: ServiceOrderCallback, CommunityID: x.CommunityID,
			HouseholdID: x.HouseholdID, SubjectID: x.OrderID, Title: "服务回访：" + summary(x.ItemName), DueAt: x.AcceptedAt.Add(o.After),
			CreatedAt: x.AcceptedAt, StaffID: x.HandlerID, PersonID: x.BookedBy})
	}
	return out, nil
}

// VisitFollowUps owes what a butler promised on a visit, by its due date
// (end of that day in the community; UTC+8 when the visit gives none).
type VisitFollowUps struct {
	Visits interface {
		OpenFollowUpsIn(ctx context.Context, communityID string, limit int) ([]*archive.Visit, error)
	}
	Zone func(communityID string) *time.Location
}

// Owed implements Source.
func (v VisitFollowUps) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	vs, err := v.Visits.OpenFollowUpsIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	zone := time.FixedZone("CST", 8*3600)
	if v.Zone != nil {
		zone = v.Zone(communityID)
	}
	out := make([]*Task, 0, len(vs))
	for _, x := range vs {
		due := x.VisitedAt.Add(7 * 24 * time.Hour) // a promise without a date: a week
		if d, err := time.ParseInLocation(time.DateOnly, x.FollowUpDue, zone); err == nil {
			due = d.Add(24*time.Hour - time.Second)
		}
		out = append(out, &Task{ID: string(VisitFollowUp) + ":" + x.ID, Kind: VisitFollowUp, CommunityID: x.CommunityID, HouseholdID: x.HouseholdID,
			SubjectID: x.ID, Title: "走访跟进：" + summary(x.FollowUp), DueAt: due, CreatedAt: x.CreatedAt, StaffID: x.StaffID})
	}
	return out, nil
}

func summary(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}
