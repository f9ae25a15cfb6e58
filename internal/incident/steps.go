package incident

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/announce"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
	"qinqing/internal/repair"
)

// ActInput is a follow-up on an open incident: an action taken, more people
// told, police or fire service called. At least one is given.
type ActInput struct {
	Action              *ActionInput
	NotifiedStaffIDs    []string
	NotifiedParties     []string
	PoliceCalledAt      *time.Time
	FireServiceCalledAt *time.Time
}

// RecordAction appends to an open incident's record: anyone who sees it
// may (the guard on site, the leads). Actions are never edited; a correction
// is another action.
func (s *Service) RecordAction(ctx context.Context, c *access.Caller, id string, in ActInput) (*Incident, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if in.Action == nil && len(in.NotifiedStaffIDs) == 0 && len(in.NotifiedParties) == 0 && in.PoliceCalledAt == nil && in.FireServiceCalledAt == nil {
		return nil, apperr.Invalid("input.action", "input.required")
	}
	set, push := bson.D{}, bson.D{}
	if in.Action != nil {
		if len(x.Actions) >= MaxActions {
			return nil, ErrTooMany
		}
		a, err := s.action("input.action", c, *in.Action, x.OccurredAt)
		if err != nil {
			return nil, err
		}
		push = append(push, bson.E{Key: "actions", Value: a})
	}
	staffIDs, err := s.staffOf(ctx, "input.notifiedStaffIds", x.CommunityID, in.NotifiedStaffIDs)
	if err != nil {
		return nil, err
	}
	parties, err := validate.List("input.notifiedParties", in.NotifiedParties, MaxNotified, MaxPartyChars)
	if err != nil {
		return nil, err
	}
	if len(staffIDs) > 0 {
		all := union(x.NotifiedStaffIDs, staffIDs)
		if len(all) > MaxNotified {
			return nil, apperr.Invalid("input.notifiedStaffIds", "input.too_many", MaxNotified)
		}
		set = append(set, bson.E{Key: "notifiedStaffIds", Value: all}, bson.E{Key: "staffIds", Value: union(x.StaffIDs, staffIDs)})
	}
	if len(parties) > 0 {
		all := union(x.NotifiedParties, parties)
		if len(all) > MaxNotified {
			return nil, apperr.Invalid("input.notifiedParties", "input.too_many", MaxNotified)
		}
		set = append(set, bson.E{Key: "notifiedParties", Value: all})
	}
	for _, f := range []struct {
		field, key string
		t          *time.Time
	}{{"input.policeCalledAt", "policeCalledAt", in.PoliceCalledAt}, {"input.fireServiceCalledAt", "fireServiceCalledAt", in.FireServiceCalledAt}} {
		t, err := s.calledAt(f.field, f.t, x.OccurredAt)
		if err != nil {
			return nil, err
		}
		if t != nil {
			set = append(set, bson.E{Key: f.key, Value: t})
		}
	}
	var extra bson.D
	if len(push) > 0 {
		extra = bson.D{{Key: "$push", Value: push}}
	}
	return s.step(ctx, c, x, "record_action", "", set, extra)
}

// step applies one lifecycle step to x, guarded by the version read.
func (s *Service) step(ctx context.Context, c *access.Caller, x *Incident, action, note string, set, extra bson.D) (*Incident, error) {
	to, err := Machine.Next(action, x.Status)
	if err != nil {
		return nil, err
	}
	entry := lifecycle.Entry{At: s.now(), Action: action, From: string(x.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: note}
	var out Incident
	if err := s.steps.ApplyWith(ctx, x.ID, x.Version, entry, set, extra, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Close closes an open incident with its summary: the community's leads,
// at the version they read (CONFLICT when it changed meanwhile).
func (s *Service) Close(ctx context.Context, c *access.Caller, id string, version int, summary string) (*Incident, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !Leads(c, x.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	sum, err := validate.Text("summary", summary, true, MaxSummary)
	if err != nil {
		return nil, err
	}
	if version != x.Version {
		return nil, lifecycle.ErrStale
	}
	now := s.now()
	secs := int64(now.Sub(x.OccurredAt) / time.Second)
	set := bson.D{{Key: "closedAt", Value: now}, {Key: "closedBy", Value: c.ID}, {Key: "closingSummary", Value: sum}, {Key: "closeSeconds", Value: max(secs, 0)}}
	return s.step(ctx, c, x, "close", sum, set, nil)
}

// AnnounceInput is the EMERGENCY announcement of an incident; it goes to
// the incident's buildings (the whole community when it names none).
type AnnounceInput struct {
	Title string
	Body  string
}

// Announce publishes an EMERGENCY announcement for an open incident through
// the announcement service and links it: the community's leads, once.
func (s *Service) Announce(ctx context.Context, c *access.Caller, id string, in AnnounceInput) (*Incident, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !Leads(c, x.CommunityID) {
		return nil, ErrNotAnnounced
	}
	if x.AnnouncementID != "" {
		return nil, ErrAnnounced
	}
	if x.Status != Open {
		return nil, lifecycle.ErrIllegal.WithArgs(string(x.Status))
	}
	a, err := s.cfg.Announcements.Publish(ctx, c, announce.Input{CommunityID: x.CommunityID, Title: in.Title, Body: in.Body,
		Kind: announce.Emergency, Audience: announce.Audience{BuildingIDs: x.BuildingIDs}})
	if err != nil {
		return nil, err
	}
	return s.link(ctx, c, x, "announce", "announcementId", a.ID)
}

// RepairInput is the public-area repair an incident files.
type RepairInput struct {
	BuildingID  string
	Floor       *int
	Kind        repair.AreaKind
	Place       string
	Category    repair.Category
	Description string
	Urgency     repair.Urgency
}

// FileRepair files a public-area repair for an open incident through the
// repair service (its rules decide who may file) and links it, once: staff
// who see the incident.
func (s *Service) FileRepair(ctx context.Context, c *access.Caller, id string, in RepairInput) (*Incident, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if x.RepairRequestID != "" {
		return nil, ErrRepairFiled
	}
	if x.Status != Open {
		return nil, lifecycle.ErrIllegal.WithArgs(string(x.Status))
	}
	r, err := s.cfg.Repairs.Submit(ctx, c, repair.SubmitInput{
		PublicArea: &repair.PublicAreaInput{CommunityID: x.CommunityID, BuildingID: in.BuildingID, Floor: in.Floor, Kind: in.Kind, Place: in.Place},
		Category:   in.Category, Description: in.Description, Urgency: in.Urgency})
	if err != nil {
		return nil, err
	}
	return s.link(ctx, c, x, "file_repair", "repairRequestId", r.ID)
}

// link records what an incident published or filed. The thing exists once
// made, so a step that lost a race with another (an action recorded
// meanwhile) is retried on the fresh version rather than leaving it unlinked.
func (s *Service) link(ctx context.Context, c *access.Caller, x *Incident, action, field, id string) (*Incident, error) {
	var err error
	for range 3 {
		var out *Incident
		if out, err = s.step(ctx, c, x, action, "", bson.D{{Key: field, Value: id}}, nil); !errors.Is(err, lifecycle.ErrStale) {
			return out, err
		}
		if x, err = mongo.FindByID[Incident](ctx, s.col, x.ID, ErrNotFound); err != nil {
			break
		}
	}
	s.cfg.Log.ErrorContext(ctx, "incident left unlinked", "incident", x.ID, "field", field, "id", id, "err", err)
	return nil, err
}
