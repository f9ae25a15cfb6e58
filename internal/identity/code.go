package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/ratelimit"
	"qinqing/internal/platform/validate"
)

// CodeRequested tells the app when it may ask again and how long the code lives.
type CodeRequested struct {
	RetryAfterSeconds int
	ExpiresInSeconds  int
}

// codeDoc is the one live code of a phone; a new request replaces it.
type codeDoc struct {
	ID        string     `bson:"_id"`   // normalized phone
	Nonce     string     `bson:"nonce"` // names this code's claims; a new code gets fresh ones
	Hash      string     `bson:"hash"`
	Attempts  int        `bson:"attempts"`
	ExpiresAt time.Time  `bson:"expiresAt"`
	CreatedAt time.Time  `bson:"createdAt"`
	UsedAt    *time.Time `bson:"usedAt"`
}

// RequestLoginCode texts a login code to a resident's phone. Unknown phones
// get the same answer and spend the same rate limits, and a code is kept for
// them that nobody is sent, so neither this endpoint nor the answers to
// tries at a code can be used to find out who lives here.
func (s *Service) RequestLoginCode(ctx context.Context, phone, clientIP string) (CodeRequested, error) {
	phone, err := validate.Phone("phone", phone)
	if err != nil {
		return CodeRequested{}, err
	}
	ipPhone := "code:phone-ip:" + phone + "|" + clientIP
	wait, err := s.limits.Allow(ctx,
		// The client's own limits come first so one client walking through
		// many numbers is stopped before it spends those numbers' budgets,
		// and a client hammering one number stops before it spends the
		// number's daily budget: what it may use is fewer than the phone's
		// daily codes, so the resident always has some left.
		ratelimit.Rule{Key: "code:ip:" + clientIP + ":h", Window: time.Hour, Max: s.cfg.IPHourLimit},
		ratelimit.Rule{Key: "code:ip:" + clientIP + ":d", Window: 24 * time.Hour, Max: s.cfg.IPDayLimit},
		ratelimit.Rule{Key: ipPhone, Window: 24 * time.Hour, Max: s.cfg.PhoneIPDayLimit},
		ratelimit.Rule{Key: "code:phone:" + phone + ":m", Window: time.Minute, Max: s.cfg.PhoneMinuteLimit},
		ratelimit.Rule{Key: "code:phone:" + phone + ":d", Window: 24 * time.Hour, Max: s.cfg.PhoneDayLimit},
	)
	if err != nil {
		return CodeRequested{}, err
	}
	if wait > 0 {
		return CodeRequested{}, ErrTooManyCodes.WithRetryAfter(wait)
	}
	answer := CodeRequested{
		RetryAfterSeconds: retryAfter(s.cfg.PhoneMinuteLimit),
		ExpiresInSeconds:  int(s.cfg.CodeTTL / time.Second),
	}

	_, found, err := s.people.PersonByPhone(ctx, phone)
	if err == nil && !found {
		// A phone invited to a household may sign in to answer the invitation.
		found, err = s.people.InvitedPhone(ctx, phone)
	}
	if err != nil {
		return CodeRequested{}, err
	}
	code, err := randomCode()
	if err != nil {
		return CodeRequested{}, err
	}
	if !found {
		// A code nobody is sent: tries against it expire and run out
		// exactly as for a resident's phone, so their answers (CODE_EXPIRED,
		// CODE_ATTEMPTS_EXHAUSTED) cannot tell who lives here.
		s.log.InfoContext(ctx, "identity: login code requested for unknown phone", "phone", maskPhone(phone), "ip", clientIP)
	}
	now := s.now()
	doc := codeDoc{ID: phone, Nonce: mongo.NewID(), Hash: s.codeHash(phone, code), ExpiresAt: now.Add(s.cfg.CodeTTL), CreatedAt: now}
	// Replacing resets the attempt count; that is safe because new codes are
	// themselves rate limited (at most PhoneDayLimit*CodeMaxAttempts guesses a day).
	replace := func() error {
		_, err := s.db.Collection(colCodes).ReplaceOne(ctx, bson.M{"_id": phone}, doc, options.Replace().SetUpsert(true))
		return err
	}
	err = replace()
	if mongo.IsDuplicate(err) {
		// A racing request inserted first; now it is a plain replace.
		err = replace()
	}
	if err != nil {
		return CodeRequested{}, err
	}
	if !found {
		return answer, nil
	}
	text := fmt.Sprintf("【亲情物业】您的登录验证码是 %s，%d分钟内有效。如非本人操作请忽略。", code, int(s.cfg.CodeTTL/time.Minute))
	if err := s.sms.Send(ctx, phone, text); err != nil {
		s.log.ErrorContext(ctx, "identity: sending login code failed", "phone", maskPhone(phone), "err", err)
		return CodeRequested{}, ErrSMSUnavailable
	}
	return answer, nil
}

func retryAfter(perMinute int) int {
	if perMinute <= 0 {
		return 60
	}
	return (60 + perMinute - 1) / perMinute
}

// LoginWithCode signs a resident in with the code texted to their phone.
func (s *Service) LoginWithCode(ctx context.Context, phone, code, clientIP string) (*Session, error) {
	phone, err := validate.Phone("phone", phone)
	if err != nil {
		return nil, err
	}
	personID, err := s.verifyCodeAndFindPerson(ctx, phone, code, clientIP)
	if err != nil {
		return nil, err
	}
	return s.newSession(ctx, auth.KindPerson, personID, "")
}

// verifyCodeAndFindPerson consumes the code and returns the phone's resident.
// The resident is looked up again rather than remembered with the code, so
// someone removed from their household in the meantime cannot sign in.
func (s *Service) verifyCodeAndFindPerson(ctx context.Context, phone, code, clientIP string) (string, error) {
	if err := s.consumeCode(ctx, phone, code); err != nil {
		if errors.Is(err, ErrBadCode) {
			s.log.InfoContext(ctx, "identity: wrong login code", "phone", maskPhone(phone), "ip", clientIP)
		}
		return "", err
	}
	// An invited phone nobody holds yet becomes its person here, now that
	// the caller has proved they hold it.
	personID, found, err := s.people.ClaimInvitedPhone(ctx, phone)
	if err != nil {
		return "", err
	}
	if !found {
		// The caller has just proved they hold the phone, so saying so is safe.
		return "", ErrPhoneNotRegistered
	}
	return personID, nil
}

// consumeCode spends one attempt on the phone's live code and, if the code
// matches, marks it used. Attempts and use are claimed with unique keys, so
// concurrent guesses can neither exceed the attempt limit nor use one code
// twice, on MongoDB and FerretDB alike.
func (s *Service) consumeCode(ctx context.Context, phone, code string) error {
	if len(code) != 6 {
		return ErrBadCode
	}
	now := s.now()
	codes := s.db.Collection(colCodes)
	var doc codeDoc
	err := codes.FindOneAndUpdate(ctx,
		bson.M{
			"_id":       phone,
			"usedAt":    nil,
			"expiresAt": bson.M{"$gt": now},
			"attempts":  bson.M{"$lt": s.cfg.CodeMaxAttempts},
		},
		bson.M{"$inc": bson.M{"attempts": 1}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return s.whyNoCode(ctx, phone, now)
	}
	if err != nil {
		return err
	}
	// The counter is only a hint where the server is FerretDB; holding one
	// of the CodeMaxAttempts slots is what entitles this request to a guess.
	prefix := "code:" + doc.Nonce
	if ok, err := s.claimSlot(ctx, prefix+":try", doc.Attempts, s.cfg.CodeMaxAttempts, doc.ExpiresAt); err != nil || !ok {
		return or(err, ErrCodeExhausted)
	}
	want := s.codeHash(phone, code)
	if !hmac.Equal([]byte(want), []byte(doc.Hash)) {
		if doc.Attempts >= s.cfg.CodeMaxAttempts {
			return ErrCodeExhausted // that was the last try: say so now
		}
		return ErrBadCode
	}
	if ok, err := s.claim(ctx, prefix+":used", doc.ExpiresAt); err != nil || !ok {
		return or(err, ErrCodeExpired)
	}
	// usedAt lets the guard above turn later tries away without claims.
	_, err = codes.UpdateOne(ctx, bson.M{"_id": phone, "nonce": doc.Nonce}, bson.M{"$set": bson.M{"usedAt": now}})
	return err
}

func or(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// whyNoCode tells a phone's code that can no longer be tried: expired or
// used (or never requested), or out of tries. Only failed logins pay for
// this second read.
func (s *Service) whyNoCode(ctx context.Context, phone string, now time.Time) error {
	var doc codeDoc
	err := s.db.Collection(colCodes).FindOne(ctx, bson.M{"_id": phone}).Decode(&doc)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return ErrCodeExpired
	case err != nil:
		return err
	case doc.UsedAt == nil && doc.ExpiresAt.After(now) && doc.Attempts >= s.cfg.CodeMaxAttempts:
		return ErrCodeExhausted
	case doc.UsedAt == nil && doc.ExpiresAt.After(now):
		return ErrBadCode // changed between the two reads: a lost race
	}
	return ErrCodeExpired
}

// codeHash keys the hash with a server secret: a plain hash of six digits
// would be reversed by trying all million of them.
func (s *Service) codeHash(phone, code string) string {
	m := hmac.New(sha256.New, s.cfg.CodeSecret)
	m.Write([]byte(phone))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

func randomCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// maskPhone keeps logs useful for support without storing whole numbers.
func maskPhone(p string) string {
	if len(p) != 11 {
		return "***"
	}
	return p[:3] + "****" + p[7:]
}
