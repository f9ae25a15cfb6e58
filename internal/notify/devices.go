package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// MaxDevicesPerUser caps registered devices; the oldest goes first.
const MaxDevicesPerUser = 10

// Device is an app installation that can receive FCM pushes.
type Device struct {
	Token     string    `bson:"_id"` // a token belongs to one user at a time
	UserKind  string    `bson:"userKind"`
	UserID    string    `bson:"userId"`
	Platform  string    `bson:"platform"` // ANDROID, IOS
	App       string    `bson:"app"`      // OWNER, STAFF
	Locale    string    `bson:"locale"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "devices", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "updatedAt", Value: 1}}},
	}})
	apperr.Register(map[string]apperr.Text{
		"notify.bad_token":    {ZH: "推送令牌无效", EN: "is not a valid push token"},
		"notify.bad_platform": {ZH: "平台只能是 ANDROID 或 IOS", EN: "must be ANDROID or IOS"},
		"notify.bad_app":      {ZH: "应用只能是 OWNER 或 STAFF", EN: "must be OWNER or STAFF"},
	})
}

// Devices keeps FCM tokens.
type Devices struct {
	col *mgo.Collection
	now func() time.Time
}

// NewDevices opens the device store.
func NewDevices(db *mongo.DB, now func() time.Time) *Devices {
	return &Devices{col: db.Collection("devices"), now: now}
}

// Register records the caller's device. A token seen before moves to the
// caller (a phone changes hands, or a family shares one); the caller's
// oldest devices beyond the cap are dropped.
func (d *Devices) Register(ctx context.Context, c *access.Caller, token, platform, app, locale string) (*Device, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	token = strings.TrimSpace(token)
	if len(token) < 20 || len(token) > 4096 || strings.ContainsAny(token, " \n\t") {
		return nil, apperr.Invalid("token", "notify.bad_token")
	}
	if !slices.Contains([]string{"ANDROID", "IOS"}, platform) {
		return nil, apperr.Invalid("platform", "notify.bad_platform")
	}
	if !slices.Contains([]string{"OWNER", "STAFF"}, app) {
		return nil, apperr.Invalid("app", "notify.bad_app")
	}
	locale, err := validate.Text("locale", locale, false, 20)
	if err != nil {
		return nil, err
	}
	dev := &Device{Token: token, UserKind: string(c.Kind), UserID: c.ID, Platform: platform, App: app, Locale: locale, UpdatedAt: d.now().UTC()}
	if _, err := d.col.ReplaceOne(ctx, bson.D{{Key: "_id", Value: token}}, dev, options.Replace().SetUpsert(true)); err != nil {
		return nil, fmt.Errorf("register device: %w", err)
	}
	cur, err := d.col.Find(ctx, bson.D{{Key: "userId", Value: c.ID}}, options.Find().SetSort(bson.D{{Key: "updatedAt", Value: -1}}).SetSkip(MaxDevicesPerUser).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("devices over the cap: %w", err)
	}
	var old []Device
	if err := cur.All(ctx, &old); err != nil {
		return nil, fmt.Errorf("devices over the cap: %w", err)
	}
	if len(old) > 0 {
		ids := make([]string, len(old))
		for i, o := range old {
			ids[i] = o.Token
		}
		if _, err := d.col.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return nil, fmt.Errorf("drop old devices: %w", err)
		}
	}
	return dev, nil
}

// Unregister removes one of the caller's tokens (logout on that phone).
// Another user's token is left alone and reported as done, revealing nothing.
func (d *Devices) Unregister(ctx context.Context, c *access.Caller, token string) error {
	if c == nil {
		return apperr.ErrUnauthenticated
	}
	_, err := d.col.DeleteOne(ctx, bson.D{{Key: "_id", Value: token}, {Key: "userId", Value: c.ID}})
	if err != nil {
		return fmt.Errorf("unregister device: %w", err)
	}
	return nil
}

// TokensFor loads the tokens (token, user and kind of each device) of
// recipients in one query, answered in one
// reply (the default first batch of 101 would add getMores).
func (d *Devices) TokensFor(ctx context.Context, userIDs []string) (map[string][]Device, error) {
	cur, err := d.col.Find(ctx, bson.D{{Key: "userId", Value: bson.D{{Key: "$in", Value: userIDs}}}}, options.Find().
		SetProjection(bson.D{{Key: "userKind", Value: 1}, {Key: "userId", Value: 1}}).
		SetBatchSize(int32(min(len(userIDs)*MaxDevicesPerUser, 100_000))))
	if err != nil {
		return nil, fmt.Errorf("devices of users: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := make(map[string][]Device, len(userIDs))
	for cur.Next(ctx) {
		dv, err := decodeToken(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("device of users: %w", err)
		}
		out[dv.UserID] = append(out[dv.UserID], dv)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("devices of users: %w", err)
	}
	return out, nil
}

// Remove drops tokens FCM reported as no longer registered.
func (d *Devices) Remove(ctx context.Context, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	_, err := d.col.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: tokens}}}})
	if err != nil {
		return fmt.Errorf("remove devices: %w", err)
	}
	return nil
}

// Count is how many devices a user has (tests, deliveryReport).
func (d *Devices) Count(ctx context.Context, userID string) (int64, error) {
	return d.col.CountDocuments(ctx, bson.D{{Key: "userId", Value: userID}})
}
