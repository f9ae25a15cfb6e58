package freeservice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Status of a household's visit in one cycle. A household with no visit
// document is not reached (yet).
type Status string

const (
	Booked       Status = "BOOKED"
	Done         Status = "DONE"
	NotHome      Status = "NOT_HOME"
	ProblemFound Status = "PROBLEM_FOUND" // a repair request was filed
)

// Machine is every legal step of a visit. A first booking or a first
// record inserts the document (its unique _id is the one-per-household-
// per-cycle rule); these are the steps after that. Rebooking moves a
// booking to another slot, or books again after nobody was home.
var Machine = lifecycle.Machine[Status]{
	"rebook":        {From: []Status{Booked, NotHome}, To: Booked},
	"done":          {From: []Status{Booked, NotHome}, To: Done},
	"not_home":      {From: []Status{Booked, NotHome}, To: NotHome},
	"problem_found": {From: []Status{Booked, NotHome}, To: ProblemFound},
}

// SlotRef is the slot a visit is booked for, as it was booked.
type SlotRef struct {
	ID       string    `bson:"id"`
	Date     string    `bson:"date"`
	Start    string    `bson:"start"`
	End      string    `bson:"end"`
	StartsAt time.Time `bson:"startsAt"`
}

// Visit is one household's booking and visit in one cycle of a campaign.
type Visit struct {
	ID          string     `bson:"_id"` // derived from campaign, cycle and household
	CampaignID  string     `bson:"campaignId"`
	CommunityID string     `bson:"communityId"`
	HouseholdID string     `bson:"householdId"`
	BuildingID  string     `bson:"buildingId"`
	Cycle       int        `bson:"cycle"`
	Status      Status     `bson:"status"`
	Version     int        `bson:"version"`
	Slot        *SlotRef   `bson:"slot,omitempty"`
	SlotID      string     `bson:"slotId,omitempty"` // indexed: the reminders' query
	SeatID      string     `bson:"seatId,omitempty"` // the seat claim this booking holds
	BookedBy    string     `bson:"bookedBy,omitempty"`
	BookedAt    *time.Time `bson:"bookedAt,omitempty"`
	// The visit's result, recorded by staff.
	Note            string            `bson:"note,omitempty"`
	Photos          []string          `bson:"photos"`
	RecordedBy      string            `bson:"recordedBy,omitempty"`
	RecordedAt      *time.Time        `bson:"recordedAt,omitempty"`
	RepairRequestID string            `bson:"repairRequestId,omitempty"`
	Timeline        []lifecycle.Entry `bson:"timeline"`
	CreatedAt       time.Time         `bson:"createdAt"`
	UpdatedAt       time.Time         `bson:"updatedAt"`
	// Intake is how it came in: set when staff filed it on a resident's
	// behalf or the resident named a channel (see package intake).
	Intake *intake.Record `bson:"intake,omitempty"`
}

// booksFor: owners and family members book for their own household; the
// community's butlers and supervisors may book for a household that asks
// them to (an elderly owner on the phone). Residents of another household
// get NOT_FOUND, tenants FORBIDDEN (the check is arranged with the owner).
func booksFor(c *access.Caller, h *household.Household) error {
	if role, ok := c.RoleIn(h.ID); ok {
		if role == access.Owner || role == access.Family {
			return nil
		}
		return apperr.ErrForbidden
	}
	if c.StaffIn(h.CommunityID, access.Butler, access.Supervisor) {
		return nil
	}
	return apperr.ErrForbidden
}

// Book books slotID of the campaign's current cycle for a household: one
// slot per household per cycle, so booking another slot moves the booking.
// A full slot is CONFLICT naming it; booking closes the day before the
// visit day at the campaign's close time (and a booking whose slot has
// closed can no longer move).
func (s *Service) Book(ctx context.Context, c *access.Caller, campaignID, slotID, householdID string) (*Visit, error) {
	return s.BookVia(ctx, c, campaignID, slotID, householdID, nil)
}

// BookVia is Book with the intake: staff booking for a member who asked
// (package intake: front-desk staff, butlers and supervisors of the
// community) name the channel and the member, who becomes the booker; the
// member must be an owner or family, as when they book themselves.
func (s *Service) BookVia(ctx context.Context, c *access.Caller, campaignID, slotID, householdID string, via *intake.Input) (*Visit, error) {
	if err := validIDs("campaignId", campaignID, "slotId", slotID, "householdId", householdID); err != nil {
		return nil, err
	}
	h, f, err := s.booker(ctx, c, householdID, via)
	if err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Campaign](ctx, s.campaigns, campaignID, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if x.CommunityID != h.CommunityID {
		return nil, ErrNotFound
	}
	if x.Status != Active {
		return nil, ErrEnded
	}
	if !x.Covers(h) {
		return nil, ErrNotCovered.WithField("householdId")
	}
	sl, err := mongo.FindByID[Slot](ctx, s.slots, slotID, ErrSlotNotFound)
	if err != nil {
		return nil, err
	}
	if sl.CampaignID != x.ID || sl.Cycle != x.CurrentCycle {
		return nil, ErrSlotNotFound
	}
	now := s.now().UTC()
	if sl.Closed(now) {
		return nil, ErrBookingClosed.WithArgs(sl.label(), localTime(sl.ClosesAt, x.TimeZone))
	}
	id := visitID(x.ID, x.CurrentCycle, h.ID)
	v, err := s.visit(ctx, id)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if done, err := s.settled(ctx, x, v, sl, now); err != nil {
			return nil, err
		} else if done {
			return v, nil
		}
	}
	seat, err := s.claimSeat(ctx, sl, id, now)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v, err = s.insertBooking(ctx, c, f, x, h, sl, seat, now)
		if err == nil || !mongo.IsDuplicate(err) {
			if err != nil {
				s.releaseSeat(ctx, seat, id)
			}
			return v, err
		}
		// Another member of the household booked meanwhile: move theirs.
		if v, err = s.visit(ctx, id); err != nil || v == nil {
			s.releaseSeat(ctx, seat, id)
			return nil, cmp.Or[error](err, lifecycle.ErrStale)
		}
		if done, err := s.settled(ctx, x, v, sl, now); err != nil || done {
			s.releaseSeat(ctx, seat, id)
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	return s.rebook(ctx, c, f, v, sl, seat, now)
}

// booker decides who books: a resident or staff through the intake, or a
// butler or supervisor booking without one for a household that asked
// (booksFor), who is then recorded as the booker as before.
func (s *Service) booker(ctx context.Context, c *access.Caller, householdID string, via *intake.Input) (*household.Household, intake.Filing, error) {
	if via == nil && c.IsStaff() {
		h, err := s.households.Get(ctx, c, householdID)
		if err != nil {
			return nil, intake.Filing{}, err
		}
		return h, intake.Filing{PersonID: c.ID}, booksFor(c, h)
	}
	h, f, err := intake.Resolve(ctx, s.households, c, householdID, via, s.now())
	if err != nil {
		return nil, f, err
	}
	if f.Role != access.Owner && f.Role != access.Family {
		return nil, f, apperr.ErrForbidden // tenants: the check is arranged with the owner
	}
	return h, f, nil
}

// bookData is the booking step's timeline data: the slot, and how it came in.
func bookData(f intake.Filing, data map[string]any) map[string]any {
	for k, v := range f.TimelineData() {
		data[k] = v
	}
	return data
}

// settled decides on an existing visit v before moving it to slot to:
// an error if it may not move, done when it is already booked there.
func (s *Service) settled(ctx context.Context, x *Campaign, v *Visit, to *Slot, now time.Time) (done bool, err error) {
	if err := s.mayMove(ctx, x, v, to, now); err != nil {
		return false, err
	}
	return v.Status == Booked && v.SlotID == to.ID, nil
}

// mayMove: a done or problem visit needs no booking this cycle, and a
// booking whose own slot has closed stays (staff plan the day from it).
func (s *Service) mayMove(ctx context.Context, x *Campaign, v *Visit, to *Slot, now time.Time) error {
	if _, err := Machine.Next("rebook", v.Status); err != nil {
		return ErrAlreadyDone.WithArgs(string(v.Status))
	}
	if v.Status != Booked || v.SlotID == to.ID || v.Slot == nil {
		return nil
	}
	cur, err := mongo.FindByID[Slot](ctx, s.slots, v.SlotID, ErrSlotNotFound)
	if err != nil {
		return err
	}
	if cur.Closed(now) {
		return ErrMoveClosed.WithArgs(cur.label(), localTime(cur.ClosesAt, x.TimeZone))
	}
	return nil
}

func (s *Service) visit(ctx context.Context, id string) (*Visit, error) {
	v, err := mongo.FindByID[Visit](ctx, s.visits, id, errNoVisit)
	if errors.Is(err, errNoVisit) {
		return nil, nil
	}
	return v, err
}

var errNoVisit = errors.New("no visit")

func slotRef(sl *Slot) *SlotRef {
	return &SlotRef{ID: sl.ID, Date: sl.Date, Start: sl.Start, End: sl.End, StartsAt: sl.StartsAt}
}

// insertBooking stores a household's first booking of the cycle; a
// duplicate key means the household already has a visit document.
func (s *Service) insertBooking(ctx context.Context, c *access.Caller, f intake.Filing, x *Campaign, h *household.Household, sl *Slot, seat string, now time.Time) (*Visit, error) {
	v := &Visit{
		ID: visitID(x.ID, x.CurrentCycle, h.ID), CampaignID: x.ID, CommunityID: x.CommunityID, HouseholdID: h.ID, BuildingID: h.BuildingID,
		Cycle: x.CurrentCycle, Status: Booked, Version: 1, Slot: slotRef(sl), SlotID: sl.ID, SeatID: seat, BookedBy: f.PersonID, BookedAt: &now, Intake: f.Record,
		Photos: []string{}, CreatedAt: now, UpdatedAt: now,
		Timeline: []lifecycle.Entry{{At: now, Action: "book", To: string(Booked), ActorID: c.ID, ActorKind: string(c.Kind), Data: bookData(f, map[string]any{"slotId": sl.ID})}},
	}
	if _, err := s.visits.InsertOne(ctx, v); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, err
		}
		return nil, fmt.Errorf("insert booking: %w", err)
	}
	s.publish(ctx, c, "book", v.CommunityID, v.HouseholdID, v.ID, map[string]any{"version": v.Version, "status": string(v.Status), "slotId": sl.ID, "summary": x.Title})
	return v, nil
}

// rebook moves v to slot sl whose seat is already claimed; the step is
// guarded by v's version, and the seat it no longer needs is given back.
func (s *Service) rebook(ctx context.Context, c *access.Caller, f intake.Filing, v *Visit, sl *Slot, seat string, now time.Time) (*Visit, error) {
	entry := lifecycle.Entry{At: now, Action: "rebook", From: string(v.Status), To: string(Booked), ActorID: c.ID, ActorKind: string(c.Kind),
		Data: bookData(f, map[string]any{"slotId": sl.ID, "fromSlotId": v.SlotID})}
	set := bson.D{{Key: "slot", Value: slotRef(sl)}, {Key: "slotId", Value: sl.ID}, {Key: "seatId", Value: seat},
		{Key: "bookedBy", Value: f.PersonID}, {Key: "bookedAt", Value: now}, {Key: "intake", Value: f.Record}}
	var out Visit
	if err := s.steps.Apply(ctx, v.ID, v.Version, entry, set, &out); err != nil {
		s.releaseSeat(ctx, seat, v.ID)
		return nil, err
	}
	if v.SeatID != "" {
		s.releaseSeat(ctx, v.SeatID, v.ID)
	}
	s.publish(ctx, c, "rebook", out.CommunityID, out.HouseholdID, out.ID, map[string]any{"version": out.Version, "status": string(out.Status), "slotId": sl.ID})
	return &out, nil
}

// validIDs checks (field, id) pairs in order, so the first bad one is named.
func validIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := validate.ID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
