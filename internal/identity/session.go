package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// refreshDoc is one refresh token. Only its SHA-256 is stored: the token is
// 256 random bits, so no key or salt is needed to make the hash useless to
// someone reading the database.
type refreshDoc struct {
	ID        string     `bson:"_id"`
	FamilyID  string     `bson:"familyId"`
	Kind      auth.Kind  `bson:"kind"`
	Subject   string     `bson:"subject"`
	ExpiresAt time.Time  `bson:"expiresAt"`
	UsedAt    *time.Time `bson:"usedAt"`
	RevokedAt *time.Time `bson:"revokedAt"`
	CreatedAt time.Time  `bson:"createdAt"`
}

// newSession issues an access token and a refresh token. An empty family
// starts a new one (a login); a refresh continues its family.
func (s *Service) newSession(ctx context.Context, kind auth.Kind, subject, family string) (*Session, error) {
	if family == "" {
		family = mongo.NewID()
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	doc := refreshDoc{
		ID: hashToken(refresh), FamilyID: family, Kind: kind, Subject: subject,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now,
	}
	if _, err := s.db.Collection(colRefresh).InsertOne(ctx, doc); err != nil {
		return nil, err
	}
	access, accessExp, err := s.tokens.Issue(kind, subject, family)
	if err != nil {
		return nil, err
	}
	return &Session{
		Kind: kind, SubjectID: subject,
		AccessToken: access, AccessTokenExpiresAt: accessExp,
		RefreshToken: refresh, RefreshTokenExpiresAt: doc.ExpiresAt,
		FamilyID: family,
	}, nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Refresh rotates a refresh token: the presented one is spent and a new one
// in the same family is returned. A refresh token presented a second time
// means two parties hold it, one of them a thief, and we cannot tell which,
// so the whole family is revoked and both must sign in again.
func (s *Service) Refresh(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrRefreshInvalid
	}
	id := hashToken(token)
	now := s.now()
	c := s.db.Collection(colRefresh)
	var doc refreshDoc
	err := c.FindOneAndUpdate(ctx,
		bson.M{"_id": id, "usedAt": nil, "revokedAt": nil, "expiresAt": bson.M{"$gt": now}},
		bson.M{"$set": bson.M{"usedAt": now}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, s.refreshRefused(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	// On FerretDB two racing refreshes can both pass the guard above; the
	// unique claim lets one through and treats the other as the reuse it is.
	won, err := s.claim(ctx, "refresh:"+id+":spent", doc.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !won {
		if err := s.Logout(ctx, doc.FamilyID); err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "identity: refresh token spent twice concurrently; session family revoked", "family", doc.FamilyID)
		return nil, ErrRefreshReused
	}
	sess, err := s.newSession(ctx, doc.Kind, doc.Subject, doc.FamilyID)
	if err != nil {
		return nil, err
	}
	// A logout may have revoked the family between our two writes and missed
	// the token just inserted; checking after the insert closes that gap.
	active, err := s.SessionActive(ctx, doc.FamilyID)
	if err != nil {
		return nil, err
	}
	if !active {
		if err := s.Logout(ctx, doc.FamilyID); err != nil {
			return nil, err
		}
		return nil, ErrRefreshInvalid
	}
	return sess, nil
}

// refreshRefused explains why a token could not be spent, revoking its family
// when the reason is reuse.
func (s *Service) refreshRefused(ctx context.Context, id string) error {
	var doc refreshDoc
	err := s.db.Collection(colRefresh).FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return ErrRefreshInvalid
	}
	if err != nil {
		return err
	}
	if doc.RevokedAt != nil || doc.UsedAt == nil {
		// Already revoked, or simply expired.
		return ErrRefreshInvalid
	}
	if err := s.Logout(ctx, doc.FamilyID); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "identity: refresh token reused; session family revoked",
		"family", doc.FamilyID, "kind", doc.Kind, "subject", doc.Subject)
	return ErrRefreshReused
}

// Logout revokes every refresh token of a session family. Access tokens
// already issued stay valid until they expire unless the request path asks
// SessionActive.
func (s *Service) Logout(ctx context.Context, familyID string) error {
	if familyID == "" {
		return nil
	}
	_, err := s.db.Collection(colRefresh).UpdateMany(ctx,
		bson.M{"familyId": familyID, "revokedAt": nil},
		bson.M{"$set": bson.M{"revokedAt": s.now()}})
	return err
}

// SessionActive reports whether a family has not been revoked. Revocation
// marks every token of the family, so one indexed lookup for any revoked
// token answers it; a family whose tokens were swept after expiry counts as
// active, which is harmless because its access tokens expired long before.
func (s *Service) SessionActive(ctx context.Context, familyID string) (bool, error) {
	err := s.db.Collection(colRefresh).FindOne(ctx,
		bson.M{"familyId": familyID, "revokedAt": bson.M{"$ne": nil}},
		options.FindOne().SetProjection(bson.M{"_id": 1}),
	).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return true, nil
	}
	return false, err
}
