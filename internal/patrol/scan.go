package patrol

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// ErrAlreadyScanned: another guard scanned the checkpoint in this round.
var ErrAlreadyScanned = apperr.New(apperr.Conflict, "patrol.already_scanned")

func init() {
	apperr.Register(map[string]apperr.Text{
		"patrol.already_scanned": {ZH: "本轮该巡更点已由其他队员打卡", EN: "Another guard has already scanned this checkpoint in this round"},
	})
}

// ScanInput is a scan as a guard's phone uploads it.
type ScanInput struct {
	CommunityID    string
	Code           string
	DoneAt         time.Time
	IdempotencyKey string
}

// RecordScan records a guard's scan of a checkpoint code at DoneAt, in the
// round it falls in: ON_TIME within the checkpoint's window, LATE after it.
// An upload retried with the same key returns the first record.
func (s *Service) RecordScan(ctx context.Context, c *access.Caller, in ScanInput) (*Scan, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !Guard(c, in.CommunityID) && !c.StaffIn(in.CommunityID, access.SecuritySupervisor) {
		return nil, apperr.ErrForbidden
	}
	key, err := validate.Text("input.idempotencyKey", in.IdempotencyKey, true, 64)
	if err != nil {
		return nil, err
	}
	code, err := validate.Text("input.code", in.Code, true, 64)
	if err != nil {
		return nil, err
	}
	var r Route
	err = s.routes.FindOne(ctx, bson.D{{Key: "communityId", Value: in.CommunityID}, {Key: "checkpoints.code", Value: code}}).Decode(&r)
	if err == mgo.ErrNoDocuments {
		return nil, ErrBadCode.WithField("input.code")
	}
	if err != nil {
		return nil, fmt.Errorf("find checkpoint code: %w", err)
	}
	var cp *Checkpoint
	for i := range r.Checkpoints {
		if r.Checkpoints[i].Code == code {
			cp = &r.Checkpoints[i]
		}
	}
	if !Leads(c, r.CommunityID) {
		hideCodes(&r)
	}
	if prev, err := s.byKey(ctx, c.ID, key); err != nil || prev != nil {
		if prev != nil && prev.CheckpointID != cp.ID {
			return nil, apperr.Invalid("input.idempotencyKey", "patrol.key_reused")
		}
		if prev != nil {
			prev.Checkpoint = cp
			return prev, s.touchRound(ctx, &r, prev)
		}
		return nil, err
	}
	now := s.now()
	done := in.DoneAt.UTC()
	if err := validate.Offline("input.doneAt", done, now); err != nil {
		return nil, err
	}
	if !r.Active {
		return nil, ErrInactive
	}
	start, due, ok := r.Shift.slot(cp, done, s.zone(r.CommunityID))
	if !ok {
		return nil, ErrOffShift
	}
	sc := &Scan{ID: mongo.NewID(), CommunityID: r.CommunityID, RouteID: r.ID, RoundID: roundID(r.ID, start), CheckpointID: cp.ID,
		GuardID: c.ID, IdempotencyKey: key, Status: OnTime, RoundStart: start.UTC(), DueAt: due.UTC(), DoneAt: done, RecordedAt: now, Checkpoint: cp}
	if done.After(due.Add(cp.Tolerance)) {
		sc.Status = Late
	}
	if _, err := s.scans.InsertOne(ctx, sc); err != nil {
		if !mongo.IsDuplicate(err) {
			return nil, fmt.Errorf("insert patrol scan: %w", err)
		}
		return s.duplicate(ctx, c, &r, sc)
	}
	return sc, s.touchRound(ctx, &r, sc)
}

// duplicate answers a scan refused by a unique index: the same upload
// racing itself, or the checkpoint already scanned this round.
func (s *Service) duplicate(ctx context.Context, c *access.Caller, r *Route, sc *Scan) (*Scan, error) {
	if prev, err := s.byKey(ctx, c.ID, sc.IdempotencyKey); err != nil || prev != nil {
		if prev != nil {
			prev.Checkpoint = sc.Checkpoint
			return prev, s.touchRound(ctx, r, prev)
		}
		return nil, err
	}
	var prev Scan
	if err := s.scans.FindOne(ctx, bson.D{{Key: "roundId", Value: sc.RoundID}, {Key: "checkpointId", Value: sc.CheckpointID}}).Decode(&prev); err != nil {
		return nil, fmt.Errorf("read patrol scan: %w", err)
	}
	if prev.GuardID != c.ID {
		return nil, ErrAlreadyScanned
	}
	prev.Checkpoint = sc.Checkpoint
	return &prev, nil
}

func (s *Service) byKey(ctx context.Context, guardID, key string) (*Scan, error) {
	var sc Scan
	err := s.scans.FindOne(ctx, bson.D{{Key: "guardId", Value: guardID}, {Key: "idempotencyKey", Value: key}}).Decode(&sc)
	if err == mgo.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read patrol scan: %w", err)
	}
	return &sc, nil
}

// touchRound writes the round a scan or miss belongs to, with the guard.
// It is idempotent, so a retried upload repairs a round a lost answer left
// unwritten.
func (s *Service) touchRound(ctx context.Context, r *Route, sc *Scan) error {
	up := bson.D{{Key: "$setOnInsert", Value: roundDoc(r, sc.RoundStart)}}
	if sc.GuardID != "" {
		up = append(up, bson.E{Key: "$addToSet", Value: bson.D{{Key: "guardIds", Value: sc.GuardID}}})
	}
	_, err := s.rounds.UpdateOne(ctx, bson.D{{Key: "_id", Value: sc.RoundID}}, up, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write patrol round: %w", err)
	}
	return nil
}

func roundDoc(r *Route, start time.Time) bson.D {
	return bson.D{{Key: "communityId", Value: r.CommunityID}, {Key: "routeId", Value: r.ID},
		{Key: "start", Value: start.UTC()}, {Key: "end", Value: start.Add(r.Shift.Every).UTC()},
		{Key: "sortKey", Value: page.NewestFirst(start, roundID(r.ID, start))}}
}
