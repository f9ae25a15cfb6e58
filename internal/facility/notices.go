package facility

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// Residents finds who lives in the served buildings: a page of households
// at a time and their members in one $in, never a query per person.
type Residents interface {
	InAudience(ctx context.Context, communityID string, buildingIDs []string, p page.Request) (page.Page[*household.Household], error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

var disturbWords = map[Disturbance][3]string{
	WaterOff: {"停水", "water off", "供水已恢复"},
	PowerOff: {"停电", "power off", "供电已恢复"},
	LiftOut:  {"电梯停运", "lift out of service", "电梯已恢复运行"},
	Noise:    {"施工噪音", "noisy work", "施工已结束"},
}

var restoredEN = map[Disturbance]string{WaterOff: "water is back", PowerOff: "power is back", LiftOut: "the lift is running again", Noise: "the noisy work is over"}

func words(ds []Disturbance, i int, sep string) string {
	out := make([]string, len(ds))
	for j, d := range ds {
		if i == 3 {
			out[j] = restoredEN[d]
		} else {
			out[j] = disturbWords[d][i]
		}
	}
	return strings.Join(out, sep)
}

func durationText(m int) (string, string) {
	h, mm := m/60, m%60
	zh, en := "", ""
	if h > 0 {
		zh, en = fmt.Sprintf("%d 小时", h), fmt.Sprintf("%d h", h)
	}
	if mm > 0 {
		zh, en = zh+fmt.Sprintf("%d 分钟", mm), strings.TrimSpace(en+fmt.Sprintf(" %d min", mm))
	}
	return strings.TrimSpace(zh), en
}

// sweepNotices sends what is due: outage notices whose time has come, and
// restored notices of finished work not yet sent. Each message is keyed
// (by order and start time, or by order), so a second server's send adds
// nothing; the marks only stop the sweeps from looking again.
func (s *Service) sweepNotices(ctx context.Context, now time.Time) error {
	if s.cfg.Sender == nil || s.cfg.Residents == nil {
		return nil
	}
	var errs []error
	due, err := s.findOrders(ctx, bson.D{{Key: "noticeDueAt", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}, {Key: "status", Value: Open}})
	if err != nil {
		return err
	}
	for _, o := range due {
		if err := s.announce(ctx, o, false); err != nil {
			errs = append(errs, err)
			continue
		}
		_, err := s.orders.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}, {Key: "noticeDueAt", Value: o.NoticeDueAt}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "noticedAt", Value: now.UTC()}}}, {Key: "$unset", Value: bson.D{{Key: "noticeDueAt", Value: ""}}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark outage notice of %s: %w", o.ID, err))
		}
	}
	done, err := s.findOrders(ctx, bson.D{{Key: "restoredDue", Value: true}})
	if err != nil {
		return err
	}
	for _, o := range done {
		errs = append(errs, s.restored(ctx, o))
	}
	return errors.Join(errs...)
}

func (s *Service) findOrders(ctx context.Context, q bson.D) ([]*Order, error) {
	cur, err := s.orders.Find(ctx, q, options.Find().SetLimit(tickBatch).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("find maintenance orders: %w", err)
	}
	var out []*Order
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find maintenance orders: %w", err)
	}
	return out, nil
}

// restored tells the served buildings the work is over, then clears the
// mark.
func (s *Service) restored(ctx context.Context, o *Order) error {
	if s.cfg.Sender == nil || s.cfg.Residents == nil {
		return nil
	}
	if err := s.announce(ctx, o, true); err != nil {
		return err
	}
	if _, err := s.orders.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "restoredDue", Value: false}}}}); err != nil {
		return fmt.Errorf("mark restored notice of %s: %w", o.ID, err)
	}
	return nil
}

// announce sends the outage (or restored) notice of o to every member of
// the households of the buildings it serves.
func (s *Service) announce(ctx context.Context, o *Order, restored bool) error {
	ctx = context.WithoutCancel(ctx)
	rs, err := s.residents(ctx, o)
	if err != nil || len(rs) == 0 {
		return err
	}
	name := o.Title
	if eq, err := mongo.FindByID[Equipment](ctx, s.equipment, o.EquipmentID, ErrNotFound); err == nil {
		name = eq.Name
	}
	names := []string{}
	if bs, err := s.cfg.Buildings.BuildingsByIDs(ctx, o.Serves); err == nil {
		for _, id := range o.Serves {
			if b := bs[id]; b != nil {
				names = append(names, b.Name)
			}
		}
	}
	vars := map[string]any{"equipment": name, "title": o.Title, "titleEN": o.Title, "emergency": o.Emergency,
		"disturbs": words(o.Disturbs, 0, "、"), "disturbsEN": words(o.Disturbs, 1, ", "),
		"restored": words(o.Disturbs, 2, "，"), "restoredEN": words(o.Disturbs, 3, ", "), "buildings": strings.Join(names, "、")}
	kind, key := notify.OutageRestored, "outage:"+o.ID+":restored"
	if !restored {
		if o.ScheduledAt == nil {
			return nil
		}
		at := o.ScheduledAt.In(s.cfg.Zone(o.CommunityID))
		kind, key = notify.OutageNotice, "outage:"+o.ID+":"+o.ScheduledAt.UTC().Format(time.RFC3339)
		vars["when"] = at.Format("1月2日 15:04")
		vars["whenEN"] = at.Format("Jan 2 15:04")
		vars["duration"], vars["durationEN"] = durationText(o.Minutes)
	}
	_, err = s.cfg.Sender.Send(ctx, notify.Message{Kind: kind, Key: key, Recipients: rs, Vars: vars,
		Data: map[string]string{"maintenanceOrderId": o.ID}})
	if err != nil {
		return fmt.Errorf("send %s of %s: %w", kind, o.ID, err)
	}
	return nil
}

// residents are the members of the served buildings' households, each
// once: a query per page of households, not per person.
func (s *Service) residents(ctx context.Context, o *Order) ([]notify.Recipient, error) {
	if len(o.Serves) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []notify.Recipient
	p := page.Request{First: page.MaxFirst}
	for {
		pg, err := s.cfg.Residents.InAudience(ctx, o.CommunityID, o.Serves, p)
		if err != nil {
			return nil, fmt.Errorf("households served by %s: %w", o.ID, err)
		}
		ids := make([]string, len(pg.Items))
		for i, h := range pg.Items {
			ids[i] = h.ID
		}
		ms, err := s.cfg.Residents.MembershipsByHouseholds(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("residents served by %s: %w", o.ID, err)
		}
		for _, id := range ids {
			for _, m := range ms[id] {
				if !seen[m.PersonID] {
					seen[m.PersonID] = true
					out = append(out, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: o.CommunityID})
				}
			}
		}
		if !pg.HasNext || len(pg.Items) == 0 {
			return out, nil
		}
		p.After = pg.Items[len(pg.Items)-1].SortKey
	}
}
