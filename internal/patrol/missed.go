package patrol

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// Tick marks, on every active route whose shift is on at now, each
// checkpoint whose window has closed unscanned in a round of that shift as
// MISSED, and tells the community's security supervisors (supervisors
// when it has none) once per checkpoint per round. After the shift has
// ended nothing more is marked: a miss is worth telling while someone can
// still walk there. Every server runs it; the miss's id makes it once.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	cur, err := s.routes.Find(ctx, bson.D{{Key: "active", Value: true}})
	if err != nil {
		return fmt.Errorf("active patrol routes: %w", err)
	}
	var routes []*Route
	if err := cur.All(ctx, &routes); err != nil {
		return fmt.Errorf("active patrol routes: %w", err)
	}
	for _, r := range routes {
		if err := s.tickRoute(ctx, r, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) tickRoute(ctx context.Context, r *Route, now time.Time) error {
	o, on := r.Shift.current(now, s.zone(r.CommunityID))
	if !on {
		return nil
	}
	var ids []string
	for k := 0; k < o.rounds; k++ {
		if st := o.roundStart(k, r.Shift.Every); !st.After(now) {
			ids = append(ids, roundID(r.ID, st))
		}
	}
	done, err := s.accounted(ctx, ids)
	if err != nil {
		return err
	}
	for k := range ids {
		start := o.roundStart(k, r.Shift.Every)
		for i := range r.Checkpoints {
			cp := &r.Checkpoints[i]
			due := start.Add(cp.Offset)
			rid := ids[k]
			if !due.Add(cp.Tolerance).Before(now) || done[rid+":"+cp.ID] {
				continue
			}
			m := &Miss{ID: rid + ":" + cp.ID, CommunityID: r.CommunityID, RouteID: r.ID, RoundID: rid, CheckpointID: cp.ID,
				DueAt: due.UTC(), MarkedAt: now.UTC()}
			if _, err := s.misses.InsertOne(ctx, m); err != nil {
				if mongo.IsDuplicate(err) {
					continue // another server marked it
				}
				return fmt.Errorf("mark checkpoint missed: %w", err)
			}
			if err := s.touchRound(ctx, r, &Scan{RoundID: rid, RoundStart: start.UTC()}); err != nil {
				return err
			}
			if err := s.alert(ctx, r, cp, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// accounted is every round:checkpoint of rounds already scanned or missed.
func (s *Service) accounted(ctx context.Context, rounds []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(rounds) == 0 {
		return out, nil
	}
	in := bson.D{{Key: "roundId", Value: bson.D{{Key: "$in", Value: rounds}}}}
	proj := options.Find().SetProjection(bson.D{{Key: "roundId", Value: 1}, {Key: "checkpointId", Value: 1}})
	var got []struct {
		RoundID      string `bson:"roundId"`
		CheckpointID string `bson:"checkpointId"`
	}
	for _, col := range []string{"patrol_scans", "patrol_misses"} {
		cur, err := s.cfg.DB.Collection(col).Find(ctx, in, proj)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", col, err)
		}
		got = got[:0]
		if err := cur.All(ctx, &got); err != nil {
			return nil, fmt.Errorf("read %s: %w", col, err)
		}
		for _, g := range got {
			out[g.RoundID+":"+g.CheckpointID] = true
		}
	}
	return out, nil
}

// alert tells the community's security supervisors of a miss, or its
// supervisors when it has no security supervisor.
func (s *Service) alert(ctx context.Context, r *Route, cp *Checkpoint, m *Miss) error {
	if s.cfg.Sender == nil || s.cfg.Staff == nil {
		return nil
	}
	leads, err := s.cfg.Staff.WithRole(ctx, r.CommunityID, access.SecuritySupervisor)
	if err != nil {
		return err
	}
	if len(leads) == 0 {
		if leads, err = s.cfg.Staff.WithRole(ctx, r.CommunityID, access.Supervisor); err != nil {
			return err
		}
	}
	if len(leads) == 0 {
		return nil
	}
	rs := make([]notify.Recipient, len(leads))
	for i, st := range leads {
		rs[i] = notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: r.CommunityID}
	}
	due := m.DueAt.In(s.zone(r.CommunityID)).Format("15:04")
	_, err = s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.PatrolCheckpointMissed, Key: "patrol:miss:" + m.ID, Recipients: rs,
		Vars: map[string]any{"route": r.Name, "checkpoint": cp.Name, "place": cp.Place, "due": due},
		Data: map[string]string{"routeId": r.ID, "roundId": m.RoundID, "checkpointId": cp.ID}, At: m.MarkedAt})
	return err
}
