package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// collectionCommands counts the driver's commands per collection, so a test
// can tell the commands of a fan-out from the spine's own and from the
// server's background loops.
type collectionCommands struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *collectionCommands) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		coll, _ := e.Command.Index(0).Value().StringValueOK()
		c.mu.Lock()
		c.n[coll]++
		c.mu.Unlock()
	}}
}

// of reports the commands on the named collections since the last call.
func (c *collectionCommands) of(colls ...string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, k := range colls {
		if c.n[k] > 0 {
			out[k] = c.n[k]
		}
	}
	c.n = map[string]int{}
	return out
}

// What a subscriber's access decision and an event's payload are read
// from: none of them may be read once per subscriber per event.
var subscriberCollections = []string{"households", "memberships", "persons", "staff", "refresh_tokens", "notifications", "repair_requests", "communities", "buildings"}

// The apps select nested fields: what those load is shared by the event's
// subscribers too.
const nestedHouseholdSub = `subscription($id:ID!){ householdUpdated(id:$id){ householdId type
  household { label building { name } community { name } members { role person { name } } } } }`

// One event heard by many subscribers costs the same database commands as
// one heard by a single subscriber: access is decided from each
// connection's kept decision in memory, and the payload and what its nested
// fields load are read once per event for all of the process's subscribers.
// Proven for the household feed (many staff sockets on one household,
// selecting its building, community and members) and the inbox feed (one
// notification chunk for several residents).
func TestBroadcastCostsNoQueryPerSubscriber(t *testing.T) {
	cc := &collectionCommands{n: map[string]int{}}
	db := mongo.NewTestDB(t, mongo.Options{Monitor: cc.monitor()})
	e := startServer(t, db)
	w := e.world()

	const perStaff = 6
	var household []*rawWS
	for _, acct := range []string{w.butlerX, w.supervisorX} {
		tok := e.staff(acct, w.Password).token
		for i := 0; i < perStaff; i++ {
			ws := dialRaw(t, e).ack(tok)
			ws.subscribe("h", nestedHouseholdSub, map[string]any{"id": w.HA.ID})
			ws.live(e, "h", w.HA.ID)
			household = append(household, ws)
		}
	}
	var inbox []*rawWS
	owners := []struct {
		phone string
		id    string
	}{{"13900000001", w.OwnerA.ID}, {"13900000002", w.OwnerB.ID}}
	var recipients []notify.Recipient
	for _, o := range owners {
		tok := e.owner(o.phone).token
		for i := 0; i < 3; i++ {
			ws := dialRaw(t, e).ack(tok)
			ws.subscribe("n", `subscription{ notificationReceived{ id kind title } }`, nil)
			inbox = append(inbox, ws)
		}
		recipients = append(recipients, notify.Recipient{Kind: auth.KindPerson, ID: o.id, CommunityID: w.X.ID})
	}
	// Inbox subscriptions have no probe like live(): one notification
	// proves they are all listening before counting starts.
	send := func(key string) {
		t.Helper()
		_, err := e.App.Services.Notify.Send(context.Background(), notify.Message{Kind: notify.Announcement, Key: key, Recipients: recipients,
			Vars: map[string]any{"title": "停水通知", "text": "明日 9:00-12:00 停水"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	send("fanout-warmup")
	for _, ws := range inbox {
		if m := ws.next(20 * time.Second); m.Type != "next" {
			t.Fatalf("inbox subscriber: %+v", m)
		}
	}

	for round := 0; round < 3; round++ {
		cc.of() // forget what came before
		publishHousehold(t, e, w.HA.ID)
		for _, ws := range household {
			if m := ws.next(20 * time.Second); m.Type != "next" {
				t.Fatalf("household subscriber: %+v", m)
			}
		}
		got := cc.of(subscriberCollections...)
		for coll, n := range got {
			if n > 1 {
				t.Errorf("one household event to %d subscribers read %s %d times (%v); want each collection read at most once", len(household), coll, n, got)
			}
		}

		send(fmt.Sprintf("fanout-%d", round))
		for _, ws := range inbox {
			if m := ws.next(20 * time.Second); m.Type != "next" {
				t.Fatalf("inbox subscriber: %+v", m)
			}
		}
		got = cc.of(subscriberCollections...)
		// Send itself reads preferences and writes the chunk; the feed adds
		// one read of the chunk's entries, not one per subscriber.
		if got["notifications"] > 2 || got["persons"]+got["staff"]+got["refresh_tokens"]+got["memberships"] > 0 {
			t.Errorf("one notification chunk to %d subscribers cost %v; want the inbox read once (plus Send's own write)", len(inbox), got)
		}
	}
}
