// Package activity runs community events (社区活动): festivals, sports days,
// children's classes, health talks. Staff create an event for a community or
// some of its buildings and publish it (its residents get a "新活动" notice);
// owners and family sign their household up with a party size; when the
// places are taken, sign-ups wait in line and move up by themselves when
// someone cancels; the day before, confirmed households are reminded; at
// the door staff scan each sign-up's check-in code; after the event the
// households that came are asked for feedback, and staff see attendance,
// no-shows and ratings.
//
// Capacity counts people (places): a sign-up takes as many places as its
// party size. The package is not called "events" because that name is the
// platform's event spine (internal/platform/events).
//
// Storage, without transactions (FerretDB v1 has none and runs
// findOneAndUpdate as read-modify-write):
//   - activity_events: the event, moved by the guarded lifecycle
//     (DRAFT → PUBLISHED → ENDED, or CANCELLED);
//   - activity_signups: one document per household per event (derived _id:
//     the "one sign-up per household" rule), moved by the lifecycle
//     (CONFIRMED / WAITING / CANCELLED, check-in);
//   - activity_places: capacity claims, one document per place with _id
//     "<event>#<n>", n ≤ capacity: an insert takes a free place or fails on
//     the unique _id, so concurrent sign-ups never exceed the capacity on
//     either database (places.go);
//   - activity_tickets: each event's arrival counter, the waiting list's order;
//   - activity_locks: the per-event promotion lock and its rerun markers
//     (promote.go);
//   - activity_feedback: one document per household per event (derived _id).
package activity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// Status of an event. ENDED is stored by Tick once the event is over; until
// a Tick runs, a PUBLISHED event whose end has passed reads as ENDED too
// (Event.StatusAt).
type Status string

const (
	Draft     Status = "DRAFT"
	Published Status = "PUBLISHED"
	Ended     Status = "ENDED"
	Cancelled Status = "CANCELLED"
)

// Machine is every legal step of an event. An edit keeps the state and is
// legal in DRAFT and PUBLISHED (see editable).
var Machine = lifecycle.Machine[Status]{
	"publish": {From: []Status{Draft}, To: Published},
	"cancel":  {From: []Status{Draft, Published}, To: Cancelled},
	"end":     {From: []Status{Published}, To: Ended},
}

// editable are the states an edit may be made in.
var editable = []Status{Draft, Published}

// Tag says whom an event is meant for. Tags describe the event in the apps;
// they do not narrow who is told about it (the register does not know every
// resident's age), the buildings do.
type Tag string

const (
	ForAll      Tag = "ALL"
	ForChildren Tag = "CHILDREN"
	ForElders   Tag = "ELDERS"
	ForFamilies Tag = "FAMILIES"
)

// Tags lists the valid tags.
var Tags = []Tag{ForAll, ForChildren, ForElders, ForFamilies}

// Event is one community event.
type Event struct {
	ID             string    `bson:"_id"`
	CommunityID    string    `bson:"communityId"`
	Title          string    `bson:"title"`
	Description    string    `bson:"description,omitempty"`
	PosterID       string    `bson:"posterId,omitempty"`
	Place          string    `bson:"place"`
	StartsAt       time.Time `bson:"startsAt"`
	EndsAt         time.Time `bson:"endsAt"`
	SignUpDeadline time.Time `bson:"signUpDeadline"`
	BuildingIDs    []string  `bson:"buildingIds"`
	AllBuildings   bool      `bson:"allBuildings"` // no buildings named: the whole community
	// Targets are the audience as keys a resident's household matches
	// ("c:<community>" or "b:<building>"), so "events for me" is one $in.
	Targets []string `bson:"targets"`
	// Capacity is how many people may come; a sign-up takes PartySize places.
	Capacity     int        `bson:"capacity"`
	MaxPartySize int        `bson:"maxPartySize"`
	Audience     []Tag      `bson:"audience"`
	TimeZone     string     `bson:"timeZone"` // the community's, when created
	Status       Status     `bson:"status"`
	Version      int        `bson:"version"`
	CancelReason string     `bson:"cancelReason,omitempty"`
	CreatedBy    string     `bson:"createdBy"`
	Published    bool       `bson:"published"` // ever published: residents may see it (also once cancelled)
	PublishedAt  *time.Time `bson:"publishedAt,omitempty"`
	// Announced: the "new event" fan-out is complete (Tick resumes it).
	Announced bool `bson:"announced"`
	// RemindAt is the evening before the start; Reminded once sent.
	RemindAt      time.Time         `bson:"remindAt"`
	Reminded      bool              `bson:"reminded"`
	FeedbackAsked bool              `bson:"feedbackAsked"`
	Timeline      []lifecycle.Entry `bson:"timeline"`
	CreatedAt     time.Time         `bson:"createdAt"`
	UpdatedAt     time.Time         `bson:"updatedAt"`
	SortKey       string            `bson:"sortKey"` // latest start first

	// Filled for readers (List, Get), not stored.
	PlacesTaken  int       `bson:"-"`
	WaitingCount int       `bson:"-"`
	MySignUps    []*SignUp `bson:"-"` // a resident's households' sign-ups
}

// StatusAt is the status as people see it at now: a published event whose
// end has passed is ENDED even before Tick has stored it.
func (ev *Event) StatusAt(now time.Time) Status {
	if ev.Status == Published && !now.Before(ev.EndsAt) {
		return Ended
	}
	return ev.Status
}

// SignUpOpen reports whether households may sign up at now.
func (ev *Event) SignUpOpen(now time.Time) bool {
	return ev.Status == Published && now.Before(ev.SignUpDeadline) && now.Before(ev.StartsAt)
}

// Covers reports whether household h is in the event's audience.
func (ev *Event) Covers(h *household.Household) bool {
	return h.CommunityID == ev.CommunityID && (ev.AllBuildings || slices.Contains(ev.BuildingIDs, h.BuildingID))
}

func (ev *Event) location() *time.Location {
	loc, err := time.LoadLocation(ev.TimeZone)
	if err != nil {
		loc, _ = time.LoadLocation(community.DefaultTimeZone)
	}
	return loc
}

// local renders an instant as the community reads it.
func (ev *Event) local(t time.Time) string { return t.In(ev.location()).Format("2006-01-02 15:04") }

// when is the event's time in notices: "11月28日 09:00-11:00".
func (ev *Event) when() string {
	s, e := ev.StartsAt.In(ev.location()), ev.EndsAt.In(ev.location())
	out := fmt.Sprintf("%d月%d日 %s-", s.Month(), s.Day(), s.Format("15:04"))
	if e.Format(time.DateOnly) != s.Format(time.DateOnly) {
		out += fmt.Sprintf("%d月%d日 ", e.Month(), e.Day())
	}
	return out + e.Format("15:04")
}

func targetKeys(communityID string, buildingIDs []string) []string {
	if len(buildingIDs) == 0 {
		return []string{"c:" + communityID}
	}
	out := make([]string, len(buildingIDs))
	for i, b := range buildingIDs {
		out[i] = "b:" + b
	}
	return out
}

func init() {
	lifecycle.Declare("activity_events")
	lifecycle.Declare("activity_signups")
	mongo.Declare(
		mongo.Indexes{Collection: "activity_events", Models: []mgo.IndexModel{
			// Staff lists, all or by status; residents' list by target keys.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "targets", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Tick: ends, reminders, fan-outs and feedback asks due; AttendanceIn.
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "endsAt", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "reminded", Value: 1}, {Key: "remindAt", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "announced", Value: 1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "feedbackAsked", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "endsAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "activity_signups", Models: []mgo.IndexModel{
			// An event's waiting list and attendance, in arrival order.
			{Keys: bson.D{{Key: "eventId", Value: 1}, {Key: "status", Value: 1}, {Key: "ticket", Value: 1}}},
			// A resident's own sign-ups, newest first.
			{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// Check-in: a code is looked up within its event.
			{Keys: bson.D{{Key: "eventId", Value: 1}, {Key: "checkInCode", Value: 1}}},
		}},
		// _id "<event>#<n>"; counted and read per event.
		mongo.Indexes{Collection: "activity_places", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "eventId", Value: 1}, {Key: "holder", Value: 1}}},
		}},
		mongo.Indexes{Collection: "activity_tickets"},
		mongo.Indexes{Collection: "activity_locks", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "kind", Value: 1}}},
		}},
		mongo.Indexes{Collection: "activity_feedback", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "eventId", Value: 1}, {Key: "createdAt", Value: 1}}},
		}},
	)
}

// Communities is what events need from the community register.
type Communities interface {
	Get(ctx context.Context, c *access.Caller, id string) (*community.Community, error)
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Households is what events need from the household register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	InAudience(ctx context.Context, communityID string, buildingIDs []string, p page.Request) (page.Page[*household.Household], error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
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
	Files       *files.Store
	Sender      Sender    // *notify.Engine
	Bus         Publisher // may be nil
	Log         *slog.Logger
	Now         func() time.Time
}

// Service runs community events.
type Service struct {
	events, signups, places, tickets, locks, feedback *mgo.Collection
	steps, signupSteps                                *lifecycle.Store
	communities                                       Communities
	households                                        Households
	files                                             *files.Store
	sender                                            Sender
	bus                                               Publisher
	log                                               *slog.Logger
	now                                               func() time.Time
	batch                                             int // households per fan-out round
	owner                                             string
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	// FerretDB reads a whole collection per page, so it gets fewer, larger
	// pages (as greeting's fan-out does).
	batch := 500
	if cfg.DB.Ferret {
		batch = 2000
	}
	db := cfg.DB
	return &Service{
		events: db.Collection("activity_events"), signups: db.Collection("activity_signups"), places: db.Collection("activity_places"),
		tickets: db.Collection("activity_tickets"), locks: db.Collection("activity_locks"), feedback: db.Collection("activity_feedback"),
		steps: lifecycle.NewStore(db, "activity_events", cfg.Now), signupSteps: lifecycle.NewStore(db, "activity_signups", cfg.Now),
		communities: cfg.Communities, households: cfg.Households, files: cfg.Files, sender: cfg.Sender, bus: cfg.Bus,
		log: cfg.Log, now: cfg.Now, batch: batch, owner: mongo.NewID(),
	}
}

// derivedID is an id (24 hex digits, like every id of the API) derived from
// parts: a household's sign-up for an event, its feedback.
func derivedID(parts ...any) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(append([]any{"activity"}, parts...)...)))
	return hex.EncodeToString(sum[:12])
}

func signUpID(eventID, householdID string) string { return derivedID("signup", eventID, householdID) }

func feedbackID(eventID, householdID string) string {
	return derivedID("feedback", eventID, householdID)
}

// publish tells listeners what happened; a failed publish is logged, the
// change is already stored.
func (s *Service) publish(ctx context.Context, c *access.Caller, typ, communityID, householdID, subjectID string, data map[string]any) {
	if s.bus == nil {
		return
	}
	actor := system.ID
	if c != nil {
		actor = c.ID
	}
	err := s.bus.Publish(context.WithoutCancel(ctx), events.Event{
		Type: "activity." + typ, CommunityID: communityID, HouseholdID: householdID, SubjectID: subjectID, ActorID: actor, Data: data,
	})
	if err != nil {
		s.log.WarnContext(ctx, "publish activity event", "type", typ, "subject", subjectID, "err", err)
	}
}

// mayManage: butlers and supervisors of the community create and run its
// events; admins too, as they may for announcements.
func mayManage(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor)
}
