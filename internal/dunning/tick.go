package dunning

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Communities lists the communities to chase in.
type Communities interface {
	IDs(ctx context.Context) ([]string, error)
}

// TickAll runs Tick for every community, at most once an hour per process
// (the steps are days apart; the schedules loop calls it every minute).
func (s *Service) TickAll(ctx context.Context, now time.Time) error {
	s.tickMu.Lock()
	if !s.lastTick.IsZero() && now.Sub(s.lastTick) < time.Hour {
		s.tickMu.Unlock()
		return nil
	}
	s.lastTick = now
	s.tickMu.Unlock()
	ids, err := s.cfg.Communities.IDs(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := s.Tick(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("fee reminders of community %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Tick runs the automatic part of the ladder for one community, once a
// day is enough and any number of servers may run it: it opens a case for
// each household owing on bills past due for longer than the grace, sends
// the friendly reminder and (an interval later) the second notice unless
// the household is held, and closes the cases of households that no longer
// owe. The steps are guarded moves and the messages keyed per case and
// step, so a second server's run changes nothing. Queries per run are a
// constant per community: the arrears, the open cases, the holds, the
// members of the households it writes to.
func (s *Service) Tick(ctx context.Context, communityID string) error {
	now := s.cfg.Now().UTC()
	zone := s.cfg.Zone(communityID)
	today := now.In(zone).Format(time.DateOnly)
	owing, err := s.cfg.Arrears.OverdueIn(ctx, communityID, today)
	if err != nil {
		return fmt.Errorf("dunning arrears: %w", err)
	}
	cases, err := s.openIn(ctx, communityID)
	if err != nil {
		return err
	}
	byHousehold := map[string]Owing{}
	var ids []string
	for _, o := range owing {
		byHousehold[o.HouseholdID] = o
		ids = append(ids, o.HouseholdID)
		if cases[o.HouseholdID] != nil || o.Fen <= 0 {
			continue
		}
		due, err := time.ParseInLocation(time.DateOnly, o.OldestDue, zone)
		if err != nil || now.Before(due.AddDate(0, 0, 1).Add(s.cfg.Grace)) {
			continue
		}
		if err := s.open(ctx, o, now); err != nil {
			return err
		}
	}
	// Cases of households that paid close.
	var errs []error
	for hid, x := range cases {
		if _, still := byHousehold[hid]; !still {
			if _, err := s.apply(ctx, system, x, "CLOSE", Record{ByID: system.ID, At: now}, now); err != nil && !isLostRace(err) {
				errs = append(errs, err)
			} else if err := s.closed(ctx, x); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if cases, err = s.openIn(ctx, communityID); err != nil {
		return err
	}
	held, err := s.held(ctx, ids, today)
	if err != nil {
		return err
	}
	var due []*Case
	for _, x := range cases {
		if x.Status != Opened && x.Status != Reminded {
			continue
		}
		if held[x.HouseholdID] != "" || x.Hold != "" || (x.HeldUntil != "" && today <= x.HeldUntil) {
			continue
		}
		if x.LastStepAt != nil && now.Before(x.LastStepAt.Add(s.cfg.Interval)) {
			continue
		}
		x.ArrearsFen = byHousehold[x.HouseholdID].Fen
		due = append(due, x)
	}
	if err := s.remind(ctx, due, byHousehold, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// openIn maps the community's open cases by household.
func (s *Service) openIn(ctx context.Context, communityID string) (map[string]*Case, error) {
	list, err := mongo.FindAll[Case](ctx, s.col, bson.D{{Key: "communityId", Value: communityID}, {Key: "status", Value: bson.D{{Key: "$ne", Value: Closed}}}}, "open dunning cases")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Case, len(list))
	for _, x := range list {
		out[x.HouseholdID] = x
	}
	return out, nil
}

// remind takes the reminder step on each case and tells the household's
// owners and family: one membership query for them all.
func (s *Service) remind(ctx context.Context, cases []*Case, owing map[string]Owing, now time.Time) error {
	if len(cases) == 0 {
		return nil
	}
	ids := make([]string, len(cases))
	for i, x := range cases {
		ids[i] = x.HouseholdID
	}
	members, err := s.cfg.Households.MembershipsByHouseholds(ctx, ids)
	if err != nil {
		return err
	}
	hs, err := s.cfg.Households.ByIDs(ctx, ids)
	if err != nil {
		return err
	}
	var errs []error
	for _, x := range cases {
		step := StepReminder
		if x.Status == Reminded {
			step = StepSecondNotice
		}
		out, err := s.apply(ctx, system, x, string(step), Record{Step: step, ByID: system.ID, At: now}, now)
		if err != nil {
			if !isLostRace(err) {
				errs = append(errs, err)
			}
			continue
		}
		var rs []notify.Recipient
		for _, m := range members[x.HouseholdID] {
			if m.Role == access.Owner || m.Role == access.Family {
				rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: x.CommunityID})
			}
		}
		label := ""
		if h := hs[x.HouseholdID]; h != nil {
			label = h.Label
		}
		o := owing[x.HouseholdID]
		vars := map[string]any{"second": step == StepSecondNotice, "label": label, "yuan": fee.Yuan(o.Fen), "oldestDue": o.OldestDue}
		if err := s.tell(ctx, out, step, rs, vars, nil, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tell sends the household's people the FEE_REMINDER of a step, once per
// case and step.
func (s *Service) tell(ctx context.Context, x *Case, step Step, rs []notify.Recipient, vars map[string]any, data map[string]string, now time.Time) error {
	if s.cfg.Sender == nil {
		return nil
	}
	d := map[string]string{"householdId": x.HouseholdID}
	for k, v := range data {
		d[k] = v
	}
	_, err := s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.FeeReminder, Key: fmt.Sprintf("dunning:%s:%s", x.ID, step), Recipients: rs,
		Vars: vars, Data: d, At: now})
	return err
}

// tellOwners tells the household's owners, to whom it is addressed, that a
// written notice was issued, with where to open it.
func (s *Service) tellOwners(ctx context.Context, x *Case, n *Notice, now time.Time) error {
	members, err := s.cfg.Households.MembershipsByHouseholds(ctx, []string{x.HouseholdID})
	if err != nil {
		return err
	}
	var rs []notify.Recipient
	for _, m := range members[x.HouseholdID] {
		if m.Role == access.Owner {
			rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: x.CommunityID})
		}
	}
	vars := map[string]any{"written": true, "label": n.HouseholdLabel, "yuan": fee.Yuan(n.TotalFen), "number": n.Number, "payBy": n.PayBy}
	return s.tell(ctx, x, StepWrittenNotice, rs, vars, map[string]string{"noticeNumber": n.Number, "documentUrl": NoticePath(x.HouseholdID, n.Number)}, now)
}

// isLostRace: another server took the step first.
func isLostRace(err error) bool {
	return errors.Is(err, lifecycle.ErrStale) || errors.Is(err, lifecycle.ErrIllegal)
}
