package freeservice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// tickBatch bounds what one Tick takes on; the rest waits for the next.
const tickBatch = 200

// remindGrace is how long after the close a slot's reminder keeps being
// sent before the slot is marked reminded: a booking accepted a moment
// before the close on a server whose clock runs a little behind still gets
// its reminder, and everyone else nothing new (the key is per slot).
const remindGrace = 2 * time.Minute

// Tick is the scheduler, called from every server process's schedules loop:
// it opens the next cycle of campaigns whose current cycle is over, and
// reminds booked households the evening before (when booking closes). Each
// is idempotent whoever runs it and however often: a cycle's slots have
// derived ids, and a reminder's message key is its slot, so the
// notification engine stores it once per person however many servers send
// it.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	now = now.UTC()
	return errors.Join(s.rollOver(ctx, now), s.remind(ctx, now))
}

// rollOver opens the next cycle of every active campaign whose cycle ended,
// or ends a campaign whose last cycle ended.
func (s *Service) rollOver(ctx context.Context, now time.Time) error {
	cur, err := s.campaigns.Find(ctx, bson.D{{Key: "status", Value: Active}, {Key: "cycleEndsAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetLimit(tickBatch))
	if err != nil {
		return fmt.Errorf("campaigns to roll over: %w", err)
	}
	var list []*Campaign
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("campaigns to roll over: %w", err)
	}
	var errs []error
	for _, x := range list {
		errs = append(errs, s.openNext(ctx, x, now))
	}
	return errors.Join(errs...)
}

// openNext opens the first cycle after x's current one that is not over
// yet (cycles that passed while no server ran are skipped, not booked).
func (s *Service) openNext(ctx context.Context, x *Campaign, now time.Time) error {
	guard := bson.D{{Key: "_id", Value: x.ID}, {Key: "currentCycle", Value: x.CurrentCycle}, {Key: "status", Value: Active}}
	for next := x.CurrentCycle + 1; next <= x.CurrentCycle+MaxCycles; next++ {
		if x.Cycles > 0 && next > x.Cycles {
			_, err := s.campaigns.UpdateOne(ctx, guard, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Ended}, {Key: "updatedAt", Value: now}}}})
			if err != nil {
				return fmt.Errorf("end campaign %s: %w", x.ID, err)
			}
			return nil
		}
		slots, err := x.cycleSlots(next)
		if err != nil {
			return err
		}
		end := cycleEnd(slots)
		if !end.After(now) {
			continue
		}
		if err := s.insertSlots(ctx, slots); err != nil {
			return err
		}
		// Two servers may both get here: they write the same values.
		_, err = s.campaigns.UpdateOne(ctx, guard, bson.D{{Key: "$set", Value: bson.D{
			{Key: "currentCycle", Value: next}, {Key: "cycleEndsAt", Value: end}, {Key: "updatedAt", Value: now}}}})
		if err != nil {
			return fmt.Errorf("open cycle %d of %s: %w", next, x.ID, err)
		}
		s.publish(ctx, nil, "cycle_opened", x.CommunityID, "", x.ID, map[string]any{"cycle": next, "summary": x.Title})
		return nil
	}
	return nil
}

// remind sends the evening-before reminder of every slot whose booking has
// closed, to the owners and family members of its booked households, and
// marks the slot reminded once remindGrace has passed. A slot whose visit has begun by the time a
// server gets to it (none ran at the close time) is marked without a
// message: a reminder after the fact helps nobody.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	cur, err := s.slots.Find(ctx, bson.D{{Key: "reminded", Value: false}, {Key: "closesAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "closesAt", Value: 1}}).SetLimit(tickBatch))
	if err != nil {
		return fmt.Errorf("slots to remind: %w", err)
	}
	var list []*Slot
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("slots to remind: %w", err)
	}
	campaigns := map[string]*Campaign{}
	var errs []error
	for _, sl := range list {
		if now.Before(sl.StartsAt) {
			x := campaigns[sl.CampaignID]
			if x == nil {
				if x, err = mongo.FindByID[Campaign](ctx, s.campaigns, sl.CampaignID, ErrNotFound); err != nil {
					errs = append(errs, err)
					continue
				}
				campaigns[x.ID] = x
			}
			if err := s.remindSlot(ctx, x, sl); err != nil {
				errs = append(errs, err)
				continue // not marked: the next tick tries again, the key keeps it once
			}
		}
		if now.Before(sl.ClosesAt.Add(remindGrace)) {
			continue
		}
		_, err := s.slots.UpdateOne(ctx, bson.D{{Key: "_id", Value: sl.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "reminded", Value: true}, {Key: "remindedAt", Value: now}}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark slot reminded: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) remindSlot(ctx context.Context, x *Campaign, sl *Slot) error {
	cur, err := s.visits.Find(ctx, bson.D{{Key: "slotId", Value: sl.ID}, {Key: "status", Value: Booked}},
		options.Find().SetProjection(bson.D{{Key: "householdId", Value: 1}}))
	if err != nil {
		return fmt.Errorf("bookings of slot %s: %w", sl.ID, err)
	}
	var booked []struct {
		HouseholdID string `bson:"householdId"`
	}
	if err := cur.All(ctx, &booked); err != nil {
		return fmt.Errorf("bookings of slot %s: %w", sl.ID, err)
	}
	if len(booked) == 0 {
		return nil
	}
	ids := make([]string, len(booked))
	for i, b := range booked {
		ids[i] = b.HouseholdID
	}
	ms, err := s.households.MembershipsByHouseholds(ctx, ids)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var rs []notify.Recipient
	for _, id := range ids {
		for _, m := range ms[id] {
			if (m.Role == access.Owner || m.Role == access.Family) && !seen[m.PersonID] {
				seen[m.PersonID] = true
				rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: x.CommunityID})
			}
		}
	}
	if len(rs) == 0 {
		return nil
	}
	d, _ := time.Parse(time.DateOnly, sl.Date)
	_, err = s.sender.Send(ctx, notify.Message{
		Kind: notify.ServiceOrderUpdate, Key: "freeservice:remind:" + sl.ID, Recipients: rs,
		Vars: map[string]any{
			"statusText": "明日上门", "statusTextEN": "visit tomorrow",
			"text": fmt.Sprintf("「%s」将于 %d月%d日 %s-%s 上门服务，请安排家中有人。如需改约请联系管家。",
				x.Title, d.Month(), d.Day(), sl.Start, sl.End),
			"textEN": fmt.Sprintf("%s: we will visit on %s, %s-%s. Please make sure someone is at home; call your butler to change it.",
				x.Title, d.Format("2 Jan"), sl.Start, sl.End),
		},
		Data: map[string]string{"campaignId": x.ID, "slotId": sl.ID, "cycle": fmt.Sprint(sl.Cycle)},
	})
	return err
}
