package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
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
	"qinqing/internal/platform/events"
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

	// A spent token remembers its successor for RefreshReuseGrace, so a
	// double submit (a retry after a lost response, two tabs) gets the same
	// pair instead of ending the session. The successor is sealed with a key
	// derived from the server secret: the database never holds a usable
	// refresh token in plaintext.
	Next          []byte     `bson:"next,omitempty"`
	NextExpiresAt *time.Time `bson:"nextExpiresAt,omitempty"`
	GraceUntil    *time.Time `bson:"graceUntil,omitempty"`
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
// in the same family is returned. The same token presented again within
// RefreshReuseGrace of being spent gets the same successor (a benign double
// submit). Presented again later, it means two parties hold it, one of them
// a thief, and we cannot tell which, so the whole family is revoked and both
// must sign in again.
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
		return s.refreshAgain(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	// On FerretDB two racing refreshes can both pass the guard above; the
	// unique claim lets one through, and the other is a double submit that
	// waits for the winner's successor.
	won, err := s.claim(ctx, "refresh:"+id+":spent", doc.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !won {
		return s.refreshAgain(ctx, id)
	}
	sess, err := s.newSession(ctx, doc.Kind, doc.Subject, doc.FamilyID)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealSuccessor(id, sess.RefreshToken)
	if err != nil {
		return nil, err
	}
	grace := now.Add(s.cfg.RefreshReuseGrace)
	if _, err := c.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"next": sealed, "nextExpiresAt": sess.RefreshTokenExpiresAt, "graceUntil": grace,
	}}); err != nil {
		return nil, err
	}
	// A logout may have revoked the family between our two writes and missed
	// the token just inserted; checking after the insert closes that gap.
	active, err := s.SessionActive(ctx, doc.FamilyID)
	if err != nil {
		return nil, err
	}
	if !active {
		if err := s.revokeFamily(ctx, doc.FamilyID, doc.Subject, "revoked during refresh"); err != nil {
			return nil, err
		}
		return nil, ErrRefreshInvalid
	}
	return sess, nil
}

// successorWait bounds how long a concurrent double submit waits for the
// winning request to store the successor.
const successorWait = 3 * time.Second

// refreshAgain answers a token that could not be spent: expired or revoked
// is invalid; spent within the grace window gets the spent token's
// successor; spent before that is reuse and revokes the family.
func (s *Service) refreshAgain(ctx context.Context, id string) (*Session, error) {
	wait := time.NewTimer(successorWait)
	defer wait.Stop()
	for {
		var doc refreshDoc
		err := s.db.Collection(colRefresh).FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			return nil, ErrRefreshInvalid
		}
		if err != nil {
			return nil, err
		}
		if doc.RevokedAt != nil || doc.UsedAt == nil {
			// Already revoked, or simply expired.
			return nil, ErrRefreshInvalid
		}
		graceUntil := doc.UsedAt.Add(s.cfg.RefreshReuseGrace)
		if doc.GraceUntil != nil {
			graceUntil = *doc.GraceUntil
		}
		if !s.now().Before(graceUntil) {
			if err := s.revokeFamily(ctx, doc.FamilyID, doc.Subject, "refresh token reused"); err != nil {
				return nil, err
			}
			s.log.WarnContext(ctx, "identity: refresh token reused; session family revoked",
				"family", doc.FamilyID, "kind", doc.Kind, "subject", doc.Subject)
			return nil, ErrRefreshReused
		}
		if doc.Next != nil {
			return s.replaySuccessor(ctx, &doc)
		}
		// The winning request is still minting the successor.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait.C:
			// It died on the way: nothing to hand out, nothing stolen either.
			return nil, ErrRefreshInvalid
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// replaySuccessor hands a double submit the pair the first submit got: the
// same refresh token and a fresh access token of the same family.
func (s *Service) replaySuccessor(ctx context.Context, spent *refreshDoc) (*Session, error) {
	raw, err := s.openSuccessor(spent.ID, spent.Next)
	if err != nil {
		s.log.ErrorContext(ctx, "identity: sealed refresh successor unreadable", "family", spent.FamilyID, "err", err)
		return nil, ErrRefreshInvalid
	}
	var next refreshDoc
	err = s.db.Collection(colRefresh).FindOne(ctx, bson.M{"_id": hashToken(raw)}).Decode(&next)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, ErrRefreshInvalid
	}
	if err != nil {
		return nil, err
	}
	if next.UsedAt != nil {
		// The successor has moved on already: whoever still sends its
		// predecessor is not the client that double-submitted.
		if err := s.revokeFamily(ctx, spent.FamilyID, spent.Subject, "refresh token reused after rotation"); err != nil {
			return nil, err
		}
		return nil, ErrRefreshReused
	}
	if active, err := s.SessionActive(ctx, spent.FamilyID); err != nil || !active {
		return nil, orErr(err, ErrRefreshInvalid)
	}
	access, accessExp, err := s.tokens.Issue(next.Kind, next.Subject, next.FamilyID)
	if err != nil {
		return nil, err
	}
	return &Session{
		Kind: next.Kind, SubjectID: next.Subject,
		AccessToken: access, AccessTokenExpiresAt: accessExp,
		RefreshToken: raw, RefreshTokenExpiresAt: next.ExpiresAt,
		FamilyID: next.FamilyID,
	}, nil
}

// successorAEAD seals successors under a key derived from the code secret
// (shared by every server process), bound to the spent token's id so a
// sealed value cannot be moved to another document.
func (s *Service) successorAEAD() (cipher.AEAD, error) {
	m := hmac.New(sha256.New, s.cfg.CodeSecret)
	m.Write([]byte("qinqing refresh successor v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (s *Service) sealSuccessor(spentID, raw string) ([]byte, error) {
	aead, err := s.successorAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(raw), []byte(spentID)), nil
}

func (s *Service) openSuccessor(spentID string, sealed []byte) (string, error) {
	aead, err := s.successorAEAD()
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed successor too short")
	}
	n := aead.NonceSize()
	raw, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(spentID))
	return string(raw), err
}

// Logout revokes every refresh token of a session family and tells every
// server process (TypeSessionRevoked), so open websockets of the session
// close too. Access tokens stop working at once because the request path
// asks SessionActive.
func (s *Service) Logout(ctx context.Context, familyID string) error {
	if familyID == "" {
		return nil
	}
	var doc refreshDoc
	err := s.db.Collection(colRefresh).FindOne(ctx, bson.M{"familyId": familyID},
		options.FindOne().SetProjection(bson.M{"subject": 1})).Decode(&doc)
	if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
		return err
	}
	return s.revokeFamily(ctx, familyID, doc.Subject, "logout")
}

// revokeFamily marks every token of a family revoked and publishes it.
func (s *Service) revokeFamily(ctx context.Context, familyID, subject, reason string) error {
	_, err := s.db.Collection(colRefresh).UpdateMany(ctx,
		bson.M{"familyId": familyID, "revokedAt": nil},
		bson.M{"$set": bson.M{"revokedAt": s.now()}})
	if err != nil {
		return err
	}
	return s.publish(ctx, events.Event{Type: events.TypeSessionRevoked, SubjectID: familyID, ActorID: subject,
		Data: map[string]any{"reason": reason}})
}

// RevokeSubject ends every session of one staff member or person (a staff
// member deactivated): every refresh token is revoked, so SessionActive
// refuses each of their access tokens at the next request, and
// TypeSubjectRevoked tells every server process to close their connections.
func (s *Service) RevokeSubject(ctx context.Context, subjectID string) error {
	if subjectID == "" {
		return nil
	}
	at := s.now().UTC().Truncate(time.Millisecond) // as stored, so it can be found again
	if _, err := s.db.Collection(colRefresh).UpdateMany(ctx,
		bson.M{"subject": subjectID, "revokedAt": nil},
		bson.M{"$set": bson.M{"revokedAt": at}}); err != nil {
		return err
	}
	// The event names the sessions this call ended, so a server that hears
	// it late does not close a session begun after it (the user signed in
	// again). Those are the tokens stamped with this revocation's time.
	cur, err := s.db.Collection(colRefresh).Find(ctx, bson.M{"subject": subjectID, "revokedAt": at},
		options.Find().SetProjection(bson.M{"familyId": 1}))
	if err != nil {
		return err
	}
	var docs []struct {
		FamilyID string `bson:"familyId"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	families := make([]string, 0, len(docs))
	seen := map[string]bool{}
	for _, d := range docs {
		if !seen[d.FamilyID] {
			seen[d.FamilyID] = true
			families = append(families, d.FamilyID)
		}
	}
	return s.publish(ctx, events.Event{Type: events.TypeSubjectRevoked, SubjectID: subjectID, Data: map[string]any{"families": families}})
}

func (s *Service) publish(ctx context.Context, e events.Event) error {
	if s.bus == nil {
		return nil
	}
	// The revocation is written; the news must go out even if the client
	// has gone away meanwhile.
	return s.bus.Publish(context.WithoutCancel(ctx), e)
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
