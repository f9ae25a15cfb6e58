package facility

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Bounds of a plan.
const (
	MaxEvery     = 366
	MaxMinutes   = 24 * 60
	MaxSteps     = 50
	MaxStepChars = 200
)

// PlanInput creates (ID empty) or replaces a plan of an item.
type PlanInput struct {
	ID          string
	EquipmentID string
	Title       string
	Every       int
	Unit        Unit
	Start       string // first due date
	Checklist   []string
	Disturbs    []Disturbance
	Minutes     int
	Active      bool
}

// UpsertPlan stores a plan. Changing a plan's start moves its next due
// date there; otherwise orders already raised stay as they are and the next
// one follows the new interval from the last raised date.
func (s *Service) UpsertPlan(ctx context.Context, c *access.Caller, in PlanInput) (*Plan, error) {
	eq, err := s.GetEquipment(ctx, c, in.EquipmentID)
	if err != nil {
		return nil, err
	}
	if !manages(c, eq.CommunityID) {
		return nil, ErrNotFound
	}
	if in.Title, err = validate.Text("input.title", in.Title, true, 60); err != nil {
		return nil, err
	}
	if in.Every < 1 || in.Every > MaxEvery || !slices.Contains([]Unit{Days, Weeks, Months}, in.Unit) {
		return nil, apperr.Invalid("input.every", "facility.bad_interval", MaxEvery)
	}
	if !isDate(in.Start) {
		return nil, apperr.Invalid("input.start", "facility.bad_date")
	}
	if len(in.Checklist) == 0 || len(in.Checklist) > MaxSteps {
		return nil, apperr.Invalid("input.checklist", "facility.bad_checklist", MaxSteps, MaxStepChars)
	}
	if in.Checklist, err = validate.List("input.checklist", in.Checklist, MaxSteps, MaxStepChars); err != nil {
		return nil, err
	}
	for _, d := range in.Disturbs {
		if !slices.Contains(Disturbances, d) {
			return nil, apperr.Invalid("input.disturbs", "facility.bad_disturbance")
		}
	}
	if in.Minutes < 1 || in.Minutes > MaxMinutes {
		return nil, apperr.Invalid("input.minutes", "facility.bad_minutes", MaxMinutes)
	}
	now := s.cfg.Now().UTC()
	p := &Plan{CommunityID: eq.CommunityID, EquipmentID: eq.ID, Title: in.Title, Every: in.Every, Unit: in.Unit,
		Start: in.Start, NextDue: in.Start, Checklist: in.Checklist, Disturbs: dedupeD(in.Disturbs), Minutes: in.Minutes,
		Active: in.Active, UpdatedBy: c.ID, CreatedAt: now, UpdatedAt: now}
	if in.ID == "" {
		p.ID = mongo.NewID()
		p.SortKey = p.ID
		if _, err := s.plans.InsertOne(ctx, p); err != nil {
			return nil, fmt.Errorf("create maintenance plan: %w", err)
		}
		return p, nil
	}
	old, err := s.GetPlan(ctx, c, in.ID)
	if err != nil {
		return nil, err
	}
	if old.EquipmentID != eq.ID {
		return nil, ErrNotFound
	}
	p.ID, p.SortKey, p.CreatedAt = old.ID, old.SortKey, old.CreatedAt
	if old.Start == in.Start {
		p.NextDue = old.NextDue
	}
	set := bson.D{{Key: "title", Value: p.Title}, {Key: "every", Value: p.Every}, {Key: "unit", Value: p.Unit},
		{Key: "start", Value: p.Start}, {Key: "nextDue", Value: p.NextDue}, {Key: "checklist", Value: p.Checklist},
		{Key: "disturbs", Value: p.Disturbs}, {Key: "minutes", Value: p.Minutes}, {Key: "active", Value: p.Active},
		{Key: "updatedBy", Value: c.ID}, {Key: "updatedAt", Value: now}}
	if err := s.plans.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(p); err != nil {
		return nil, fmt.Errorf("update maintenance plan %s: %w", p.ID, err)
	}
	return p, nil
}

// GetPlan loads a plan the caller may see.
func (s *Service) GetPlan(ctx context.Context, c *access.Caller, id string) (*Plan, error) {
	if !mongo.ValidID(id) {
		return nil, ErrNotFound
	}
	p, err := mongo.FindByID[Plan](ctx, s.plans, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !sees(c, p.CommunityID) {
		return nil, ErrNotFound
	}
	return p, nil
}

// PlanFilter narrows the plans: a community's, or one item's.
type PlanFilter struct {
	CommunityID string
	EquipmentID string
}

// ListPlans is one page of plans.
func (s *Service) ListPlans(ctx context.Context, c *access.Caller, f PlanFilter, p page.Request) (page.Page[*Plan], error) {
	var none page.Page[*Plan]
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.EquipmentID != "" {
		eq, err := s.GetEquipment(ctx, c, f.EquipmentID)
		if err != nil {
			return none, err
		}
		q = bson.D{{Key: "equipmentId", Value: eq.ID}}
	} else if !sees(c, f.CommunityID) {
		return none, ErrNotFound
	}
	return mongo.FindPage(ctx, s.plans, q, p, mongo.PageQuery{}, func(p *Plan) string { return p.SortKey })
}

func dedupeD(ds []Disturbance) []Disturbance {
	out := []Disturbance{}
	for _, d := range ds {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
