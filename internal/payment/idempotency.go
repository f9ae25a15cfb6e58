package payment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// A counter PC that timed out sends recordPayment again with the same
// idempotency key. The key is claimed by inserting a document whose _id is
// the community and the key: the unique _id makes the claim atomic on
// MongoDB and FerretDB alike, also for two requests on two servers at once
// (a unique index on the payments would not do: without partial indexes,
// every payment without a key would collide). The claim names the payment
// id before the payment exists, so whichever request comes second, or a
// retry after a crash between the two inserts, writes or finds that same
// payment: one payment, one receipt number.

// colPaymentKeys holds the claimed keys: _id "<community>:<key>",
// paymentId, the request's fingerprint, at.
const colPaymentKeys = "payment_keys"

// ErrKeyReused is the same key sent with another request.
var ErrKeyReused = apperr.New(apperr.Conflict, "payment.key_reused")

func init() {
	apperr.Register(map[string]apperr.Text{
		"payment.key_reused": {ZH: "幂等键 input.idempotencyKey 已用于另一笔内容不同的收款；新的收款请使用新的键",
			EN: "input.idempotencyKey was already used for a different payment; use a new key for a new payment"},
		"payment.bad_key": {ZH: "须为 1 到 64 个字母、数字或 - _ : .", EN: "must be 1 to 64 letters, digits or - _ : ."},
	})
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

type paymentKey struct {
	ID          string    `bson:"_id"`
	PaymentID   string    `bson:"paymentId"`
	Fingerprint string    `bson:"fingerprint"`
	At          time.Time `bson:"at"`
}

func checkKey(key string) error {
	if key != "" && !keyPattern.MatchString(key) {
		return apperr.Invalid("input.idempotencyKey", "payment.bad_key")
	}
	return nil
}

// fingerprint is what makes two requests the same payment.
func (in RecordInput) fingerprint() string {
	paid := ""
	if in.PaidAt != nil {
		paid = in.PaidAt.UTC().Format(time.RFC3339Nano)
	}
	return strings.Join([]string{in.HouseholdID, string(in.Method), strconv.FormatInt(in.Amount, 10),
		strings.Join(in.BillIDs, ","), strings.TrimSpace(in.Reference), paid}, "|")
}

// claimKey claims in's key for a new payment id in community, or returns
// the payment id the key was claimed for by the same request before
// (existing = true). The same key with another request is ErrKeyReused.
func (s *Service) claimKey(ctx context.Context, community string, in RecordInput) (id string, existing bool, err error) {
	k := paymentKey{ID: community + ":" + in.IdempotencyKey, PaymentID: mongo.NewID(), Fingerprint: in.fingerprint(), At: s.cfg.Now().UTC()}
	col := s.db().Collection(colPaymentKeys)
	_, err = col.InsertOne(ctx, k)
	if err == nil {
		return k.PaymentID, false, nil
	}
	if !mongo.IsDuplicate(err) {
		return "", false, fmt.Errorf("claim payment key: %w", err)
	}
	got, err := mongo.FindByID[paymentKey](ctx, col, k.ID, ErrNotFound)
	if err != nil {
		return "", false, fmt.Errorf("payment key: %w", err)
	}
	if got.Fingerprint != k.Fingerprint {
		return "", false, ErrKeyReused
	}
	return got.PaymentID, true, nil
}

// releaseKey frees a key whose request was refused before its payment was
// stored; only the claim naming paymentID goes.
func (s *Service) releaseKey(ctx context.Context, community, key, paymentID string) {
	_, err := s.db().Collection(colPaymentKeys).DeleteOne(context.WithoutCancel(ctx),
		bson.D{{Key: "_id", Value: community + ":" + key}, {Key: "paymentId", Value: paymentID}})
	if err != nil {
		s.warn(ctx, "release payment key", paymentID, err)
	}
}

// insertOnce stores p unless a request with the same key stored it first;
// either way it returns the stored payment.
func (s *Service) insertOnce(ctx context.Context, p *Payment) (*Payment, error) {
	_, err := s.col.InsertOne(ctx, p)
	if err == nil {
		return p, nil
	}
	if !mgo.IsDuplicateKeyError(err) {
		return nil, fmt.Errorf("insert payment: %w", err)
	}
	got, err := s.byID(ctx, p.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("insert payment %s: duplicate, yet not found", p.ID)
	}
	return got, err
}
