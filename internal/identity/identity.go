// Package identity signs people in: staff with account and password, owners
// and their families with an SMS code, mini-program users with WeChat. Every
// login ends in a Session: a short-lived access token plus a rotating refresh
// token whose family can be revoked as a whole (logout, theft detection).
//
// The rules that resist abuse live here so every entry point shares them:
// growing delays after repeated password failures (never a lock-out of the
// real user, see StaffLogin), rolling-window limits on code requests per
// phone, per client and per phone and client, bounded attempts per code, and
// answers that do not reveal whether an account or phone number exists.
package identity

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/ratelimit"
	"qinqing/internal/platform/sms"
	"qinqing/internal/platform/wechat"
)

// StaffCredentials is implemented by the staff package, which owns staff
// records; identity only needs to check a password.
type StaffCredentials interface {
	// StaffCredentials returns the staff id and bcrypt hash for an account; found=false if no such account or it is disabled.
	StaffCredentials(ctx context.Context, account string) (id, passwordHash string, found bool, err error)
}

// PhoneDirectory is implemented by the package that owns residents.
type PhoneDirectory interface {
	// PersonByPhone returns the id of the resident with this normalized phone.
	PersonByPhone(ctx context.Context, phone string) (personID string, found bool, err error)
	// InvitedPhone reports an open household invitation for a phone nobody
	// holds yet: its holder may sign in to answer it.
	InvitedPhone(ctx context.Context, phone string) (bool, error)
	// ClaimInvitedPhone creates the person of an invited phone once its
	// holder has proved they hold it (or returns the existing holder).
	ClaimInvitedPhone(ctx context.Context, phone string) (personID string, found bool, err error)
}

// Config holds the tunable limits. Zero fields are not defaults: start from
// DefaultConfig and override.
type Config struct {
	// CodeSecret keys the HMAC under which SMS codes are stored, so a database
	// dump does not reveal live codes (6 digits are trivially brute-forced
	// from a plain hash). All server processes must share it.
	CodeSecret []byte
	RefreshTTL time.Duration

	CodeTTL         time.Duration
	CodeMaxAttempts int

	// Code requests per phone: stops someone flooding a victim with texts.
	PhoneMinuteLimit, PhoneDayLimit int
	// Code requests per client IP: stops one client from walking through many
	// phones. Looser than per phone because many homes share a NAT address.
	IPHourLimit, IPDayLimit int
	// Code requests per phone from one client IP a day: smaller than
	// PhoneDayLimit, so one client cannot burn a resident's daily allowance.
	PhoneIPDayLimit int

	Login LoginPolicy

	// RefreshReuseGrace is how long a spent refresh token presented again
	// gets the same successor back (a double submit) instead of revoking
	// its family as theft.
	RefreshReuseGrace time.Duration

	BindTicketTTL time.Duration
}

// DefaultConfig is the production policy, except CodeSecret which must come
// from the environment.
func DefaultConfig() Config {
	return Config{
		RefreshTTL:       30 * 24 * time.Hour,
		CodeTTL:          5 * time.Minute,
		CodeMaxAttempts:  5,
		PhoneMinuteLimit: 1,
		PhoneDayLimit:    10,
		IPHourLimit:      20,
		IPDayLimit:       100,
		PhoneIPDayLimit:  3,
		Login:            DefaultLoginPolicy(),
		BindTicketTTL:    10 * time.Minute,

		RefreshReuseGrace: 30 * time.Second,
	}
}

// Session is the result of every successful login or refresh.
type Session struct {
	Kind                  auth.Kind
	SubjectID             string
	AccessToken           string
	AccessTokenExpiresAt  time.Time
	RefreshToken          string
	RefreshTokenExpiresAt time.Time
	// FamilyID names the chain of refresh tokens started by one login; it is
	// the access token's session id, so logout can revoke it.
	FamilyID string
}

// Service is the identity domain.
type Service struct {
	db     *mongo.DB
	cfg    Config
	tokens *auth.Tokens
	sms    sms.Sender
	wx     *wechat.Client
	staff  StaffCredentials
	people PhoneDirectory
	now    func() time.Time
	log    *slog.Logger
	limits *ratelimit.Limiter
	bus    Publisher
	alerts Alerter

	// dummyHash is compared against when an account does not exist, so an
	// unknown account costs the same bcrypt time as a wrong password.
	dummyHash []byte
}

// Publisher puts control events on the event spine (events.Bus), so every
// server process closes the connections of a session that ended.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Alerter tells the people responsible for a staff account that someone is
// guessing its password. The notification engine implements it (identity
// cannot import it: notify depends on staff, which depends on identity).
type Alerter interface {
	StaffLoginAlert(ctx context.Context, a LoginAlert) error
}

// LoginAlert is one alert about a staff account under attack.
type LoginAlert struct {
	StaffID  string
	Account  string
	Failures int           // failed sign-ins within Window, from all clients
	Window   time.Duration // the policy's AlertWindow
	At       time.Time
}

// UseAlerts sets where alerts about attacked staff accounts go; without it
// they are only logged.
func (s *Service) UseAlerts(a Alerter) { s.alerts = a }

// NewService wires the identity service. bus, now and log may be nil (no
// control events are published without a bus).
func NewService(db *mongo.DB, cfg Config, tokens *auth.Tokens, sender sms.Sender, wx *wechat.Client,
	staff StaffCredentials, people PhoneDirectory, bus Publisher, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if len(cfg.CodeSecret) == 0 {
		// Codes then survive only in this process; acceptable for development,
		// wrong with several servers, hence the warning.
		cfg.CodeSecret = make([]byte, 32)
		_, _ = rand.Read(cfg.CodeSecret)
		log.Warn("identity: no SMS code secret configured; using a random per-process secret")
	}
	s := &Service{db: db, cfg: cfg, tokens: tokens, sms: sender, wx: wx, staff: staff,
		people: people, now: now, log: log, bus: bus, limits: ratelimit.New(db, now)}
	s.dummyHash = mustDummyHash()
	return s
}

const (
	colCodes    = "login_codes"
	colRefresh  = "refresh_tokens"
	colBindings = "wechat_bindings"
	colClaims   = "login_claims"
)

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: colRefresh, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "familyId", Value: 1}}},
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
			// RevokeSubject ends every session of one staff member or person.
			{Keys: bson.D{{Key: "subject", Value: 1}, {Key: "revokedAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colClaims, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colCodes, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colBindings, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "personId", Value: 1}}},
		}},
	)
}

// SweepExpired deletes what can no longer be used. Expiry is always checked
// on read, so this only keeps the collections small; run it from a job.
func (s *Service) SweepExpired(ctx context.Context) error {
	now := s.now()
	for _, c := range []string{colClaims, colCodes, colRefresh} {
		if _, err := s.db.Collection(c).DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lt": now}}); err != nil {
			return err
		}
	}
	return s.limits.Sweep(ctx)
}
