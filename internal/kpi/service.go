package kpi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
)

// Config wires the service. Surveys, Activities and Calls may be nil: their
// figures are then reported as not available.
type Config struct {
	DB         *mongo.DB
	Repairs    Repairs
	Complaints Complaints
	Orders     Orders
	Surveys    SurveySource
	Activities AttendanceSource
	Calls      CallSource     // nil: calls not available
	Enquiries  Enquiries      // nil: not available
	Campaigns  CampaignVisits // nil: campaign bookings not counted
	Moves      MoveBookings   // nil: move bookings not counted
	Fees       FeeSource      // nil: fee collection not available
	// The estate's sources (nil: their figures not available).
	Inspections InspectionSource
	Patrols     PatrolSource
	Maintenance MaintenanceSource
	Incidents   IncidentSource
	Communities Communities
	Staff       StaffDirectory
	Sender      Sender
	// Committee lets sitting members of the owners' committee read their
	// community's figures: aggregates only, never a household (nil: no one).
	Committee Committee
	Log       *slog.Logger
	Now       func() time.Time
	// Owner names this process in the weekly runs it claims (logs only).
	Owner string
}

// Service computes KPIs and sends the weekly report.
type Service struct {
	cfg    Config
	runs   *mgo.Collection
	tickMu sync.Mutex
	sent   map[string]bool // runs known sent: Tick asks the database once (guarded by tickMu)
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Owner == "" {
		cfg.Owner = mongo.NewID()
	}
	return &Service{cfg: cfg, runs: cfg.DB.Collection("kpi_weekly_runs"), sent: map[string]bool{}}
}

// ServiceKPIs are a community's KPIs over [from, to), at most MaxWindow
// long: for its supervisors and admins.
func (s *Service) ServiceKPIs(ctx context.Context, c *access.Caller, communityID string, from, to time.Time) (*KPIs, error) {
	com, err := s.readable(ctx, c, communityID, true)
	if err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > MaxWindow {
		return nil, ErrBadWindow.WithField("to")
	}
	ks, err := s.compute(ctx, com, span{from, to})
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}

// readable checks c may read the community's figures and returns it.
// committeeToo lets the owners' committee in (the KPIs are aggregates; the
// weekly report, with its workload lists, stays with the company).
func (s *Service) readable(ctx context.Context, c *access.Caller, communityID string, committeeToo bool) (*community.Community, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !mayRead(c, communityID) {
		if !committeeToo {
			return nil, apperr.ErrForbidden
		}
		role, err := s.committeeRole(ctx, c, communityID)
		if err != nil {
			return nil, err
		}
		if role == "" {
			return nil, apperr.ErrForbidden
		}
	}
	return s.community(ctx, communityID)
}

// committeeRole is the caller's office on the community's owners'
// committee, "" without one (or without a committee source).
func (s *Service) committeeRole(ctx context.Context, c *access.Caller, communityID string) (string, error) {
	if s.cfg.Committee == nil || !c.IsPerson() {
		return "", nil
	}
	r, err := s.cfg.Committee.RoleOf(ctx, c, communityID)
	return string(r), err
}

func (s *Service) community(ctx context.Context, id string) (*community.Community, error) {
	cs, err := s.cfg.Communities.ByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if cs[id] == nil {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	return cs[id], nil
}

type span struct{ from, to time.Time }

// compute counts the figures of each span in one pass over each collection
// (its query covers them all; each window counts only its own moments),
// plus one call per span to the survey and event sources.
func (s *Service) compute(ctx context.Context, com *community.Community, spans ...span) ([]*KPIs, error) {
	communityID := com.ID
	now := s.cfg.Now().UTC()
	ws := make([]*window, len(spans))
	lo, hi := spans[0].from.UTC(), spans[0].to.UTC()
	for i, sp := range spans {
		from, to := sp.from.UTC(), sp.to.UTC()
		at := to
		if now.Before(at) {
			at = now
		}
		ws[i] = &window{from: from, to: to, at: at, k: &KPIs{CommunityID: communityID, From: from, To: to, ComputedAt: now}}
		if from.Before(lo) {
			lo = from
		}
		if to.After(hi) {
			hi = to
		}
	}
	err := s.cfg.Repairs.ForReport(ctx, communityID, lo, hi, func(r *repair.Request) error {
		f := factsOf(r, now)
		for _, w := range ws {
			w.addRepair(f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Complaints.ReceivedIn(ctx, communityID, lo, hi, func(x *complaint.Complaint) error {
		for _, w := range ws {
			w.addComplaint(x)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.cfg.Orders.ForReport(ctx, communityID, lo, hi, func(o *serviceorder.Order) error {
		for _, w := range ws {
			w.addOrder(o)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.addEnquiries(ctx, communityID, lo, hi, now, ws); err != nil {
		return nil, err
	}
	if err := s.addBookings(ctx, communityID, lo, hi, ws); err != nil {
		return nil, err
	}
	kinds := s.connectedKinds()
	out := make([]*KPIs, len(ws))
	for i, w := range ws {
		k := w.k
		k.Filed = w.filed.filed(kinds)
		if err := s.external(ctx, communityID, k); err != nil {
			return nil, err
		}
		k.Satisfaction.RepairCallbacks.Available = true
		k.Satisfaction.ServiceOrderCallbacks.Available = true
		k.Satisfaction.Callbacks = k.Satisfaction.RepairCallbacks.Plus(k.Satisfaction.ServiceOrderCallbacks)
		// Overall: every satisfaction score or verdict we have, surveys
		// and callbacks alike (just callbacks while surveys are not connected).
		k.Satisfaction.Overall = k.Satisfaction.Surveys.Plus(k.Satisfaction.Callbacks)
		k.CallbackRate.Repairs.Available, k.CallbackRate.ServiceOrders.Available = true, true
		k.CallbackRate.Overall = k.CallbackRate.Repairs.Plus(k.CallbackRate.ServiceOrders)
		for _, r := range []*Ratio{&k.RepairPassRate, &k.OnTime.Respond, &k.OnTime.Arrive, &k.OnTime.Finish, &k.Complaints.ClosureRate} {
			r.Available = true
		}
		out[i] = k
	}
	if err := s.addFees(ctx, com, out); err != nil {
		return nil, err
	}
	if err := s.addEstate(ctx, communityID, now, out); err != nil {
		return nil, err
	}
	return out, nil
}

// external asks the survey and event services, when connected.
func (s *Service) external(ctx context.Context, communityID string, k *KPIs) error {
	if s.cfg.Surveys != nil {
		sat, rated, err := s.cfg.Surveys.SatisfactionIn(ctx, communityID, k.From, k.To)
		if err != nil {
			return fmt.Errorf("survey satisfaction: %w", err)
		}
		k.Satisfaction.Surveys = Ratio{Numerator: sat, Denominator: rated, Available: true}
	}
	if s.cfg.Activities != nil {
		attended, expected, err := s.cfg.Activities.AttendanceIn(ctx, communityID, k.From, k.To)
		if err != nil {
			return fmt.Errorf("event attendance: %w", err)
		}
		k.EventAttendance = Ratio{Numerator: attended, Denominator: expected, Available: true}
	}
	if s.cfg.Calls != nil {
		within, measured, err := s.cfg.Calls.AnsweredWithinStandardIn(ctx, communityID, k.From, k.To)
		if err != nil {
			return fmt.Errorf("calls within standard: %w", err)
		}
		k.CallsAnsweredWithinStandard = Ratio{Numerator: within, Denominator: measured, Available: true}
	}
	return nil
}
