// Package identity signs people in: staff with account and password, owners
// and their families with an SMS code, mini-program users with WeChat. Every
// login ends in a Session: a short-lived access token plus a rotating refresh
// token whose family can be revoked as a whole (logout, theft detection).
//
// The rules that resist abuse live here so every entry point shares them:
// lockout after repeated password failures, rate limits on code requests per
// phone and per client IP, bounded attempts per code, and answers that do not
// reveal whether an account or phone number exists.
package identity

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
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

	MaxLoginFailures int
	LockoutDuration  time.Duration

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
		MaxLoginFailures: 5,
		LockoutDuration:  15 * time.Minute,
		BindTicketTTL:    10 * time.Minute,
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

	// dummyHash is compared against when an account does not exist, so an
	// unknown account costs the same bcrypt time as a wrong password.
	dummyHash []byte
}

// NewService wires the identity service. now and log may be nil.
func NewService(db *mongo.DB, cfg Config, tokens *auth.Tokens, sender sms.Sender, wx *wechat.Client,
	staff StaffCredentials, people PhoneDirectory, now func() time.Time, log *slog.Logger) *Service {
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
		people: people, now: now, log: log}
	s.dummyHash = mustDummyHash()
	return s
}

const (
	colFailures = "login_failures"
	colCounters = "rate_counters"
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
		}},
		mongo.Indexes{Collection: colCounters, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colClaims, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colCodes, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colFailures, Models: []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "lastFailureAt", Value: 1}}},
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
	for _, c := range []string{colCounters, colClaims, colCodes, colRefresh} {
		if _, err := s.db.Collection(c).DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lt": now}}); err != nil {
			return err
		}
	}
	// Failure counts are kept until a success so that slow guessing still
	// adds up, but a day of silence forgives them.
	_, err := s.db.Collection(colFailures).DeleteMany(ctx, bson.M{
		"lastFailureAt": bson.M{"$lt": now.Add(-24 * time.Hour)},
		"$or":           bson.A{bson.M{"lockedUntil": nil}, bson.M{"lockedUntil": bson.M{"$lt": now}}},
	})
	return err
}

// upsertInc atomically increments field in the document _id=id (creating it)
// and returns the document after the change.
func upsertInc(ctx context.Context, c *mongodrv.Collection, id string, update bson.M, out any) error {
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	err := c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, opts).Decode(out)
	if mongo.IsDuplicate(err) {
		// Two concurrent upserts of a new _id: one inserted, the other lost
		// the race; now the document exists and a retry is a plain update.
		err = c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, opts).Decode(out)
	}
	return err
}
