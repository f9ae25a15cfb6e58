// Package freeservice runs free scheduled services (无偿服务): campaigns such
// as a gas-safety check of every flat every two months. A supervisor sets
// the visit days, time slots and capacity; owners book one slot per
// household per cycle until the day before; booked owners are reminded the
// evening before; staff record the visit per household, and a problem found
// becomes a repair request; coverage shows who is done, booked or not yet
// reached.
//
// Each cycle repeats the first cycle's visit days N months later. The next
// cycle opens by itself (Tick) once the last visit day of the current one is
// over: the recurrence is what the supervisor declared when creating the
// campaign, so nobody has to remember to reopen it, and coverage of the
// checks the company owes every flat never lapses.
//
// Storage, without transactions (FerretDB v1 has none and runs
// findOneAndUpdate as read-modify-write):
//   - freeservice_campaigns: the campaign and its visit-day pattern;
//   - freeservice_slots: one document per slot per cycle, with a _id derived
//     from (campaign, cycle, index), so opening a cycle twice inserts nothing;
//   - freeservice_visits: one document per household per cycle (_id derived
//     from campaign, cycle, household: the unique _id is the "one booking per
//     household per cycle" rule), moved by the guarded lifecycle
//     (BOOKED → DONE / NOT_HOME / PROBLEM_FOUND);
//   - freeservice_seats: capacity claims, one document per seat with _id
//     "<slot>#<n>" for n ≤ capacity: an insert either takes a free seat or
//     fails on the unique _id, so concurrent bookings never exceed capacity
//     on either database.
package freeservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

var (
	ErrNotFound      = apperr.New(apperr.NotFound, "freeservice.not_found")
	ErrSlotNotFound  = apperr.New(apperr.NotFound, "freeservice.slot_not_found")
	ErrSlotFull      = apperr.New(apperr.Conflict, "freeservice.slot_full")
	ErrBookingClosed = apperr.New(apperr.Conflict, "freeservice.booking_closed")
	ErrMoveClosed    = apperr.New(apperr.Conflict, "freeservice.move_closed")
	ErrNotCovered    = apperr.New(apperr.BadUserInput, "freeservice.not_covered")
	ErrAlreadyDone   = apperr.New(apperr.Conflict, "freeservice.already_visited")
	ErrEnded         = apperr.New(apperr.Conflict, "freeservice.ended")
	ErrBadCycle      = apperr.New(apperr.BadUserInput, "freeservice.bad_cycle")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"freeservice.not_found":       {ZH: "服务活动不存在", EN: "Service campaign not found"},
		"freeservice.slot_not_found":  {ZH: "预约时段不存在", EN: "Time slot not found"},
		"freeservice.slot_full":       {ZH: "%s 已约满，请选择其他时段", EN: "%s is fully booked; please choose another slot"},
		"freeservice.booking_closed":  {ZH: "%s 的预约已于 %s 截止", EN: "Booking for %s closed at %s"},
		"freeservice.move_closed":     {ZH: "您已预约的 %s 已于 %s 截止预约，不能再改约", EN: "Booking for your slot %s closed at %s; it can no longer be changed"},
		"freeservice.not_covered":     {ZH: "该房屋不在本次服务范围内", EN: "is not covered by this campaign"},
		"freeservice.already_visited": {ZH: "本周期已上门服务（%s），无需再预约", EN: "This cycle's visit is already recorded (%s)"},
		"freeservice.ended":           {ZH: "该服务活动已结束", EN: "This campaign has ended"},
		"freeservice.bad_cycle":       {ZH: "周期应在 1 到 %d 之间", EN: "must be between 1 and %d"},
		"freeservice.bad_clock":       {ZH: "时间格式应为 HH:MM", EN: "must be a time of day, HH:MM"},
		"freeservice.bad_slot":        {ZH: "结束时间应晚于开始时间", EN: "must end after it starts"},
		"freeservice.past_day":        {ZH: "服务日期应晚于今天", EN: "must be after today"},
		"freeservice.duplicate_day":   {ZH: "服务日期重复", EN: "lists a date twice"},
		"freeservice.cycle_too_long":  {ZH: "一个周期的服务日不能跨越 %d 个月", EN: "visit days of one cycle must fall within %d months"},
		"freeservice.description":     {ZH: "发现问题时请描述问题", EN: "is required when a problem was found"},
	})
	lifecycle.Declare("freeservice_visits")
	mongo.Declare(
		mongo.Indexes{Collection: "freeservice_campaigns", Models: []mgo.IndexModel{
			// Staff list a community's campaigns; residents its active ones.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Tick: active campaigns whose cycle is over.
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "cycleEndsAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "freeservice_slots", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "cycle", Value: 1}, {Key: "startsAt", Value: 1}}},
			// Tick: slots whose booking closed and whose reminder is not out.
			{Keys: bson.D{{Key: "reminded", Value: 1}, {Key: "closesAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "freeservice_visits", Models: []mgo.IndexModel{
			// Coverage counts by status; the coverage page reads by _id.
			{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "cycle", Value: 1}, {Key: "status", Value: 1}}},
			// Reminders: the booked households of a slot.
			{Keys: bson.D{{Key: "slotId", Value: 1}, {Key: "status", Value: 1}}},
		}},
		// _id is "<slot>#<n>"; the index counts a slot's seats.
		mongo.Indexes{Collection: "freeservice_seats", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "slotId", Value: 1}}},
		}},
	)
}

// Communities is what campaigns need from the community register.
type Communities interface {
	Get(ctx context.Context, c *access.Caller, id string) (*community.Community, error)
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Households is what campaigns need from the household register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	Mine(ctx context.Context, c *access.Caller) ([]*household.Household, error)
	InAudience(ctx context.Context, communityID string, buildingIDs []string, p page.Request) (page.Page[*household.Household], error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Repairs files the repair request of a problem found on a visit.
type Repairs interface {
	FileForHousehold(ctx context.Context, c *access.Caller, in repair.FileInput) (*repair.Request, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Config wires a Service.
type Config struct {
	DB          *mongo.DB
	Communities Communities // *community.Service
	Households  Households  // *household.Service
	Repairs     Repairs     // *repair.Service
	Files       *files.Store
	Sender      Sender    // *notify.Engine
	Bus         Publisher // may be nil
	Log         *slog.Logger
	Now         func() time.Time
}

// Service runs campaigns, bookings, visits and their reminders.
type Service struct {
	campaigns, slots, visits, seats *mgo.Collection
	steps                           *lifecycle.Store
	communities                     Communities
	households                      Households
	repairs                         Repairs
	files                           *files.Store
	sender                          Sender
	bus                             Publisher
	log                             *slog.Logger
	now                             func() time.Time
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		campaigns: cfg.DB.Collection("freeservice_campaigns"), slots: cfg.DB.Collection("freeservice_slots"),
		visits: cfg.DB.Collection("freeservice_visits"), seats: cfg.DB.Collection("freeservice_seats"),
		steps:       lifecycle.NewStore(cfg.DB, "freeservice_visits", cfg.Now),
		communities: cfg.Communities, households: cfg.Households, repairs: cfg.Repairs, files: cfg.Files,
		sender: cfg.Sender, bus: cfg.Bus, log: cfg.Log, now: cfg.Now,
	}
}

// derivedID is an id (an ObjectID's 24 hex digits, as every id of the API)
// derived from parts: documents whose identity is a combination (a slot of
// a cycle, a household's visit in a cycle) get it as their unique _id.
func derivedID(parts ...any) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(append([]any{"freeservice"}, parts...)...)))
	return hex.EncodeToString(sum[:12])
}

func visitID(campaignID string, cycle int, householdID string) string {
	return derivedID("visit", campaignID, cycle, householdID)
}

func slotID(campaignID string, cycle, index int) string {
	return derivedID("slot", campaignID, cycle, index)
}

// publish tells listeners what happened; a failed publish is logged, the
// change is already stored.
func (s *Service) publish(ctx context.Context, c *access.Caller, typ, communityID, householdID, subjectID string, data map[string]any) {
	if s.bus == nil {
		return
	}
	actor := ""
	if c != nil {
		actor = c.ID
	}
	err := s.bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "freeservice." + typ, CommunityID: communityID, HouseholdID: householdID, SubjectID: subjectID, ActorID: actor, Data: data,
	})
	if err != nil {
		s.log.WarnContext(ctx, "publish free-service event", "type", typ, "subject", subjectID, "err", err)
	}
}

// label names a slot in messages: "2026-11-25 09:00-11:00".
func (sl *Slot) label() string { return sl.Date + " " + sl.Start + "-" + sl.End }

// localTime renders an instant as people of the community read it.
func localTime(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, _ = time.LoadLocation(community.DefaultTimeZone)
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
