// Package greeting keeps in touch on good days: each community's festival
// calendar (built-in festivals, several lunar, plus custom dates) with the
// greeting text staff may edit, the scheduler that sends festival and
// birthday greetings once however many server processes run it, and greeting
// campaigns staff send now to a community, buildings or a care group.
//
// Messages go through the notification engine (notify.Engine), whose keys
// make a message to one person about one thing at most once; this package
// makes each scheduled fan-out start once (a run document with a unique _id
// in greeting_runs) and finish even if the process that started it dies.
package greeting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/festival"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Festival and Calendar are the festival package's, named here too so the
// graph layer can build one where an argument called festival shadows that
// package.
type (
	Festival = festival.Festival
	Calendar = festival.Calendar
)

// MaxCustomFestivals bounds the custom dates of one community.
const MaxCustomFestivals = 30

var (
	ErrTooManyCustom     = apperr.New(apperr.BadUserInput, "greeting.too_many_custom")
	ErrSensitiveCampaign = apperr.New(apperr.Forbidden, "greeting.sensitive_campaign")
	errBadFestival       = apperr.New(apperr.BadUserInput, "greeting.bad_festival")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"greeting.too_many_custom":    {ZH: "自定义节日最多 %d 个", EN: "at most %d custom festivals"},
		"greeting.sensitive_campaign": {ZH: "只有主管可以向健康或困难关怀群体发送问候", EN: "Only supervisors may send greetings to a health or hardship care group"},
		"greeting.bad_festival":       {ZH: "取值无效（%s）", EN: "%s"},
	})
	mongo.Declare(
		// _id is the community id.
		mongo.Indexes{Collection: "festival_settings"},
		// _id is the run ("festival:<community>:<key>:<date>"); the index
		// serves the sweep for runs whose process died.
		mongo.Indexes{Collection: "greeting_runs", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "finishedAt", Value: 1}, {Key: "heartbeatAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "greeting_campaigns", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
	)
}

// Communities is what greetings need from the community register.
type Communities interface {
	// List with an admin caller lists every community of the company.
	List(ctx context.Context, c *access.Caller) ([]*community.Community, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Members is what greetings need from the household register.
type Members interface {
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
	PersonsByIDs(ctx context.Context, ids []string) (map[string]*household.Person, error)
}

// Profiles gives care profiles (birthdays).
type Profiles interface {
	ProfilesByPersons(ctx context.Context, ids []string) (map[string]*archive.Profile, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Config wires a Service.
type Config struct {
	DB          *mongo.DB
	Communities Communities
	Members     Members  // *household.Service
	Profiles    Profiles // *archive.Service
	// Audit records a supervisor's read of a sensitive care group addressed
	// by a campaign (*archive.Service); nil withholds such groups from all.
	Audit  Auditor
	Sender Sender // *notify.Engine
	// Zones is the community's time zone (the app's zone cache).
	Zones func(communityID string) *time.Location
	Log   *slog.Logger
	Now   func() time.Time
	// Owner names this process in run documents (diagnostics only).
	Owner string
}

// Service runs festival settings, the greeting scheduler and campaigns.
type Service struct {
	settings, runs, campaigns *mgo.Collection
	households                *households
	communities               Communities
	members                   Members
	profiles                  Profiles
	audit                     Auditor
	sender                    Sender
	zones                     func(string) *time.Location
	log                       *slog.Logger
	now                       func() time.Time
	owner                     string
	batch                     int // households or memberships per round of a fan-out

	tickMu sync.Mutex // one Tick at a time per process
	doneMu sync.Mutex
	done   map[string]bool // runs known finished: no database trip to skip them
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Zones == nil {
		sh, _ := time.LoadLocation(community.DefaultTimeZone)
		cfg.Zones = func(string) *time.Location { return sh }
	}
	if cfg.Owner == "" {
		cfg.Owner = mongo.NewID()
	}
	return &Service{
		settings: cfg.DB.Collection("festival_settings"), runs: cfg.DB.Collection("greeting_runs"),
		campaigns: cfg.DB.Collection("greeting_campaigns"), households: newHouseholds(cfg.DB),
		communities: cfg.Communities, members: cfg.Members, profiles: cfg.Profiles, audit: cfg.Audit, sender: cfg.Sender,
		zones: cfg.Zones, log: cfg.Log, now: cfg.Now, owner: cfg.Owner, done: map[string]bool{}, batch: fanOutBatch(cfg.DB),
	}
}

// system is the scheduler's caller for listing every community.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:greeting", Roles: []access.Role{access.Admin}}

// authorize answers for communityID: NOT_FOUND to callers who cannot see the
// community at all (staff of other communities, residents elsewhere, unknown
// ids), FORBIDDEN to those who can see it but may not do this (residents of
// it, staff in the wrong role), nil when allowed(c).
func (s *Service) authorize(ctx context.Context, c *access.Caller, communityID string, allowed func(*access.Caller) bool) error {
	if c == nil {
		return apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return err
	}
	sees := c.WorksIn(communityID)
	for _, m := range c.Memberships {
		sees = sees || m.CommunityID == communityID
	}
	if !sees {
		return community.ErrNotFound
	}
	if !allowed(c) {
		return apperr.ErrForbidden
	}
	if c.IsAdmin() { // admins "work in" every id: check it exists
		cs, err := s.communities.ByIDs(ctx, []string{communityID})
		if err != nil {
			return err
		}
		if cs[communityID] == nil {
			return community.ErrNotFound
		}
	}
	return nil
}

func worksIn(id string) func(*access.Caller) bool {
	return func(c *access.Caller) bool { return c.WorksIn(id) }
}

// editsGreetings: supervisors and butlers of the community, and admins.
func editsGreetings(id string) func(*access.Caller) bool {
	return func(c *access.Caller) bool { return c.IsAdmin() || c.StaffIn(id, access.Supervisor, access.Butler) }
}

// settingsDoc is one community's changes to the built-in calendar: every
// festival it changed or added, by key, so an update is one $set of one
// field and needs no read-modify-write.
type settingsDoc struct {
	ID        string                       `bson:"_id"`
	Festivals map[string]festival.Festival `bson:"festivals"`
	UpdatedAt time.Time                    `bson:"updatedAt"`
	UpdatedBy string                       `bson:"updatedBy"`
}

// Settings lists the community's festivals: the built-ins in their order
// with the community's changes, then its custom festivals by key. Staff of
// the community.
func (s *Service) Settings(ctx context.Context, c *access.Caller, communityID string) ([]festival.Festival, error) {
	if err := s.authorize(ctx, c, communityID, worksIn(communityID)); err != nil {
		return nil, err
	}
	return s.festivals(ctx, communityID)
}

// festivals is Settings without the check.
func (s *Service) festivals(ctx context.Context, communityID string) ([]festival.Festival, error) {
	var doc settingsDoc
	err := s.settings.FindOne(ctx, bson.D{{Key: "_id", Value: communityID}}).Decode(&doc)
	if err != nil && !errors.Is(err, mgo.ErrNoDocuments) {
		return nil, fmt.Errorf("festival settings of %s: %w", communityID, err)
	}
	return merge(doc.Festivals), nil
}

func merge(changed map[string]festival.Festival) []festival.Festival {
	out := festival.Builtins()
	for i, f := range out {
		if g, ok := changed[f.Key]; ok {
			out[i] = g
		}
	}
	var custom []festival.Festival
	for k, f := range changed {
		if strings.HasPrefix(k, festival.CustomKeyPrefix) {
			custom = append(custom, f)
		}
	}
	sort.Slice(custom, func(i, j int) bool { return custom[i].Key < custom[j].Key })
	return append(out, custom...)
}

func builtin(key string) (festival.Festival, bool) {
	for _, f := range festival.Builtins() {
		if f.Key == key {
			return f, true
		}
	}
	return festival.Festival{}, false
}

// UpdateFestival changes or adds one festival of the community and returns
// the whole list. For a built-in festival only Enabled, SendTime and the
// greeting texts are taken from f (empty texts keep the current ones); its
// names, date and audience stay those of the built-in. A custom festival
// (key "custom:<slug>") is taken whole. Supervisors and butlers of the
// community, and admins.
func (s *Service) UpdateFestival(ctx context.Context, c *access.Caller, communityID string, f festival.Festival) ([]festival.Festival, error) {
	if err := s.authorize(ctx, c, communityID, editsGreetings(communityID)); err != nil {
		return nil, err
	}
	current, err := s.festivals(ctx, communityID)
	if err != nil {
		return nil, err
	}
	if b, ok := builtin(f.Key); ok {
		for _, cur := range current {
			if cur.Key == f.Key {
				b = cur
			}
		}
		b.Enabled, b.SendTime = f.Enabled, f.SendTime
		if strings.TrimSpace(f.DefaultGreetingZH) != "" {
			b.DefaultGreetingZH = f.DefaultGreetingZH
		}
		if strings.TrimSpace(f.DefaultGreetingEN) != "" {
			b.DefaultGreetingEN = f.DefaultGreetingEN
		}
		f = b
	} else {
		f.NameZH, f.NameEN = strings.TrimSpace(f.NameZH), strings.TrimSpace(f.NameEN)
		if f.Audience == "" {
			f.Audience = festival.AudienceAll
		}
		n := 0
		exists := false
		for _, cur := range current {
			if strings.HasPrefix(cur.Key, festival.CustomKeyPrefix) {
				n++
				exists = exists || cur.Key == f.Key
			}
		}
		if !exists && n >= MaxCustomFestivals {
			return nil, ErrTooManyCustom.WithField("festival.key").WithArgs(MaxCustomFestivals)
		}
	}
	if err := festival.Validate(f); err != nil {
		return nil, badFestival(err)
	}
	_, err = s.settings.UpdateOne(ctx, bson.D{{Key: "_id", Value: communityID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "festivals." + f.Key, Value: f}, {Key: "updatedAt", Value: s.now().UTC()}, {Key: "updatedBy", Value: c.ID},
	}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return nil, fmt.Errorf("update festival settings: %w", err)
	}
	return s.festivals(ctx, communityID)
}

// inputFields maps festival.Validate's field names to the API's.
var inputFields = map[string]string{"defaultGreetingZH": "greetingZH", "defaultGreetingEN": "greetingEN"}

// badFestival turns festival.Validate's "field: reason" into BAD_USER_INPUT
// naming festival.<field>.
func badFestival(err error) error {
	field, reason, ok := strings.Cut(err.Error(), ": ")
	if !ok || strings.ContainsAny(field, " ") {
		return errBadFestival.WithField("festival").WithArgs(err.Error())
	}
	if f, ok := inputFields[field]; ok {
		field = f
	}
	return errBadFestival.WithField("festival." + field).WithArgs(reason)
}

// Calendar lists the community's enabled festivals on their dates in year,
// with the moment each greeting goes out in the community's time zone.
// Staff of the community.
func (s *Service) Calendar(ctx context.Context, c *access.Caller, communityID string, year int) ([]festival.Occurrence, error) {
	if err := s.authorize(ctx, c, communityID, worksIn(communityID)); err != nil {
		return nil, err
	}
	if year < festival.MinYear || year > festival.MaxYear {
		return nil, apperr.Invalid("year", "input.out_of_range", festival.MinYear, festival.MaxYear)
	}
	fs, err := s.festivals(ctx, communityID)
	if err != nil {
		return nil, err
	}
	occ, err := festival.CalendarFor(year, s.zones(communityID), fs)
	if err != nil {
		return nil, err
	}
	if occ == nil {
		occ = []festival.Occurrence{}
	}
	return occ, nil
}

// careFlags are the flags a campaign may target.
var careFlags = []archive.Flag{archive.ElderlyAlone, archive.Newborn, archive.NeedsAttention, archive.Disabled, archive.Hardship, archive.ChronicIllness}

func validFlag(f archive.Flag) bool { return slices.Contains(careFlags, f) }
