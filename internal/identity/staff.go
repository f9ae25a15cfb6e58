package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

// BcryptCost is the work factor of new password hashes. Tests lower it to
// bcrypt.MinCost; production keeps 10 (about 50-100 ms per check).
var BcryptCost = 10

const (
	minPasswordLen = 8
	maxPasswordLen = 72 // bcrypt ignores bytes beyond 72
)

// HashPassword hashes a password for storage by the staff package.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword enforces the password policy for a new password. It is
// deliberately modest: length matters more than character classes, and a
// policy staff cannot remember ends up on a sticky note.
func CheckPassword(field, pw string) error {
	if n := utf8.RuneCountInString(pw); n < minPasswordLen || len(pw) > maxPasswordLen {
		return apperr.Invalid(field, "identity.password_length", minPasswordLen, maxPasswordLen)
	}
	var letter, digit bool
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsLetter(r):
			letter = true
		}
	}
	if !letter || !digit {
		return apperr.Invalid(field, "identity.password_weak")
	}
	return nil
}

var (
	dummyMu   sync.Mutex
	dummyCost int
	dummyVal  []byte
)

// mustDummyHash returns a hash of a random password at the current
// BcryptCost, computed once per cost so tests that lower the cost stay fast.
func mustDummyHash() []byte {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if dummyVal == nil || dummyCost != BcryptCost {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(b)), BcryptCost)
		if err != nil {
			panic("identity: dummy bcrypt hash: " + err.Error())
		}
		dummyVal, dummyCost = h, BcryptCost
	}
	return dummyVal
}

type failureDoc struct {
	ID            string     `bson:"_id"`
	Count         int        `bson:"count"`
	LockedUntil   *time.Time `bson:"lockedUntil"`
	LastFailureAt time.Time  `bson:"lastFailureAt"`
}

// StaffLogin checks a staff account and password. Unknown accounts, disabled
// accounts and wrong passwords are indistinguishable to the caller, and all
// of them count toward the account's lockout.
func (s *Service) StaffLogin(ctx context.Context, account, password, clientIP string) (*Session, error) {
	account = strings.TrimSpace(account)
	if account == "" || password == "" || len(account) > 128 {
		return nil, ErrBadCredentials
	}
	// Lock on the case-folded account so "Wang" and "wang" share one counter
	// whatever the staff package's matching rules are.
	key := "staff:" + strings.ToLower(account)
	failures := s.db.Collection(colFailures)

	var f failureDoc
	err := failures.FindOne(ctx, bson.M{"_id": key}).Decode(&f)
	if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, err
	}
	now := s.now()
	if f.LockedUntil != nil && now.Before(*f.LockedUntil) {
		return nil, ErrLocked
	}

	id, hash, found, err := s.staff.StaffCredentials(ctx, account)
	if err != nil {
		return nil, err
	}
	if !found {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
	} else if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
		if f.Count > 0 || f.LockedUntil != nil {
			if _, err := failures.DeleteOne(ctx, bson.M{"_id": key}); err != nil {
				return nil, err
			}
		}
		return s.newSession(ctx, auth.KindStaff, id, "")
	}
	if err := s.recordFailure(ctx, key); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "identity: staff login failed", "account", account, "ip", clientIP, "known", found)
	return nil, ErrBadCredentials
}

// recordFailure counts one failure and locks the account when the count
// reaches the limit. The count restarts after a lock so that each lock needs
// a fresh run of failures rather than one more guess.
func (s *Service) recordFailure(ctx context.Context, key string) error {
	now := s.now()
	c := s.db.Collection(colFailures)
	var f failureDoc
	err := upsertInc(ctx, c, key, bson.M{
		"$inc": bson.M{"count": 1},
		"$set": bson.M{"lastFailureAt": now},
	}, &f)
	if err != nil {
		return err
	}
	if f.Count < s.cfg.MaxLoginFailures {
		return nil
	}
	until := now.Add(s.cfg.LockoutDuration)
	_, err = c.UpdateOne(ctx, bson.M{"_id": key}, bson.M{"$set": bson.M{"lockedUntil": until, "count": 0}})
	if err == nil {
		s.log.WarnContext(ctx, "identity: staff account locked", "key", key, "until", until)
	}
	return err
}
