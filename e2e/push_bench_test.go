package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"google.golang.org/api/option"

	"qinqing/internal/notify"
	"qinqing/internal/notify/notifytest"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// senderClock sums what the driver reports about every command: how many were
// sent and how long each took from being written to its reply being read.
// The sender stage runs its commands one after another, so the sum is the
// stage's time in the database.
type senderClock struct {
	commands, getMores atomic.Int64
	busy               atomic.Int64 // nanoseconds
	mu                 sync.Mutex
	byName             map[string]*cmdTime // for the log: which commands the time went to
}

type cmdTime struct {
	n int
	d time.Duration
}

func (c *senderClock) add(name string, d time.Duration) {
	c.busy.Add(int64(d))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil {
		c.byName = map[string]*cmdTime{}
	}
	t := c.byName[name]
	if t == nil {
		t = &cmdTime{}
		c.byName[name] = t
	}
	t.n++
	t.d += d
}

func (c *senderClock) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.byName))
	for k := range c.byName {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, k := range names {
		fmt.Fprintf(&sb, " %s %d×, %v;", k, c.byName[k].n, c.byName[k].d.Round(time.Millisecond))
	}
	return sb.String()
}

func (c *senderClock) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			switch e.CommandName {
			case "ping", "hello", "isMaster", "endSessions", "buildInfo":
				return
			case "getMore":
				c.getMores.Add(1)
			}
			c.commands.Add(1)
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { c.add(e.CommandName, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { c.add(e.CommandName, e.Duration) },
	}
}

func (c *senderClock) reset() {
	c.commands.Store(0)
	c.getMores.Store(0)
	c.busy.Store(0)
	c.mu.Lock()
	c.byName = nil
	c.mu.Unlock()
}

// BenchmarkOutboxSender is the push sender stage alone: N queued greetings
// (one per person, one Android phone each) drained by one outbox worker
// through the FCM channel to a local fake FCM, against a bare
// firebase-admin-go loop (SendEach in batches of 500, the same payload) to
// the same fake in the same run. It reports per message the worker's wall
// time split into time in the database (the driver's command durations)
// and time outside it, the bare loop's time, their ratio, database round
// trips per thousand messages (getMore included) and allocations per
// message of each (the fake FCM runs in this process and counts in both).
// N is QINQING_BENCH_MESSAGES (default 2,000).
func BenchmarkOutboxSender(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("QINQING_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	var clock senderClock
	db := mongo.NewTestDB(b, mongo.Options{Monitor: clock.monitor()})
	fake := notifytest.NewFakeFCM(b)
	fake.CountOnly()
	sa := notifytest.WriteServiceAccount(b, "qinqing-bench")
	noon := func() time.Time { return time.Date(2026, 9, 25, 4, 0, 0, 0, time.UTC) } // outside quiet hours
	devices := notify.NewDevices(db, noon)
	fcm, err := notify.NewFCM(ctx, notify.FCMConfig{CredentialsFile: sa, Endpoint: fake.URL}, devices, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: "qinqing-bench"}, option.WithCredentialsFile(sa), option.WithEndpoint(fake.URL+"/v1"))
	if err != nil {
		b.Fatal(err)
	}
	bare, err := app.Messaging(ctx)
	if err != nil {
		b.Fatal(err)
	}

	rs := make([]notify.Recipient, n)
	tokens := make([]string, n)
	docs := make([]any, n)
	for i := range rs {
		r := notify.Recipient{Kind: auth.KindPerson, ID: fmt.Sprintf("person-%06d", i), CommunityID: "c1"}
		rs[i] = r
		tokens[i] = "ok-" + r.ID + "-phone-0000000000"
		docs[i] = notify.Device{Token: tokens[i], UserKind: string(r.Kind), UserID: r.ID, Platform: "ANDROID", App: "OWNER", UpdatedAt: noon()}
	}
	if _, err := db.Collection("devices").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	// Both clients fetch their OAuth token and open their connections
	// before anything is timed.
	warm := notify.Outgoing{DeliveryID: "warm", NotificationID: "warm", RecipientKind: auth.KindPerson, RecipientID: rs[0].ID, Title: "预热", Body: "预热"}
	if res := fcm.Send(ctx, []notify.Outgoing{warm}); res[0].Status != notify.StatusSent {
		b.Fatalf("warm-up push: %+v", res[0])
	}
	if _, err := bareLoop(ctx, bare, tokens[:min(n, 500)]); err != nil {
		b.Fatal(err)
	}

	engine := notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: noon})
	outbox := notify.NewOutbox(db, notify.OutboxConfig{Senders: []notify.Sender{fcm}, Now: noon})
	var wall, inDB, bareTime time.Duration
	var commands, getMores, allocs, bareAllocs uint64
	var ms runtime.MemStats
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for _, col := range []string{"deliveries", "notifications", "delivery_claims"} {
			if _, err := db.Collection(col).DeleteMany(ctx, bson.D{}); err != nil {
				b.Fatal(err)
			}
		}
		msg := notify.Message{Kind: notify.FestivalGreeting, Key: fmt.Sprintf("festival:c1:bench:%d", i), Recipients: rs,
			Vars: map[string]any{"festival": "中秋节", "festivalEN": "Mid-Autumn Festival", "text": "月圆人团圆", "textEN": "Happy Mid-Autumn"}}
		if _, err := engine.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
		pushedBefore, _ := fake.Count()

		// The bare loop and the worker take turns, so load from other
		// processes on the machine falls on both alike.
		runtime.ReadMemStats(&ms)
		a0 := ms.Mallocs
		start := time.Now()
		sent, err := bareLoop(ctx, bare, tokens)
		bareT := time.Since(start)
		bareTime += bareT
		runtime.ReadMemStats(&ms)
		bareAllocs += ms.Mallocs - a0
		if err != nil || sent != n {
			b.Fatalf("bare loop sent %d of %d: %v", sent, n, err)
		}

		clock.reset()
		runtime.ReadMemStats(&ms)
		a0 = ms.Mallocs
		b.StartTimer()
		start = time.Now()
		handled := 0
		for {
			k, err := outbox.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
			handled += k
		}
		workerT := time.Since(start)
		wall += workerT
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		allocs += ms.Mallocs - a0
		inDB += time.Duration(clock.busy.Load())
		b.Logf("run %d: worker %v, bare loop %v; in the database:%s", i, workerT.Round(time.Millisecond), bareT.Round(time.Millisecond), clock.String())
		commands += uint64(clock.commands.Load())
		getMores += uint64(clock.getMores.Load())

		pushed, _ := fake.Count()
		if handled != n || pushed-pushedBefore != 2*n {
			b.Fatalf("worker handled %d of %d deliveries; FCM got %d pushes, want %d (bare and worker)", handled, n, pushed-pushedBefore, 2*n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	msgs := float64(n * b.N)
	outside := wall - inDB
	b.ReportMetric(float64(wall.Nanoseconds())/msgs, "worker-ns/msg")
	b.ReportMetric(float64(inDB.Nanoseconds())/msgs, "db-ns/msg")
	b.ReportMetric(float64(outside.Nanoseconds())/msgs, "outside-db-ns/msg")
	b.ReportMetric(float64(bareTime.Nanoseconds())/msgs, "bare-ns/msg")
	b.ReportMetric(outside.Seconds()/bareTime.Seconds(), "outside/bare")
	b.ReportMetric(msgs/wall.Seconds(), "worker-msgs/s")
	b.ReportMetric(msgs/bareTime.Seconds(), "bare-msgs/s")
	b.ReportMetric(float64(commands)*1000/msgs, "db-roundtrips/1k-msgs")
	b.ReportMetric(float64(getMores)*1000/msgs, "getMores/1k-msgs")
	b.ReportMetric(float64(allocs)/msgs, "worker-allocs/msg")
	b.ReportMetric(float64(bareAllocs)/msgs, "bare-allocs/msg")
}

// bareLoop is the baseline: what any firebase-admin-go program does to push
// one message to each token, with the payload the FCM channel sends.
func bareLoop(ctx context.Context, client *messaging.Client, tokens []string) (int, error) {
	sent := 0
	for start := 0; start < len(tokens); start += 500 {
		chunk := tokens[start:min(start+500, len(tokens))]
		msgs := make([]*messaging.Message, len(chunk))
		for i, tok := range chunk {
			msgs[i] = &messaging.Message{
				Token:        tok,
				Notification: &messaging.Notification{Title: "中秋节快乐", Body: "月圆人团圆"},
				Data:         map[string]string{"kind": string(notify.FestivalGreeting), "notificationId": tok},
				APNS:         &messaging.APNSConfig{Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Sound: "default"}}},
			}
		}
		br, err := client.SendEach(ctx, msgs)
		if err != nil {
			return sent, err
		}
		sent += br.SuccessCount
	}
	return sent, nil
}
