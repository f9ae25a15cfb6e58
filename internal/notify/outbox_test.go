package notify

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/platform/mongo"
)

// commandLog records the database commands a piece of work sends.
type commandLog struct {
	mu    sync.Mutex
	names []string
	on    bool
}

func (c *commandLog) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.on {
			c.names = append(c.names, e.CommandName)
		}
	}}
}

func (c *commandLog) record(f func()) []string {
	c.mu.Lock()
	c.on, c.names = true, nil
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.names
}

// A round costs the same commands whatever its size (read, claim, lease,
// record), and records each delivery's own outcome: sent, retried after the
// server's Retry-After, or undeliverable.
func TestOutboxRoundIsAFewCommands(t *testing.T) {
	var log commandLog
	db := mongo.NewTestDB(t, mongo.Options{Monitor: log.monitor()})
	ctx := context.Background()
	rec := &recorder{sent: map[string]int{}, fail: func(o Outgoing) *Result {
		switch outcomeOf(o.RecipientID) {
		case 1:
			return &Result{DeliveryID: o.DeliveryID, Status: StatusRetry, RetryAfter: 7 * time.Second, Error: "429"}
		case 2:
			return &Result{DeliveryID: o.DeliveryID, Status: StatusUndeliverable, Error: "no device"}
		}
		return nil
	}}
	var want []string
	for _, n := range []int{30, 600} {
		for _, col := range []string{"deliveries", "notifications", "delivery_claims"} {
			if _, err := db.Collection(col).DeleteMany(ctx, bson.D{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon}).Send(ctx, greeting(recipients(n))); err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(db, OutboxConfig{Senders: []Sender{rec}, Now: noon})
		var handled int
		var err error
		got := log.record(func() { handled, err = o.RunOnce(ctx) })
		if err != nil || handled != n {
			t.Fatalf("%d deliveries: handled %d: %v", n, handled, err)
		}
		if want == nil {
			want = got
			if len(got) != 4 {
				t.Errorf("a round of %d sent %v, want find, insert, update, update", n, got)
			}
		} else if len(got) != len(want) {
			t.Errorf("a round of %d sent %v, a round of 30 %v", n, got, want)
		}
		var wantOf [3]int64
		for _, r := range recipients(n) {
			wantOf[outcomeOf(r.ID)]++
		}
		if c := count(t, db, "deliveries", bson.D{{Key: "status", Value: StatusSent}, {Key: "attempts", Value: 1}, {Key: "leaseOwner", Value: ""}}); c != wantOf[0] {
			t.Errorf("%d of %d sent, want %d", c, n, wantOf[0])
		}
		if c := count(t, db, "deliveries", bson.D{{Key: "status", Value: StatusPending}, {Key: "nextAttemptAt", Value: noon().Add(7 * time.Second)}}); c != wantOf[1] {
			t.Errorf("%d of %d back after Retry-After, want %d", c, n, wantOf[1])
		}
		if c := count(t, db, "deliveries", bson.D{{Key: "status", Value: StatusUndeliverable}, {Key: "lastError", Value: "no device"}}); c != wantOf[2] {
			t.Errorf("%d of %d undeliverable, want %d", c, n, wantOf[2])
		}
	}
}

// outcomeOf spreads recipients over three outcomes by their number.
func outcomeOf(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "person-"))
	return n % 3
}

// A worker that takes over an expired lease while the late worker records
// its result after all sends nothing: the late worker's record stands.
func TestTakeoverLosesToTheLateRecord(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	ctx := context.Background()
	now := noon()
	clock := func() time.Time { return now }
	if _, err := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: clock}).Send(ctx, greeting(recipients(1))); err != nil {
		t.Fatal(err)
	}
	late := NewOutbox(db, OutboxConfig{Now: clock})
	next := NewOutbox(db, OutboxConfig{Now: clock})
	due, err := late.due(ctx, ChannelFCM, now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	held, err := late.claim(ctx, due, now)
	if err != nil || len(held.ds) != 1 {
		t.Fatalf("claim: %v %v", held.ds, err)
	}
	now = now.Add(3 * time.Minute) // the lease has run out
	due, err = next.due(ctx, ChannelFCM, now, 10)
	if err != nil || len(due) != 1 || due[0].Status != StatusSending {
		t.Fatalf("expired lease not due again: %v %v", due, err)
	}
	if err := late.record(ctx, held, []Result{{DeliveryID: held.ds[0].ID, Status: StatusSent}}); err != nil {
		t.Fatal(err)
	}
	taken, err := next.claim(ctx, due, now)
	if err != nil || len(taken.ds) != 0 {
		t.Fatalf("took over a delivery already recorded sent: %v %v", taken.ds, err)
	}
	var d Delivery
	if err := db.Collection("deliveries").FindOne(ctx, bson.D{}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusSent || d.Attempts != 1 {
		t.Fatalf("delivery = %s after %d attempts, want SENT after 1", d.Status, d.Attempts)
	}
}

// The round's own decoders read what the driver's reflection reads.
func TestDecodersMatchTheDriver(t *testing.T) {
	lease := noon()
	d := Delivery{ID: "n1:FCM", NotificationID: "n1", RecipientKind: "PERSON", RecipientID: "p1", CommunityID: "c1", Channel: ChannelFCM,
		Kind: FestivalGreeting, Priority: 80, Status: StatusSending, Attempts: 3, LeaseUntil: &lease, LeaseOwner: "w1.2",
		Title: "中秋节快乐", Body: "月圆人团圆", Data: map[string]string{"campaignId": "x", "k": "v"}, Key: "k1", NextAttemptAt: noon()}
	raw, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSending(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Delivery{ID: d.ID, NotificationID: d.NotificationID, RecipientKind: d.RecipientKind, RecipientID: d.RecipientID, Channel: d.Channel,
		Kind: d.Kind, Priority: d.Priority, Status: d.Status, Attempts: d.Attempts, LeaseOwner: d.LeaseOwner, Title: d.Title, Body: d.Body, Data: d.Data}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}
	dev := Device{Token: "tok-1", UserKind: "PERSON", UserID: "p1", Platform: "ANDROID", App: "OWNER", UpdatedAt: noon()}
	if raw, err = bson.Marshal(dev); err != nil {
		t.Fatal(err)
	}
	gotDev, err := decodeToken(raw)
	if err != nil || gotDev != (Device{Token: dev.Token, UserKind: dev.UserKind, UserID: dev.UserID}) {
		t.Errorf("decoded %+v, %v", gotDev, err)
	}
	if _, err := decodeSending(raw[:len(raw)-3]); err == nil {
		t.Error("a cut document decoded")
	}
}

// Claims are kept a day, far past any lease, then swept: the collection
// does not grow with every delivery attempt for ever.
func TestOutboxSweepsOldClaims(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	col := db.Collection("delivery_claims")
	for id, at := range map[string]time.Time{"old#1": now.Add(-25 * time.Hour), "recent#1": now.Add(-time.Hour)} {
		if _, err := col.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: "w"}, {Key: "at", Value: at}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := NewOutbox(db, OutboxConfig{}).SweepClaims(ctx, now); err != nil {
		t.Fatal(err)
	}
	var left []struct {
		ID string `bson:"_id"`
	}
	cur, err := col.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].ID != "recent#1" {
		t.Fatalf("claims left %+v, want only the recent one", left)
	}
}
