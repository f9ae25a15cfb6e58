package notify

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

func recipients(n int) []Recipient {
	rs := make([]Recipient, n)
	for i := range rs {
		rs[i] = Recipient{Kind: auth.KindPerson, ID: fmt.Sprintf("person-%05d", i), CommunityID: "c1"}
	}
	return rs
}

func greeting(rs []Recipient) Message {
	return Message{Kind: FestivalGreeting, Key: "festival:c1:mid_autumn:2026", Recipients: rs,
		Vars: map[string]any{"festival": "中秋节", "festivalEN": "Mid-Autumn Festival", "text": "月圆人团圆", "textEN": "Happy Mid-Autumn"}}
}

func count(t *testing.T, db *mongo.DB, col string, filter bson.D) int64 {
	t.Helper()
	n, err := db.Collection(col).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// noon in Shanghai, outside quiet hours.
var noon = func() time.Time { return time.Date(2026, 9, 25, 4, 0, 0, 0, time.UTC) }

// perRecipient asserts every recipient has exactly one inbox entry and one
// delivery per channel.
func perRecipient(t *testing.T, db *mongo.DB, n int, channels int) {
	t.Helper()
	if got := count(t, db, "notifications", bson.D{}); got != int64(n) {
		t.Fatalf("%d notifications, want one per recipient (%d)", got, n)
	}
	if got := count(t, db, "deliveries", bson.D{}); got != int64(n*channels) {
		t.Fatalf("%d deliveries, want %d", got, n*channels)
	}
}

// A fan-out cut short (the process dies, or its context is cancelled) and
// started again ends with every recipient having exactly one message.
func TestFanOutCrashAndRestart(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	rs := recipients(1300) // three chunks
	// The first run is cancelled after its first chunk.
	ctx, cancel := context.WithCancel(context.Background())
	e := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon})
	var chunks atomic.Int32
	e.afterChunk = func() {
		if chunks.Add(1) == 1 {
			cancel()
		}
	}
	n, err := e.Send(ctx, greeting(rs))
	if err == nil || n != fanOutChunk {
		t.Fatalf("first run: created %d, err %v; want one chunk then an error", n, err)
	}
	// The restarted run writes only what is missing.
	e2 := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon})
	n, err = e2.Send(context.Background(), greeting(rs))
	if err != nil || n != len(rs)-fanOutChunk {
		t.Fatalf("restart: created %d, err %v", n, err)
	}
	perRecipient(t, db, len(rs), 1)
	// And sending the same greeting again changes nothing.
	if n, _ := e2.Send(context.Background(), greeting(rs)); n != 0 {
		t.Fatalf("a repeated greeting created %d messages", n)
	}
	perRecipient(t, db, len(rs), 1)
}

// Two server processes schedule the same greeting at the same moment: every
// recipient still has exactly one message.
func TestTwoServersScheduleTheSameGreeting(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	db2, err := mongo.Connect(context.Background(), mongo.TestURI(t), db.Name(), mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close(context.Background())
	rs := recipients(1200)
	var wg sync.WaitGroup
	created := make([]int, 2)
	for i, d := range []*mongo.DB{db, db2} {
		wg.Add(1)
		go func(i int, d *mongo.DB) {
			defer wg.Done()
			e := NewEngine(EngineConfig{DB: d, Channels: []string{ChannelFCM}, Now: noon})
			n, err := e.Send(context.Background(), greeting(rs))
			if err != nil {
				t.Error(err)
			}
			created[i] = n
		}(i, d)
	}
	wg.Wait()
	if created[0]+created[1] != len(rs) {
		t.Fatalf("servers created %d + %d, want %d in all", created[0], created[1], len(rs))
	}
	perRecipient(t, db, len(rs), 1)
}

// recorder is a channel that records what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent map[string]int
	fail func(o Outgoing) *Result
}

func (r *recorder) Channel() string { return ChannelFCM }
func (r *recorder) Send(_ context.Context, batch []Outgoing) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Result, len(batch))
	for i, o := range batch {
		if r.fail != nil {
			if res := r.fail(o); res != nil {
				out[i] = *res
				continue
			}
		}
		r.sent[o.RecipientID]++
		out[i] = Result{DeliveryID: o.DeliveryID, Status: StatusSent}
	}
	return out
}

// Two outbox workers on two connections drain the same outbox: every
// delivery is sent exactly once.
func TestTwoWorkersSendEachDeliveryOnce(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	db2, err := mongo.Connect(context.Background(), mongo.TestURI(t), db.Name(), mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close(context.Background())
	// Small enough for the embedded database under a loaded CI machine; the
	// race is the same at any size.
	rs := recipients(300)
	if _, err := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon}).Send(context.Background(), greeting(rs)); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{sent: map[string]int{}}
	var wg sync.WaitGroup
	for _, d := range []*mongo.DB{db, db2} {
		wg.Add(1)
		go func(d *mongo.DB) {
			defer wg.Done()
			o := NewOutbox(d, OutboxConfig{Senders: []Sender{rec}, Batch: 60, Now: noon})
			for {
				n, err := o.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}(d)
	}
	wg.Wait()
	if len(rec.sent) != len(rs) {
		t.Fatalf("sent to %d recipients, want %d", len(rec.sent), len(rs))
	}
	for id, n := range rec.sent {
		if n != 1 {
			t.Fatalf("%s got %d pushes", id, n)
		}
	}
	if got := count(t, db, "deliveries", bson.D{{Key: "status", Value: StatusSent}}); got != int64(len(rs)) {
		t.Fatalf("%d deliveries recorded sent", got)
	}
}

// A channel that answers 429 with Retry-After gets the delivery back after
// that wait; an unknown failure backs off exponentially; a worker that died
// holding a lease frees it when the lease ends.
func TestRetriesAndLeases(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	now := noon()
	clock := func() time.Time { return now }
	if _, err := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: clock}).Send(context.Background(), greeting(recipients(2))); err != nil {
		t.Fatal(err)
	}
	busy := true
	rec := &recorder{sent: map[string]int{}, fail: func(o Outgoing) *Result {
		if busy {
			return &Result{DeliveryID: o.DeliveryID, Status: StatusRetry, RetryAfter: 7 * time.Second, Error: "429"}
		}
		return nil
	}}
	o := NewOutbox(db, OutboxConfig{Senders: []Sender{rec}, Now: clock})
	if n, err := o.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("first run: %d %v", n, err)
	}
	busy = false
	now = now.Add(6 * time.Second)
	if n, _ := o.RunOnce(context.Background()); n != 0 {
		t.Fatalf("retried before Retry-After: %d", n)
	}
	now = now.Add(2 * time.Second)
	if n, _ := o.RunOnce(context.Background()); n != 2 || len(rec.sent) != 2 {
		t.Fatalf("after Retry-After: %d sent %v", n, rec.sent)
	}
	var d Delivery
	_ = db.Collection("deliveries").FindOne(context.Background(), bson.D{}).Decode(&d)
	if d.Status != StatusSent || d.Attempts != 2 {
		t.Fatalf("delivery = %+v", d)
	}
	if b := Backoff(1); b < 30*time.Second || b > 36*time.Second {
		t.Errorf("first backoff %v", b)
	}
	if b := Backoff(20); b < time.Hour || b > 72*time.Minute {
		t.Errorf("backoff is not capped: %v", b)
	}

	// A worker claims and dies: after the lease, another worker sends it.
	if _, err := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: clock}).Send(context.Background(), Message{
		Kind: Announcement, Key: "ann:1", Recipients: recipients(1), Vars: map[string]any{"title": "停水通知", "text": "明日9点停水"}}); err != nil {
		t.Fatal(err)
	}
	dead := NewOutbox(db, OutboxConfig{Senders: []Sender{rec}, Now: clock})
	var due []Delivery
	cur, _ := db.Collection("deliveries").Find(context.Background(), bson.D{{Key: "key", Value: "ann:1"}})
	_ = cur.All(context.Background(), &due)
	if claimed, err := dead.claim(context.Background(), due, now); err != nil || len(claimed.ds) != 1 {
		t.Fatalf("claim: %v %v", claimed.ds, err)
	}
	before := rec.sent["person-00000"]
	if n, _ := o.RunOnce(context.Background()); n != 0 {
		t.Fatal("a leased delivery was taken by another worker")
	}
	now = now.Add(3 * time.Minute)
	if n, _ := o.RunOnce(context.Background()); n != 1 || rec.sent["person-00000"] != before+1 {
		t.Fatalf("the expired lease was not taken over: %d", n)
	}
}

// Quiet hours hold non-urgent messages; emergencies go at once; opted-out
// kinds are suppressed, not dropped from the inbox.
func TestQuietHoursAndOptOut(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	late := func() time.Time { return time.Date(2026, 9, 25, 15, 0, 0, 0, time.UTC) } // 23:00 in Shanghai
	e := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: late})
	rs := recipients(2)
	if _, err := db.Collection("notification_prefs").InsertOne(context.Background(), Prefs{UserID: rs[1].ID, DisabledKinds: []Kind{FestivalGreeting}, DisabledChannels: []string{}, QuietStart: "21:30", QuietEnd: "08:00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(context.Background(), greeting(rs)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(context.Background(), Message{Kind: EmergencyNotice, Key: "em:1", Recipients: rs[:1], Vars: map[string]any{"title": "燃气泄漏", "text": "请立即开窗"}}); err != nil {
		t.Fatal(err)
	}
	var g, s, em Delivery
	_ = db.Collection("deliveries").FindOne(context.Background(), bson.D{{Key: "recipientId", Value: rs[0].ID}, {Key: "kind", Value: FestivalGreeting}}).Decode(&g)
	_ = db.Collection("deliveries").FindOne(context.Background(), bson.D{{Key: "recipientId", Value: rs[1].ID}}).Decode(&s)
	_ = db.Collection("deliveries").FindOne(context.Background(), bson.D{{Key: "kind", Value: EmergencyNotice}}).Decode(&em)
	morning := time.Date(2026, 9, 26, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
	if !g.NextAttemptAt.Equal(morning) || g.Status != StatusPending {
		t.Errorf("greeting at 23:00 is due %v (%s), want 08:00", g.NextAttemptAt, g.Status)
	}
	if s.Status != StatusSuppressed {
		t.Errorf("opted-out greeting is %s", s.Status)
	}
	if !em.NextAttemptAt.Equal(late()) {
		t.Errorf("emergency waits until %v", em.NextAttemptAt)
	}
	if got := count(t, db, "notifications", bson.D{{Key: "recipientId", Value: rs[1].ID}}); got != 1 {
		t.Errorf("the opted-out greeting is not in the inbox: %d", got)
	}
}
