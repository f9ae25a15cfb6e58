package activity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Who sees an event: staff of its community, drafts included; residents
// once it is published (also after it ended or was cancelled) when it
// covers one of their households. Everyone else: NOT_FOUND.

// callerHouseholds are the caller's households in a community.
func (s *Service) callerHouseholds(ctx context.Context, c *access.Caller, communityID string) ([]*household.Household, error) {
	var ids []string
	for _, m := range c.Memberships {
		if m.CommunityID == communityID {
			ids = append(ids, m.HouseholdID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := s.households.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*household.Household, 0, len(hs))
	for _, id := range ids {
		if h := hs[id]; h != nil && h.CommunityID == communityID {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Service) residentSees(ctx context.Context, c *access.Caller, ev *Event) (bool, error) {
	if !c.IsPerson() || !ev.Published {
		return false, nil
	}
	hs, err := s.callerHouseholds(ctx, c, ev.CommunityID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(hs, ev.Covers), nil
}

// visible loads an event the caller may see, undecorated.
func (s *Service) visible(ctx context.Context, c *access.Caller, id string) (*Event, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	ev, err := mongo.FindByID[Event](ctx, s.events, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if c.WorksIn(ev.CommunityID) {
		return ev, nil
	}
	if ok, err := s.residentSees(ctx, c, ev); err != nil || !ok {
		return nil, cmpErr(err, ErrNotFound)
	}
	return ev, nil
}

// Get returns an event the caller may see, with its places taken, its
// waiting list's length and (for residents) their households' sign-ups.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Event, error) {
	ev, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return ev, s.decorate(ctx, c, []*Event{ev})
}

func (s *Service) decorated(ctx context.Context, c *access.Caller, ev *Event) (*Event, error) {
	return ev, s.decorate(ctx, c, []*Event{ev})
}

// List is a community's events, latest start first, optionally of one
// status (as Event.StatusAt reads it): all of them for its staff; for its
// residents the published ones covering one of their households. Anyone
// else: NOT_FOUND, as for a community they cannot see.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, status Status, p page.Request) (page.Page[*Event], error) {
	var none page.Page[*Event]
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	switch {
	case c.WorksIn(communityID):
	case c.IsPerson():
		hs, err := s.callerHouseholds(ctx, c, communityID)
		if err != nil {
			return none, err
		}
		if len(hs) == 0 {
			return none, community.ErrNotFound
		}
		keys := []string{"c:" + communityID}
		for _, h := range hs {
			keys = append(keys, "b:"+h.BuildingID)
		}
		q = append(q, bson.E{Key: "published", Value: true}, bson.E{Key: "targets", Value: bson.D{{Key: "$in", Value: keys}}})
	default:
		return none, community.ErrNotFound
	}
	now := s.now().UTC()
	switch status {
	case "":
	case Published:
		q = append(q, bson.E{Key: "status", Value: Published}, bson.E{Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}})
	case Ended:
		q = append(q, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Published, Ended}}}},
			bson.E{Key: "endsAt", Value: bson.D{{Key: "$lte", Value: now}}})
	default:
		q = append(q, bson.E{Key: "status", Value: status})
	}
	pg, err := mongo.FindPage(ctx, s.events, q, p, mongo.PageQuery{Count: true}, func(ev *Event) string { return ev.SortKey })
	if err != nil {
		return none, err
	}
	return pg, s.decorate(ctx, c, pg.Items)
}

// decorate fills the readers' fields of a page of events: places taken and
// waiting counts in one aggregation each, and a resident's own sign-ups in
// one query by derived _id — whatever the page size.
func (s *Service) decorate(ctx context.Context, c *access.Caller, evs []*Event) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	taken, err := s.taken(ctx, ids)
	if err != nil {
		return err
	}
	waiting, err := s.countBy(ctx, s.signups, bson.D{{Key: "eventId", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "status", Value: Waiting}}, "$eventId", nil)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		ev.PlacesTaken, ev.WaitingCount, ev.MySignUps = taken[ev.ID], waiting[ev.ID], []*SignUp{}
	}
	if !c.IsPerson() || len(c.Memberships) == 0 {
		return nil
	}
	var sids []string
	for _, ev := range evs {
		for _, m := range c.Memberships {
			if m.CommunityID == ev.CommunityID {
				sids = append(sids, signUpID(ev.ID, m.HouseholdID))
			}
		}
	}
	sus, err := mongo.ByIDs(ctx, s.signups, sids, func(su *SignUp) string { return su.ID })
	if err != nil {
		return err
	}
	var mine []*SignUp
	for _, ev := range evs {
		for _, m := range c.Memberships {
			if su := sus[signUpID(ev.ID, m.HouseholdID)]; su != nil {
				su.Event = ev
				ev.MySignUps = append(ev.MySignUps, su)
				mine = append(mine, su)
			}
		}
	}
	return s.positions(ctx, mine)
}

// positions fills the waiting-list position of each waiting sign-up: one
// query for the waiting lists of all their events.
func (s *Service) positions(ctx context.Context, sus []*SignUp) error {
	var events []string
	for _, su := range sus {
		if su.Status == Waiting && !slices.Contains(events, su.EventID) {
			events = append(events, su.EventID)
		}
	}
	if len(events) == 0 {
		return nil
	}
	cur, err := s.signups.Find(ctx, bson.D{{Key: "eventId", Value: bson.D{{Key: "$in", Value: events}}}, {Key: "status", Value: Waiting}},
		options.Find().SetSort(bson.D{{Key: "ticket", Value: 1}, {Key: "_id", Value: 1}}).
			SetProjection(bson.D{{Key: "eventId", Value: 1}, {Key: "ticket", Value: 1}}))
	if err != nil {
		return fmt.Errorf("waiting lists: %w", err)
	}
	var line []struct {
		ID      string `bson:"_id"`
		EventID string `bson:"eventId"`
	}
	if err := cur.All(ctx, &line); err != nil {
		return fmt.Errorf("waiting lists: %w", err)
	}
	pos, n := map[string]int{}, map[string]int{}
	for _, w := range line {
		n[w.EventID]++
		pos[w.ID] = n[w.EventID]
	}
	for _, su := range sus {
		if su.Status == Waiting {
			su.Position = pos[su.ID]
		}
	}
	return nil
}

// MySignUps are the sign-ups of the caller's households, newest first, each
// with its event; staff have none.
func (s *Service) MySignUps(ctx context.Context, c *access.Caller, p page.Request) (page.Page[*SignUp], error) {
	none := page.Page[*SignUp]{Items: []*SignUp{}, Keys: []string{}}
	if !c.IsPerson() || len(c.Memberships) == 0 {
		return none, nil
	}
	var hids []string
	for _, m := range c.Memberships {
		hids = append(hids, m.HouseholdID)
	}
	pg, err := mongo.FindPage(ctx, s.signups, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: hids}}}}, p,
		mongo.PageQuery{}, func(su *SignUp) string { return su.SortKey })
	if err != nil {
		return none, err
	}
	var eids []string
	for _, su := range pg.Items {
		eids = append(eids, su.EventID)
	}
	evs, err := mongo.ByIDs(ctx, s.events, eids, func(ev *Event) string { return ev.ID })
	if err != nil {
		return none, err
	}
	list := make([]*Event, 0, len(evs))
	for _, ev := range evs {
		list = append(list, ev)
	}
	if err := s.decorate(ctx, c, list); err != nil {
		return none, err
	}
	for _, su := range pg.Items {
		su.Event = evs[su.EventID]
	}
	return pg, s.positions(ctx, pg.Items)
}

// CodeFor is the check-in code a caller may see on a sign-up: the
// household's own members, while it is confirmed. Staff scan it; they never
// read it from the API.
func CodeFor(c *access.Caller, su *SignUp) string {
	if _, ok := c.RoleIn(su.HouseholdID); !ok || su.Status != Confirmed {
		return ""
	}
	return su.CheckInCode
}

// AttendanceIn counts, over the community's events that ended in
// [from, to) and were not cancelled, the confirmed sign-ups (expected) and
// those that checked in (attended). It checks no caller: the KPI service
// decides who sees it.
func (s *Service) AttendanceIn(ctx context.Context, communityID string, from, to time.Time) (attended, expected int, err error) {
	cur, err := s.events.Find(ctx, endedIn(communityID, from, to), options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, 0, fmt.Errorf("events ended in range: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return 0, 0, fmt.Errorf("events ended in range: %w", err)
	}
	if len(rows) == 0 {
		return 0, 0, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	q := bson.D{{Key: "eventId", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "status", Value: Confirmed}}
	n, err := s.signups.CountDocuments(ctx, q)
	if err != nil {
		return 0, 0, fmt.Errorf("count sign-ups: %w", err)
	}
	m, err := s.signups.CountDocuments(ctx, append(q, bson.E{Key: "checkedInAt", Value: bson.D{{Key: "$exists", Value: true}}}))
	if err != nil {
		return 0, 0, fmt.Errorf("count check-ins: %w", err)
	}
	return int(m), int(n), nil
}
