package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// Recipient is someone a message is for.
type Recipient struct {
	Kind        auth.Kind
	ID          string
	CommunityID string // decides the time zone of quiet hours
}

// Message is one thing to tell a set of people. Key identifies the thing
// ("repair:<id>:v3", "festival:<community>:mid_autumn:2026"): a person gets
// at most one message per key, however often it is sent.
type Message struct {
	Kind       Kind
	Key        string
	Recipients []Recipient
	Vars       map[string]any // template variables (both languages)
	Data       map[string]string
	// NotBefore delays delivery (scheduled announcements).
	NotBefore time.Time
	// Subject is what the message is about, numbered in the data's seq
	// ("repair:<id>"); empty: taken from Key (see subjectOf).
	Subject string
	// At is when the event happened; zero: when it is first sent.
	At time.Time
}

// Notification is one inbox entry.
type Notification struct {
	ID            string            `bson:"_id"` // hash of recipient and key: the same message cannot be stored twice
	RecipientKind string            `bson:"recipientKind"`
	RecipientID   string            `bson:"recipientId"`
	CommunityID   string            `bson:"communityId,omitempty"`
	Kind          Kind              `bson:"kind"`
	Key           string            `bson:"key"`
	Title         string            `bson:"title"`
	Body          string            `bson:"body"`
	Lang          string            `bson:"lang"`
	Data          map[string]string `bson:"data,omitempty"`
	Priority      int               `bson:"priority"`
	CreatedAt     time.Time         `bson:"createdAt"`
	// VisibleAt hides a scheduled message (an announcement for tomorrow
	// 08:00) from the inbox until its time.
	VisibleAt time.Time  `bson:"visibleAt"`
	ReadAt    *time.Time `bson:"readAt,omitempty"`
	SortKey   string     `bson:"sortKey"` // newest first
}

// Delivery is one channel's attempt to bring a notification to its
// recipient: the outbox.
type Delivery struct {
	ID             string     `bson:"_id"` // notification id + ":" + channel
	NotificationID string     `bson:"notificationId"`
	RecipientKind  string     `bson:"recipientKind"`
	RecipientID    string     `bson:"recipientId"`
	CommunityID    string     `bson:"communityId,omitempty"`
	Channel        string     `bson:"channel"`
	Kind           Kind       `bson:"kind"`
	Priority       int        `bson:"priority"`
	Status         string     `bson:"status"`
	Attempts       int        `bson:"attempts"`
	LastError      string     `bson:"lastError,omitempty"`
	NextAttemptAt  time.Time  `bson:"nextAttemptAt"`
	LeaseUntil     *time.Time `bson:"leaseUntil,omitempty"`
	LeaseOwner     string     `bson:"leaseOwner,omitempty"`
	CreatedAt      time.Time  `bson:"createdAt"`
	SentAt         *time.Time `bson:"sentAt,omitempty"`
	Key            string     `bson:"key"` // the message key, for delivery reports
	// The rendered message, copied from the notification so the outbox
	// sends without reading notifications back.
	Title string            `bson:"title,omitempty"`
	Body  string            `bson:"body,omitempty"`
	Data  map[string]string `bson:"data,omitempty"`
}

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: "notifications", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "recipientId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "recipientId", Value: 1}, {Key: "readAt", Value: 1}}},
			{Keys: bson.D{{Key: "key", Value: 1}, {Key: "communityId", Value: 1}}},
		}},
		mongo.Indexes{Collection: "deliveries", Models: []mgo.IndexModel{
			// The outbox worker's query: due work, most important first.
			{Keys: bson.D{{Key: "channel", Value: 1}, {Key: "status", Value: 1}, {Key: "priority", Value: -1}, {Key: "nextAttemptAt", Value: 1}}},
			{Keys: bson.D{{Key: "channel", Value: 1}, {Key: "status", Value: 1}, {Key: "leaseUntil", Value: 1}}},
			{Keys: bson.D{{Key: "key", Value: 1}, {Key: "communityId", Value: 1}}},
			{Keys: bson.D{{Key: "notificationId", Value: 1}}},
		}},
		mongo.Indexes{Collection: "delivery_claims"},
	)
}

// Engine turns messages into inbox entries and outbox deliveries.
type Engine struct {
	notifications, deliveries *mgo.Collection
	seqs                      *mgo.Collection
	prefs                     *PrefsStore
	bus                       *events.Bus
	zone                      func(communityID string) *time.Location
	channels                  map[string]bool // channels that are on
	log                       *slog.Logger
	now                       func() time.Time
	afterChunk                func() // tests: cut a fan-out short
	onRead                    []readListener
}

// EngineConfig wires an engine.
type EngineConfig struct {
	DB       *mongo.DB
	Bus      *events.Bus
	Zone     func(communityID string) *time.Location
	Channels []string // channels with a working sender; others are skipped
	Log      *slog.Logger
	Now      func() time.Time
}

// NewEngine makes an engine.
func NewEngine(cfg EngineConfig) *Engine {
	on := map[string]bool{}
	for _, c := range cfg.Channels {
		on[c] = true
	}
	zone := cfg.Zone
	if zone == nil {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		zone = func(string) *time.Location { return sh }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Engine{
		notifications: cfg.DB.Collection("notifications"), deliveries: cfg.DB.Collection("deliveries"), seqs: cfg.DB.Collection("notice_seqs"),
		prefs: NewPrefsStore(cfg.DB), bus: cfg.Bus, zone: zone, channels: on, log: cfg.Log, now: cfg.Now,
	}
}

// Prefs exposes the preference store.
func (e *Engine) Prefs() *PrefsStore { return e.prefs }

// notificationID is deterministic: the unique key of "this person, this thing".
func notificationID(recipientID, key string) string {
	h := sha256.Sum256([]byte(recipientID + "|" + key))
	return hex.EncodeToString(h[:12])
}

// fanOutChunk bounds one round of writes (and one live event).
const fanOutChunk = 500

// Send stores msg for every recipient and queues its deliveries. It is safe
// to call again with the same message after a crash or on a second server:
// ids are derived from recipient and key, so existing entries are kept and
// only the missing ones are written. It returns how many inbox entries were
// new.
func (e *Engine) Send(ctx context.Context, msg Message) (int, error) {
	spec, ok := Specs[msg.Kind]
	if !ok {
		return 0, fmt.Errorf("notify: unknown kind %q", msg.Kind)
	}
	if len(msg.Recipients) == 0 {
		return 0, nil
	}
	data, err := e.stamp(ctx, msg, e.now().UTC())
	if err != nil {
		return 0, err
	}
	msg.Data = data
	created := 0
	for start := 0; start < len(msg.Recipients); start += fanOutChunk {
		chunk := msg.Recipients[start:min(start+fanOutChunk, len(msg.Recipients))]
		if err := ctx.Err(); err != nil {
			return created, err
		}
		n, err := e.sendChunk(ctx, spec, msg, chunk)
		created += n
		if err != nil {
			return created, err
		}
		if e.afterChunk != nil {
			e.afterChunk()
		}
	}
	return created, nil
}

func (e *Engine) sendChunk(ctx context.Context, spec Spec, msg Message, rs []Recipient) (int, error) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	prefs, err := e.prefs.ForUsers(ctx, ids)
	if err != nil {
		return 0, err
	}
	now := e.now().UTC()
	notes := make([]any, 0, len(rs))
	dels := make([]any, 0, len(rs)*len(spec.Channels))
	for _, r := range rs {
		if notes, dels, err = e.build(spec, msg, r, prefs[r.ID], now, notes, dels); err != nil {
			return 0, err
		}
	}
	inserted, err := e.write(ctx, notes, dels)
	if err != nil {
		return 0, err
	}
	if len(inserted) > 0 {
		// One live event per chunk, naming who got something new.
		rs := make([]string, len(inserted))
		for i, n := range inserted {
			rs[i] = n.RecipientID
		}
		e.publish(ctx, msg.Key, map[string]any{"recipients": rs, "kind": string(msg.Kind)})
	}
	return len(inserted), nil
}

// build renders msg for r in r's language and appends its inbox entry and
// one delivery per channel that is on (suppressed where r turned the kind
// or channel off, held until r's quiet hours end).
func (e *Engine) build(spec Spec, msg Message, r Recipient, pr *Prefs, now time.Time, notes, dels []any) ([]any, []any, error) {
	lang := apperr.ZH
	if pr.Lang == "en" {
		lang = apperr.EN
	}
	title, body, err := spec.Render(lang, msg.Vars)
	if err != nil {
		return notes, dels, err
	}
	n := Notification{
		ID: notificationID(r.ID, msg.Key), RecipientKind: string(r.Kind), RecipientID: r.ID, CommunityID: r.CommunityID,
		Kind: msg.Kind, Key: msg.Key, Title: title, Body: body, Lang: string(lang), Data: msg.Data, Priority: spec.Priority, CreatedAt: now,
		VisibleAt: now,
	}
	if msg.NotBefore.After(now) {
		n.VisibleAt = msg.NotBefore.UTC()
	}
	n.SortKey = page.NewestFirst(now, n.ID)
	notes = append(notes, n)
	due := now
	if msg.NotBefore.After(due) {
		due = msg.NotBefore
	}
	if !spec.Urgent {
		if until := pr.QuietUntil(due, e.zone(r.CommunityID)); !until.IsZero() {
			due = until.UTC()
		}
	}
	for _, ch := range spec.Channels {
		if !e.channels[ch] {
			continue
		}
		d := Delivery{
			ID: n.ID + ":" + ch, NotificationID: n.ID, RecipientKind: string(r.Kind), RecipientID: r.ID, CommunityID: r.CommunityID, Channel: ch, Kind: msg.Kind,
			Priority: spec.Priority, Status: StatusPending, NextAttemptAt: due, CreatedAt: now, Key: msg.Key,
			Title: title, Body: body, Data: msg.Data,
		}
		if spec.OptOut && (slices.Contains(pr.DisabledKinds, msg.Kind) || slices.Contains(pr.DisabledChannels, ch)) {
			d.Status = StatusSuppressed
		}
		dels = append(dels, d)
	}
	return notes, dels, nil
}

// write stores inbox entries and queues their deliveries, one command each,
// keeping what exists; it returns the notifications written.
func (e *Engine) write(ctx context.Context, notes, dels []any) ([]Notification, error) {
	inserted, err := insertNew(ctx, e.notifications, notes)
	if err != nil {
		return nil, fmt.Errorf("store notifications: %w", err)
	}
	if _, err := insertNew(ctx, e.deliveries, dels); err != nil {
		return nil, fmt.Errorf("queue deliveries: %w", err)
	}
	return inserted, nil
}

// publish tells every process's inbox feeds and outbox workers of new
// entries; a failure only delays them until the outbox's next look.
func (e *Engine) publish(ctx context.Context, subject string, data map[string]any) {
	if e.bus == nil {
		return
	}
	err := e.bus.Publish(context.WithoutCancel(ctx), events.Event{Type: TypeCreated, SubjectID: subject, Data: data})
	if err != nil && e.log != nil {
		e.log.WarnContext(ctx, "publish notification event", "err", err)
	}
}

// insertNew inserts docs, ignoring those whose _id exists, and returns the
// notifications among them that were written.
func insertNew(ctx context.Context, col *mgo.Collection, docs []any) ([]Notification, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	_, err := col.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	failed := map[int]bool{}
	if err != nil {
		var bwe mgo.BulkWriteException
		if !asBulk(err, &bwe) {
			return nil, err
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return nil, err
			}
			failed[we.Index] = true
		}
	}
	var out []Notification
	for i, d := range docs {
		if n, ok := d.(Notification); ok && !failed[i] {
			out = append(out, n)
		}
	}
	return out, nil
}
