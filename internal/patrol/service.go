package patrol

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// StaffDirectory finds the security supervisors to alert.
type StaffDirectory interface {
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// Config wires the service.
type Config struct {
	DB     *mongo.DB
	Staff  StaffDirectory
	Sender Sender
	// Zone is a community's time zone, in which shifts are kept.
	Zone func(communityID string) *time.Location
	Log  *slog.Logger
	Now  func() time.Time
}

// Service keeps routes, scans and misses.
type Service struct {
	cfg    Config
	routes *mgo.Collection
	scans  *mgo.Collection
	misses *mgo.Collection
	rounds *mgo.Collection
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, routes: cfg.DB.Collection("patrol_routes"), scans: cfg.DB.Collection("patrol_scans"),
		misses: cfg.DB.Collection("patrol_misses"), rounds: cfg.DB.Collection("patrol_rounds")}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		return s.cfg.Zone(communityID)
	}
	return time.FixedZone("CST", 8*3600)
}

// Leads may set routes up, read codes and every guard's patrols: the
// community's security supervisors and, as for everything they may do, its
// supervisors (ESTATE.md).
func Leads(c *access.Caller, communityID string) bool {
	return c.StaffIn(communityID, access.SecuritySupervisor) || c.SupervisesIn(communityID)
}

// Guard reports a guard (秩序维护员) of the community.
func Guard(c *access.Caller, communityID string) bool {
	return c.StaffIn(communityID, access.Security)
}

// CheckpointInput is a checkpoint as leads write it; ID keeps an existing
// checkpoint and its posted code.
type CheckpointInput struct {
	ID               string
	Name             string
	Place            string
	OffsetMinutes    int
	ToleranceMinutes int
}

// RouteInput is a route as leads write it; ID edits one.
type RouteInput struct {
	ID           string
	CommunityID  string
	Name         string
	Checkpoints  []CheckpointInput
	ShiftStart   string
	ShiftEnd     string
	EveryMinutes int
	Active       bool
}

// UpsertRoute creates or edits a route. Checkpoints kept by id keep their
// code, so what is posted on site stays valid; new ones get a new code.
func (s *Service) UpsertRoute(ctx context.Context, c *access.Caller, in RouteInput) (*Route, error) {
	var old *Route
	if in.ID != "" {
		r, err := s.route(ctx, c, in.ID)
		if err != nil {
			return nil, err
		}
		old, in.CommunityID = r, r.CommunityID
	} else if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !Leads(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	r, err := s.build(in, old)
	if err != nil {
		return nil, err
	}
	if old == nil {
		if _, err := s.routes.InsertOne(ctx, r); err != nil {
			return nil, fmt.Errorf("insert patrol route: %w", err)
		}
		return r, nil
	}
	r.Version = old.Version + 1
	res, err := s.routes.ReplaceOne(ctx, bson.D{{Key: "_id", Value: old.ID}, {Key: "version", Value: old.Version}}, r)
	if err != nil {
		return nil, fmt.Errorf("replace patrol route: %w", err)
	}
	if res.MatchedCount == 0 {
		return nil, apperr.ErrConflict
	}
	return r, nil
}

func (s *Service) build(in RouteInput, old *Route) (*Route, error) {
	name, err := validate.Text("input.name", in.Name, true, 40)
	if err != nil {
		return nil, err
	}
	sh := Shift{Start: in.ShiftStart, End: in.ShiftEnd, Every: time.Duration(in.EveryMinutes) * time.Minute}
	if _, ok := clock(sh.Start); !ok {
		return nil, apperr.Invalid("input.shiftStart", "patrol.bad_time")
	}
	if _, ok := clock(sh.End); !ok {
		return nil, apperr.Invalid("input.shiftEnd", "patrol.bad_time")
	}
	if sh.Every < MinEvery || sh.Every > sh.Length() {
		return nil, apperr.Invalid("input.everyMinutes", "input.out_of_range", int(MinEvery/time.Minute), int(sh.Length()/time.Minute))
	}
	if len(in.Checkpoints) == 0 || len(in.Checkpoints) > MaxCheckpoints {
		return nil, apperr.Invalid("input.checkpoints", "input.out_of_range", 1, MaxCheckpoints)
	}
	now := s.now()
	r := &Route{ID: mongo.NewID(), CommunityID: in.CommunityID, Name: name, Shift: sh, Active: in.Active, CreatedAt: now, UpdatedAt: now}
	if old != nil {
		r.ID, r.CreatedAt = old.ID, old.CreatedAt
	}
	last := time.Duration(-1)
	for i, ci := range in.Checkpoints {
		f := fmt.Sprintf("input.checkpoints.%d", i)
		cp := Checkpoint{Offset: time.Duration(ci.OffsetMinutes) * time.Minute, Tolerance: time.Duration(ci.ToleranceMinutes) * time.Minute}
		if cp.Name, err = validate.Text(f+".name", ci.Name, true, 40); err != nil {
			return nil, err
		}
		if cp.Place, err = validate.Text(f+".place", ci.Place, false, 100); err != nil {
			return nil, err
		}
		if cp.Offset < last || cp.Offset >= sh.Every {
			return nil, apperr.Invalid(f+".offsetMinutes", "patrol.offset_order")
		}
		last = cp.Offset
		// The window fits in the round, so consecutive rounds' windows of
		// one checkpoint never overlap.
		if cp.Tolerance < time.Minute || cp.Tolerance > MaxTolerance || 2*cp.Tolerance > sh.Every {
			return nil, apperr.Invalid(f+".toleranceMinutes", "input.out_of_range", 1, min(int(MaxTolerance/time.Minute), in.EveryMinutes/2))
		}
		if ci.ID != "" {
			var prev *Checkpoint
			if old != nil {
				prev = old.Checkpoint(ci.ID)
			}
			if prev == nil {
				return nil, apperr.Invalid(f+".id", "common.not_found")
			}
			cp.ID, cp.Code = prev.ID, prev.Code
		} else {
			cp.ID, cp.Code = mongo.NewID(), newCode()
		}
		r.Checkpoints = append(r.Checkpoints, cp)
	}
	return r, nil
}

// newCode is 80 random bits in base32 (16 letters and digits): fits a QR
// code or an NFC tag, and is neither guessable nor repeated.
func newCode() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base32.StdEncoding.EncodeToString(b)
}

// route reads one route with its codes for its community's leads and guards.
func (s *Service) route(ctx context.Context, c *access.Caller, id string) (*Route, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	var r Route
	if err := s.routes.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r); err != nil {
		if err == mgo.ErrNoDocuments {
			return nil, ErrRouteNotFound
		}
		return nil, fmt.Errorf("read patrol route: %w", err)
	}
	if !Leads(c, r.CommunityID) && !Guard(c, r.CommunityID) {
		return nil, ErrRouteNotFound
	}
	return &r, nil
}

// Routes lists a community's routes by name (at most 100: a community
// has a handful) for its leads and guards; only leads see the codes.
func (s *Service) Routes(ctx context.Context, c *access.Caller, communityID string) ([]*Route, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	leads := Leads(c, communityID)
	if !leads && !Guard(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	cur, err := s.routes.Find(ctx, bson.D{{Key: "communityId", Value: communityID}},
		options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(100))
	if err != nil {
		return nil, fmt.Errorf("list patrol routes: %w", err)
	}
	var out []*Route
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list patrol routes: %w", err)
	}
	if !leads {
		for _, r := range out {
			hideCodes(r)
		}
	}
	return out, nil
}
