package activity

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/page"
)

// Every notice is an EVENT_REMINDER (title "活动提醒：{{.title}}", body
// "{{.text}}") keyed by what it is about, so the engine stores it once per
// person however often, and from however many servers, it is sent.

// message is a notice about ev; what names it in Data ("published",
// "promoted", ...), so the apps can open the right screen.
func message(ev *Event, key, what, title, text string) notify.Message {
	return notify.Message{Kind: notify.EventReminder, Key: "activity:" + ev.ID + ":" + key,
		Vars: map[string]any{"title": title, "text": text},
		Data: map[string]string{"eventId": ev.ID, "communityId": ev.CommunityID, "notice": what}}
}

// announce sends the event's pending fan-out (the "new event" notice after
// publishing, or the cancellation notice) and marks it sent.
func (s *Service) announce(ctx context.Context, ev *Event) error {
	var err error
	switch ev.Status {
	case Published:
		err = s.tellPublished(ctx, ev)
	case Cancelled:
		err = s.tellSignedUp(ctx, ev, []SignUpStatus{Confirmed, Waiting}, message(ev, "cancelled", "cancelled", "活动取消「"+ev.Title+"」",
			fmt.Sprintf("很抱歉，原定 %s 在%s举行的活动取消了：%s。给您带来不便，敬请谅解。", ev.when(), ev.Place, ev.CancelReason)))
	}
	if err != nil {
		return err
	}
	_, err = s.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: ev.ID}, {Key: "status", Value: ev.Status}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "announced", Value: true}}}})
	if err != nil {
		return fmt.Errorf("mark event %s announced: %w", ev.ID, err)
	}
	ev.Announced = true
	return nil
}

// tellPublished tells everyone living in the event's buildings (owners,
// family and tenants), a batch of households per Send.
func (s *Service) tellPublished(ctx context.Context, ev *Event) error {
	msg := message(ev, "published", "published", "新活动「"+ev.Title+"」",
		fmt.Sprintf("%s，地点：%s。名额 %d 人，每户最多 %d 人，%s 截止报名，欢迎参加！", ev.when(), ev.Place, ev.Capacity, ev.MaxPartySize,
			ev.local(ev.SignUpDeadline)))
	seen := map[string]bool{}
	send := func(ms []*household.Membership) error {
		var rs []notify.Recipient
		for _, m := range ms {
			if !seen[m.PersonID] {
				seen[m.PersonID] = true
				rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: ev.CommunityID})
			}
		}
		if len(rs) == 0 {
			return nil
		}
		msg.Recipients = rs
		_, err := s.sender.Send(ctx, msg)
		return err
	}
	if ev.AllBuildings {
		// The whole community: its memberships, paged directly.
		for after := ""; ; {
			ms, err := s.households.MembershipsInCommunity(ctx, ev.CommunityID, after, s.batch)
			if err != nil {
				return err
			}
			if err := send(ms); err != nil {
				return err
			}
			if len(ms) < s.batch {
				return nil
			}
			after = ms[len(ms)-1].ID
		}
	}
	for p := (page.Request{First: s.batch}); ; {
		pg, err := s.households.InAudience(ctx, ev.CommunityID, ev.BuildingIDs, p)
		if err != nil {
			return err
		}
		ids := make([]string, len(pg.Items))
		for i, h := range pg.Items {
			ids[i] = h.ID
		}
		if len(ids) > 0 {
			ms, err := s.households.MembershipsByHouseholds(ctx, ids)
			if err != nil {
				return err
			}
			var all []*household.Membership
			for _, id := range ids {
				all = append(all, ms[id]...)
			}
			if err := send(all); err != nil {
				return err
			}
		}
		if !pg.HasNext {
			return nil
		}
		p.After = pg.Keys[len(pg.Keys)-1]
	}
}

// tellPromoted tells a household it moved up from the waiting list.
func (s *Service) tellPromoted(ctx context.Context, ev *Event, su *SignUp) error {
	return s.tellHouseholds(ctx, ev, []string{su.HouseholdID}, message(ev, fmt.Sprintf("promoted:%s:v%d", su.ID, su.Version), "promoted",
		"候补成功「"+ev.Title+"」",
		fmt.Sprintf("有住户取消了报名，您家（%d 人）已从候补转为正式报名。活动时间 %s，地点：%s。入场签到码请在“我的活动”中查看。",
			su.PartySize, ev.when(), ev.Place)))
}

// tellChanged tells the signed-up households that the time or place moved.
func (s *Service) tellChanged(ctx context.Context, ev *Event) error {
	return s.tellSignedUp(ctx, ev, []SignUpStatus{Confirmed, Waiting}, message(ev, fmt.Sprintf("changed:v%d", ev.Version), "changed",
		"活动变更「"+ev.Title+"」", fmt.Sprintf("活动时间或地点有变：现为 %s，地点：%s。如不能参加，请取消报名，把名额留给其他住户。", ev.when(), ev.Place)))
}

// tellSignedUp sends msg to the households whose sign-ups are in statuses
// (checkedIn: only those that checked in).
func (s *Service) tellSignedUp(ctx context.Context, ev *Event, statuses []SignUpStatus, msg notify.Message, checkedIn ...bool) error {
	q := bson.D{{Key: "eventId", Value: ev.ID}, {Key: "status", Value: bson.D{{Key: "$in", Value: statuses}}}}
	if len(checkedIn) > 0 && checkedIn[0] {
		q = append(q, bson.E{Key: "checkedInAt", Value: bson.D{{Key: "$exists", Value: true}}})
	}
	cur, err := s.signups.Find(ctx, q, options.Find().SetProjection(bson.D{{Key: "householdId", Value: 1}}))
	if err != nil {
		return fmt.Errorf("sign-ups of %s: %w", ev.ID, err)
	}
	var rows []struct {
		HouseholdID string `bson:"householdId"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return fmt.Errorf("sign-ups of %s: %w", ev.ID, err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.HouseholdID
	}
	return s.tellHouseholds(ctx, ev, ids, msg)
}

// tellHouseholds sends msg to the owners and family members of households
// (those who signed up; tenants do not sign up), in batches.
func (s *Service) tellHouseholds(ctx context.Context, ev *Event, ids []string, msg notify.Message) error {
	seen := map[string]bool{}
	for start := 0; start < len(ids); start += s.batch {
		chunk := ids[start:min(start+s.batch, len(ids))]
		ms, err := s.households.MembershipsByHouseholds(ctx, chunk)
		if err != nil {
			return err
		}
		var rs []notify.Recipient
		for _, id := range chunk {
			for _, m := range ms[id] {
				if (m.Role == access.Owner || m.Role == access.Family) && !seen[m.PersonID] {
					seen[m.PersonID] = true
					rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: ev.CommunityID})
				}
			}
		}
		if len(rs) == 0 {
			continue
		}
		msg.Recipients = rs
		if _, err := s.sender.Send(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}
