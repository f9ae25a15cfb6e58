package notify

import (
	"context"

	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// Default quiet hours: nobody is woken for a greeting.
const (
	DefaultQuietStart = "21:30"
	DefaultQuietEnd   = "08:00"
)

// Prefs are one person's notification settings.
type Prefs struct {
	UserID           string   `bson:"_id"`
	DisabledKinds    []Kind   `bson:"disabledKinds"`
	DisabledChannels []string `bson:"disabledChannels"`
	QuietStart       string   `bson:"quietStart"`
	QuietEnd         string   `bson:"quietEnd"`
	Lang             string   `bson:"lang,omitempty"` // "en" for English messages
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "notification_prefs"})
	apperr.Register(map[string]apperr.Text{
		"notify.not_optional": {ZH: "该类消息不能关闭", EN: "cannot be turned off"},
		"notify.bad_time":     {ZH: "时间格式应为 HH:MM", EN: "must be a time like 21:30"},
		"notify.bad_channel":  {ZH: "只能关闭微信或推送通道", EN: "only FCM and WECHAT can be turned off"},
	})
}

func defaultPrefs(userID string) *Prefs {
	return &Prefs{UserID: userID, DisabledKinds: []Kind{}, DisabledChannels: []string{}, QuietStart: DefaultQuietStart, QuietEnd: DefaultQuietEnd}
}

// PrefsStore keeps preferences.
type PrefsStore struct{ col *mgo.Collection }

// NewPrefsStore opens the store.
func NewPrefsStore(db *mongo.DB) *PrefsStore {
	return &PrefsStore{col: db.Collection("notification_prefs")}
}

// Get returns the caller's preferences (defaults if never set).
func (p *PrefsStore) Get(ctx context.Context, c *access.Caller) (*Prefs, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	m, err := p.ForUsers(ctx, []string{c.ID})
	if err != nil {
		return nil, err
	}
	return m[c.ID], nil
}

// ForUsers loads preferences for a fan-out in one query; missing = defaults.
func (p *PrefsStore) ForUsers(ctx context.Context, ids []string) (map[string]*Prefs, error) {
	cur, err := p.col.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	var list []*Prefs
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	out := make(map[string]*Prefs, len(ids))
	for _, id := range ids {
		out[id] = defaultPrefs(id)
	}
	for _, pr := range list {
		out[pr.UserID] = pr
	}
	return out, nil
}

// Update changes the caller's preferences. Kinds that may not be turned off
// (emergency notices, repair progress) are refused by name.
func (p *PrefsStore) Update(ctx context.Context, c *access.Caller, in Prefs) (*Prefs, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	for _, k := range in.DisabledKinds {
		spec, ok := Specs[k]
		if !ok || !spec.OptOut {
			return nil, apperr.Invalid("input.disabledKinds", "notify.not_optional")
		}
	}
	for _, ch := range in.DisabledChannels {
		if !slices.Contains([]string{ChannelFCM, ChannelWechat}, ch) {
			return nil, apperr.Invalid("input.disabledChannels", "notify.bad_channel")
		}
	}
	for field, v := range map[string]string{"input.quietStart": in.QuietStart, "input.quietEnd": in.QuietEnd} {
		if _, err := time.Parse("15:04", v); err != nil {
			return nil, apperr.Invalid(field, "notify.bad_time")
		}
	}
	in.UserID = c.ID
	if in.DisabledKinds == nil {
		in.DisabledKinds = []Kind{}
	}
	if in.DisabledChannels == nil {
		in.DisabledChannels = []string{}
	}
	if _, err := p.col.ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, in, options.Replace().SetUpsert(true)); err != nil {
		return nil, fmt.Errorf("update preferences: %w", err)
	}
	return &in, nil
}

// QuietUntil returns when quiet hours end if t falls in them (in loc), or
// the zero time. Quiet hours may span midnight (21:30-08:00).
func (pr *Prefs) QuietUntil(t time.Time, loc *time.Location) time.Time {
	start, err1 := time.Parse("15:04", pr.QuietStart)
	end, err2 := time.Parse("15:04", pr.QuietEnd)
	if err1 != nil || err2 != nil || pr.QuietStart == pr.QuietEnd {
		return time.Time{}
	}
	lt := t.In(loc)
	mins := lt.Hour()*60 + lt.Minute()
	s, e := start.Hour()*60+start.Minute(), end.Hour()*60+end.Minute()
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	at := func(d time.Time, m int) time.Time { return d.Add(time.Duration(m) * time.Minute) }
	switch {
	case s < e: // same-day window, e.g. 12:00-14:00
		if mins >= s && mins < e {
			return at(day, e)
		}
	case mins >= s: // evening part of an overnight window
		return at(day.AddDate(0, 0, 1), e)
	case mins < e: // morning part
		return at(day, e)
	}
	return time.Time{}
}
