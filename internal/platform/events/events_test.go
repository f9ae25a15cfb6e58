package events

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

const wait = 10 * time.Second

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// run starts b.Run, waits for Ready and stops it when the test ends. The
// returned func stops it early and waits until Run has returned.
func run(t *testing.T, b *Bus) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-b.Ready():
	case <-time.After(wait):
		t.Fatal("bus not ready")
	}
	return stop
}

func recv(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("channel closed while waiting for an event")
		}
		return e
	case <-time.After(wait):
		t.Fatal("timed out waiting for an event")
	}
	return Event{}
}

func expectClosed(t *testing.T, ch <-chan Event) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed")
		}
	}
}

func expectNothing(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", e)
		}
	case <-time.After(500 * time.Millisecond):
	}
}

func publish(t *testing.T, b *Bus, e Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
}

func TestPublishSubscribeInOrderWithFilter(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b := NewBus(db, testLog(t))
	all, unsubAll := b.Subscribe(nil, 100)
	defer unsubAll()
	repairs, unsubRepairs := b.Subscribe(func(e Event) bool { return e.Type == "repair.status_changed" }, 100)
	defer unsubRepairs()
	run(t, b)

	for i := range 10 {
		typ := "household.updated"
		if i%2 == 1 {
			typ = "repair.status_changed"
		}
		publish(t, b, Event{Type: typ, CommunityID: "c1", SubjectID: fmt.Sprint(i), ActorID: "u1", Data: map[string]any{"n": i}})
	}
	for i := range 10 {
		e := recv(t, all)
		if e.SubjectID != fmt.Sprint(i) {
			t.Fatalf("event %d: got subject %q", i, e.SubjectID)
		}
		if e.ID.IsZero() || e.At.IsZero() || e.CommunityID != "c1" || e.ActorID != "u1" {
			t.Fatalf("event %d not filled in: %+v", i, e)
		}
		if n, _ := e.Data["n"].(int64); int(n) != i {
			if n32, _ := e.Data["n"].(int32); int(n32) != i {
				t.Fatalf("event %d: data %v", i, e.Data)
			}
		}
	}
	for i := 1; i < 10; i += 2 {
		if e := recv(t, repairs); e.SubjectID != fmt.Sprint(i) || e.Type != "repair.status_changed" {
			t.Fatalf("filtered subscriber got %+v, want subject %d", e, i)
		}
	}
	expectNothing(t, repairs)
}

// secondProcess is another client of db's database, as a second server
// process would have.
func secondProcess(t *testing.T, db *mongo.DB) *mongo.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	other, err := mongo.Connect(ctx, mongo.TestURI(t), db.Name(), mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close(context.Background()) })
	return other
}

func TestTwoProcessesShareTheSpine(t *testing.T) {
	dbA := mongo.NewTestDB(t, mongo.Options{})
	dbB := secondProcess(t, dbA)
	a, b := NewBus(dbA, testLog(t)), NewBus(dbB, testLog(t))
	chA, _ := a.Subscribe(nil, 10)
	chB, _ := b.Subscribe(nil, 10)
	run(t, a)
	run(t, b)

	publish(t, a, Event{Type: "household.updated", SubjectID: "from-a"})
	publish(t, b, Event{Type: "household.updated", SubjectID: "from-b"})
	for _, ch := range []<-chan Event{chA, chB} {
		if e := recv(t, ch); e.SubjectID != "from-a" {
			t.Fatalf("first event %q, want from-a", e.SubjectID)
		}
		if e := recv(t, ch); e.SubjectID != "from-b" {
			t.Fatalf("second event %q, want from-b", e.SubjectID)
		}
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b := NewBus(db, testLog(t))
	slow, unsubSlow := b.Subscribe(nil, 1)
	fast, _ := b.Subscribe(nil, 100)
	run(t, b)

	const n = 50
	got := make(chan int, 1)
	go func() {
		c := 0
		for range fast {
			if c++; c == n {
				break
			}
		}
		got <- c
	}()
	for i := range n {
		publish(t, b, Event{Type: "x", SubjectID: fmt.Sprint(i)})
	}
	select {
	case c := <-got:
		if c != n {
			t.Fatalf("fast subscriber got %d of %d", c, n)
		}
	case <-time.After(wait):
		t.Fatal("fast subscriber did not get all events")
	}
	// The slow one holds exactly the first event, then its channel is closed.
	if e, ok := <-slow; !ok || e.SubjectID != "0" {
		t.Fatalf("slow subscriber: got %+v %v, want the first event", e, ok)
	}
	expectClosed(t, slow)
	unsubSlow() // unsubscribing a dropped subscriber is harmless
}

func TestUnsubscribe(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b := NewBus(db, testLog(t))
	ch, unsub := b.Subscribe(nil, 10)
	keep, _ := b.Subscribe(nil, 100)
	run(t, b)

	// Unsubscribe concurrently with delivery: the race detector and the
	// absence of a send-on-closed-channel panic are the assertions.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			publish(t, b, Event{Type: "x", SubjectID: fmt.Sprint(i)})
		}
	}()
	time.Sleep(20 * time.Millisecond)
	unsub()
	unsub()
	go unsub()
	expectClosed(t, ch)
	wg.Wait()
	for i := range 20 {
		if e := recv(t, keep); e.SubjectID != fmt.Sprint(i) {
			t.Fatalf("got %q want %d", e.SubjectID, i)
		}
	}
}

func TestRunEndClosesSubscribersAndRestartSkipsOldEvents(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b1 := NewBus(db, testLog(t))
	ch1, _ := b1.Subscribe(nil, 10)
	stop := run(t, b1)
	publish(t, b1, Event{Type: "x", SubjectID: "before"})
	if e := recv(t, ch1); e.SubjectID != "before" {
		t.Fatalf("got %q", e.SubjectID)
	}
	stop()
	expectClosed(t, ch1)
	late, unsubLate := b1.Subscribe(nil, 1)
	expectClosed(t, late)
	unsubLate()
	if err := b1.Run(context.Background()); err == nil {
		t.Fatal("second Run on one Bus should fail")
	}

	// A restarted process starts at the newest event, not at the beginning.
	b2 := NewBus(db, testLog(t))
	ch2, _ := b2.Subscribe(nil, 10)
	run(t, b2)
	publish(t, b2, Event{Type: "x", SubjectID: "after"})
	if e := recv(t, ch2); e.SubjectID != "after" {
		t.Fatalf("restarted bus got %q, want only events after its start", e.SubjectID)
	}
	expectNothing(t, ch2)
}

// gate is a slog handler that, the first time the tailer reports a dead
// cursor, tells the test and holds the tailer until the test lets it reopen.
type gate struct {
	slog.Handler
	*gateState
}

type gateState struct {
	once    sync.Once
	died    chan struct{}
	release chan struct{}
}

func (g gate) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "events: tailing cursor died" {
		g.once.Do(func() {
			g.died <- struct{}{}
			<-g.release
		})
	}
	return g.Handler.Handle(ctx, r)
}

func (g gate) WithAttrs(as []slog.Attr) slog.Handler {
	return gate{g.Handler.WithAttrs(as), g.gateState}
}

func TestKilledCursorLosesAndDuplicatesNothing(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	if db.Ferret {
		t.Skip("on FerretDB the spine is polled: there is no cursor to kill")
	}
	g := gate{testLog(t).Handler(), &gateState{died: make(chan struct{}, 1), release: make(chan struct{})}}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(g.release) }) }
	b := NewBus(db, slog.New(g))
	opened := make(chan int64, 10)
	b.onOpen = func(id int64) { opened <- id }
	ch, _ := b.Subscribe(nil, 100)
	run(t, b)
	t.Cleanup(release) // registered after run's stop, so it runs first and Run can return
	first := <-opened

	var want []string
	pub := func(e Event) {
		publish(t, b, e)
		want = append(want, e.SubjectID)
	}
	for i := range 5 {
		pub(Event{Type: "x", SubjectID: fmt.Sprint("live-", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := db.RunCommand(ctx, bson.D{{Key: "killCursors", Value: Collection}, {Key: "cursors", Value: bson.A{first}}}).Err()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.died:
	case <-time.After(wait):
		t.Fatal("tailer did not notice the killed cursor")
	}
	// The tailer is down. Publish meanwhile, including an event whose id is
	// older than the newest seen, as another process with a slightly earlier
	// id (same or previous second) would produce.
	for i := range 5 {
		pub(Event{Type: "x", SubjectID: fmt.Sprint("gap-", i)})
	}
	pub(Event{ID: bson.NewObjectIDFromTimestamp(time.Now().Add(-2 * time.Second)), Type: "x", SubjectID: "older-id"})
	release()

	select {
	case id := <-opened:
		if id == first {
			t.Fatal("reopened the same cursor id")
		}
	case <-time.After(wait):
		t.Fatal("tailer did not reopen")
	}
	pub(Event{Type: "x", SubjectID: "after"})
	for i, w := range want {
		if e := recv(t, ch); e.SubjectID != w {
			t.Fatalf("event %d: got %q want %q", i, e.SubjectID, w)
		}
	}
	expectNothing(t, ch)
}

// Many handlers publish at once. Every event reaches a subscriber exactly
// once, including one that commits after newer ones were already delivered
// (FerretDB's tailable cursors skip such an event; see Bus.poll).
func TestConcurrentPublishersLoseAndDuplicateNothing(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b := NewBus(db, testLog(t))
	ch, _ := b.Subscribe(nil, 1000)
	run(t, b)

	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				publish(t, b, Event{Type: "x", SubjectID: fmt.Sprint(w, "-", i)})
			}
		})
	}
	wg.Wait()
	// A late commit: its id is older than events already delivered.
	publish(t, b, Event{ID: bson.NewObjectIDFromTimestamp(time.Now().Add(-3 * time.Second)), Type: "x", SubjectID: "late"})

	got := map[string]int{}
	last := map[int]int{} // per writer, the last index seen: each writer's order holds
	for range writers*each + 1 {
		e := recv(t, ch)
		got[e.SubjectID]++
		var w, i int
		if _, err := fmt.Sscanf(e.SubjectID, "%d-%d", &w, &i); err == nil {
			if prev, ok := last[w]; ok && i < prev {
				t.Fatalf("writer %d: event %d after %d", w, i, prev)
			}
			last[w] = i
		}
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("%s delivered %d times", k, n)
		}
	}
	if len(got) != writers*each+1 || got["late"] != 1 {
		t.Fatalf("delivered %d distinct events, want %d (late: %d)", len(got), writers*each+1, got["late"])
	}
	expectNothing(t, ch)
}

// The FerretDB spine is trimmed to the last minutes, so a poll stays cheap
// however long the server has run.
func TestTrimDropsOldEventsOnly(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	b := NewBus(db, testLog(t))
	old := bson.NewObjectIDFromTimestamp(time.Now().Add(-time.Hour))
	publish(t, b, Event{ID: old, Type: "x", SubjectID: "old"})
	publish(t, b, Event{Type: "x", SubjectID: "new"})
	ctx := context.Background()
	if err := b.trim(ctx, time.Now().Add(-keep)); err != nil {
		t.Fatal(err)
	}
	var left []Event
	cur, err := db.Collection(Collection).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].SubjectID != "new" {
		t.Fatalf("after trim: %+v", left)
	}
}
