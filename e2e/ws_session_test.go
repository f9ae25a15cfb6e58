package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/events"
)

// rawWS is a graphql-transport-ws client that does nothing on its own, so
// tests can break the protocol. A goroutine reads every message, so waiting
// for one never cancels a read (which would cut the connection).
type rawWS struct {
	t    testing.TB
	conn *websocket.Conn
	in   chan wsMsg
	err  error // why reading stopped; set before in is closed
	// countOnly skips decoding next messages (their payload is dropped).
	countOnly atomic.Bool
}

func dialRaw(t testing.TB, e *env) *rawWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 22)
	t.Cleanup(func() { _ = conn.CloseNow() })
	r := &rawWS{t: t, conn: conn, in: make(chan wsMsg, 256)}
	go func() {
		defer close(r.in)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				r.err = err
				return
			}
			if r.countOnly.Load() && bytes.Contains(b, []byte(`"type":"next"`)) {
				r.in <- wsMsg{Type: "next"} // benchmarks: spare the shared CPU
				continue
			}
			var m wsMsg
			if json.Unmarshal(b, &m) == nil && m.Type != "ping" {
				r.in <- m
			}
		}
	}()
	return r
}

func (r *rawWS) sendText(s string) {
	r.t.Helper()
	if err := r.conn.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		r.t.Fatalf("write %s: %v", s, err)
	}
}

func (r *rawWS) send(id, typ string, payload any) {
	r.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	r.sendText(string(b))
}

func (r *rawWS) initWith(token string) {
	r.t.Helper()
	r.send("", "connection_init", map[string]any{"Authorization": "Bearer " + token})
}

// ack initialises and waits for connection_ack.
func (r *rawWS) ack(token string) *rawWS {
	r.t.Helper()
	r.initWith(token)
	if m := r.next(10 * time.Second); m.Type != "connection_ack" {
		r.t.Fatalf("want connection_ack, got %+v", m)
	}
	return r
}

func (r *rawWS) subscribe(id, query string, vars map[string]any) {
	r.t.Helper()
	r.send(id, "subscribe", map[string]any{"query": query, "variables": vars})
}

// next is the next message; the test fails if none comes within d or the
// connection closes.
func (r *rawWS) next(d time.Duration) wsMsg {
	r.t.Helper()
	select {
	case m, ok := <-r.in:
		if !ok {
			r.t.Fatalf("connection closed: %v", r.err)
		}
		return m
	case <-time.After(d):
		r.t.Fatalf("no message within %v", d)
	}
	return wsMsg{}
}

// closed waits for the server to close the connection and returns the close
// code and reason with every message that arrived before it.
func (r *rawWS) closed(d time.Duration) (websocket.StatusCode, string, []wsMsg) {
	r.t.Helper()
	var got []wsMsg
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-r.in:
			if !ok {
				var ce websocket.CloseError
				if errors.As(r.err, &ce) {
					return ce.Code, ce.Reason, got
				}
				return -1, r.err.Error(), got
			}
			got = append(got, m)
		case <-deadline:
			r.t.Fatalf("not closed within %v; got %+v", d, got)
		}
	}
}

// live waits until subscription id delivers an event, publishing household
// h's events on the real bus until one arrives: a subscription is
// registered asynchronously, and the protocol has no message saying so.
func (r *rawWS) live(e *env, id string, h string) {
	r.t.Helper()
	r.liveBy(id, func() { publishHousehold(r.t, e, h) })
}

// liveBy is live for any subscription: poke publishes an event it delivers.
func (r *rawWS) liveBy(id string, poke func()) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		poke()
		select {
		case m, ok := <-r.in:
			if !ok {
				r.t.Fatalf("connection closed: %v", r.err)
			}
			if m.Type == "next" && m.ID == id {
				if refused(m) {
					r.t.Fatalf("subscription %s refused: %s", id, m.Payload)
				}
				// Drain events of the other publishes already on their way.
				for {
					select {
					case m2, ok := <-r.in:
						if ok && (m2.Type != "next" || m2.ID != id) {
							r.t.Fatalf("unexpected %+v", m2)
						}
						if !ok {
							r.t.Fatalf("connection closed: %v", r.err)
						}
						continue
					case <-time.After(300 * time.Millisecond):
					}
					return
				}
			}
			r.t.Fatalf("unexpected %+v", m)
		case <-time.After(250 * time.Millisecond):
		}
	}
	r.t.Fatal("subscription never delivered")
}

// refused reports a subscription's answer that refuses it: errors and no
// data (then complete follows).
func refused(m wsMsg) bool {
	var p struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	_ = json.Unmarshal(m.Payload, &p)
	return m.Type == "error" || (len(p.Errors) > 0 && (len(p.Data) == 0 || string(p.Data) == "null"))
}

func publishHousehold(t testing.TB, e *env, householdID string) {
	t.Helper()
	if err := e.App.Services.Events.Publish(context.Background(), events.Event{Type: "household.updated", HouseholdID: householdID, SubjectID: householdID}); err != nil {
		t.Fatal(err)
	}
}

const wsHouseholdSub = `subscription($id:ID!){ householdUpdated(id:$id){ householdId type } }`

// Every way of breaking graphql-transport-ws closes the socket with the
// code the protocol names for it, never 1000.
func TestWebsocketCloseCodes(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.WSInitTimeout = 300 * time.Millisecond })
	w := e.world()
	token := e.staff(w.butlerX, w.Password).token
	for _, tc := range []struct {
		name  string
		steps func(r *rawWS)
		want  websocket.StatusCode
	}{
		{"bad token", func(r *rawWS) { r.initWith("not-a-token") }, 4403},
		{"token of another signing key", func(r *rawWS) { r.initWith(token[:len(token)-4] + "AAAA") }, 4403},
		{"no connection_init in time", func(r *rawWS) {}, 4408},
		{"garbage", func(r *rawWS) { r.sendText("{not json") }, 4400},
		{"unknown message type", func(r *rawWS) { r.ack(token).send("", "hello", nil) }, 4400},
		{"subscribe without id", func(r *rawWS) {
			r.ack(token).send("", "subscribe", map[string]any{"query": "{ __typename }"})
		}, 4400},
		{"subscribe without payload", func(r *rawWS) { r.ack(token).send("1", "subscribe", nil) }, 4400},
		{"subscribe before connection_ack", func(r *rawWS) {
			r.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HA.ID})
		}, 4401},
		{"duplicate subscription id", func(r *rawWS) {
			r.ack(token)
			r.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HA.ID})
			r.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HA.ID})
		}, 4409},
		{"second connection_init", func(r *rawWS) { r.ack(token).initWith(token) }, 4429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, e)
			tc.steps(r)
			code, why, _ := r.closed(10 * time.Second)
			if code != tc.want {
				t.Fatalf("closed with %d %q, want %d", code, why, tc.want)
			}
		})
	}

	t.Run("ping, a query, and a client's normal close", func(t *testing.T) {
		r := dialRaw(t, e).ack(token)
		r.send("", "ping", nil)
		if m := r.next(5 * time.Second); m.Type != "pong" {
			t.Fatalf("want pong, got %+v", m)
		}
		r.send("q", "subscribe", map[string]any{"query": "{ me { kind } }"})
		if m := r.next(5 * time.Second); m.Type != "next" || m.ID != "q" || !strings.Contains(string(m.Payload), "STAFF") {
			t.Fatalf("want next, got %+v", m)
		}
		if m := r.next(5 * time.Second); m.Type != "complete" || m.ID != "q" {
			t.Fatalf("want complete, got %+v", m)
		}
		// An invalid operation is answered with error, and the socket stays.
		r.send("v", "subscribe", map[string]any{"query": "{ nope }"})
		if m := r.next(5 * time.Second); m.Type != "error" || m.ID != "v" {
			t.Fatalf("want error, got %+v", m)
		}
		if err := r.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// The connections gauge counts accepted sockets only: refused ones never
// touch it, so it never goes below zero, and it returns to zero when all
// close.
func TestWebsocketGaugeCountsAcceptedConnections(t *testing.T) {
	e := newEnv(t, metricsOn, func(c *config.Config) { c.WSInitTimeout = 300 * time.Millisecond })
	w := e.world()
	token := e.staff(w.butlerX, w.Password).token
	waitGauge := func(want int) {
		t.Helper()
		var got int
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got = wsGauge(t, e); got == want {
				return
			}
			if got < 0 {
				t.Fatalf("gauge went negative: %d", got)
			}
		}
		t.Fatalf("gauge = %d, want %d", got, want)
	}
	for _, refuse := range []func(r *rawWS){
		func(r *rawWS) { r.initWith("bad") },
		func(r *rawWS) {},
		func(r *rawWS) { r.subscribe("1", "{ me { kind } }", nil) },
		func(r *rawWS) { r.sendText("x") },
	} {
		r := dialRaw(t, e)
		refuse(r)
		r.closed(10 * time.Second)
		if g := wsGauge(t, e); g != 0 {
			t.Fatalf("gauge = %d after a refused socket", g)
		}
	}
	a, b := dialRaw(t, e).ack(token), dialRaw(t, e).ack(token)
	waitGauge(2)
	b.initWith(token) // 4429: a failure after acceptance is counted down once
	b.closed(10 * time.Second)
	waitGauge(1)
	_ = a.conn.Close(websocket.StatusNormalClosure, "")
	waitGauge(0)
}

func wsGauge(t testing.TB, e *env) int {
	t.Helper()
	resp, err := http.Get("http://" + e.App.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "qinqing_websocket_connections "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	t.Fatal("no websocket gauge in /metrics")
	return 0
}

// One client may not hold unbounded subscriptions: past the per-connection
// or per-user limit a subscription is refused with RATE_LIMITED and the
// socket stays; past the per-user connection limit the socket is closed.
func TestWebsocketLimits(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.WSSubsPerConnection, c.WSSubsPerUser, c.WSConnectionsPerUser = 2, 3, 2
	})
	w := e.world()
	token := e.staff(w.butlerX, w.Password).token
	sub := func(r *rawWS, id string) { r.subscribe(id, wsHouseholdSub, map[string]any{"id": w.HA.ID}) }
	// ping/pong marks the point by which earlier messages were handled.
	expect := func(r *rawWS, want ...string) {
		t.Helper()
		r.send("", "ping", nil)
		var got []string
		for {
			m := r.next(10 * time.Second)
			if m.Type == "pong" {
				break
			}
			code := ""
			if m.Type == "error" {
				var errs []struct{ Extensions struct{ Code string } }
				_ = json.Unmarshal(m.Payload, &errs)
				if len(errs) > 0 {
					code = errs[0].Extensions.Code
				}
			}
			got = append(got, m.ID+":"+m.Type+":"+code)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	one := dialRaw(t, e).ack(token)
	sub(one, "1")
	sub(one, "2")
	sub(one, "3")
	expect(one, "3:error:RATE_LIMITED") // per connection

	two := dialRaw(t, e).ack(token)
	sub(two, "a")
	sub(two, "b")
	expect(two, "b:error:RATE_LIMITED") // per user: 2 + 1

	// A finished operation gives its slot back (freed a moment after the
	// client's complete: retry until then).
	one.send("1", "complete", nil)
	for deadline := time.Now().Add(10 * time.Second); ; {
		two.send("q", "subscribe", map[string]any{"query": "{ me { kind } }"})
		m := two.next(10 * time.Second)
		if m.Type == "next" && m.ID == "q" {
			if m := two.next(10 * time.Second); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("want complete, got %+v", m)
			}
			break
		}
		if m.Type != "error" || !time.Now().Before(deadline) {
			t.Fatalf("a slot was not given back: %+v", m)
		}
	}
	sub(two, "c") // the freed slot: 3 of 3
	sub(two, "d")
	expect(two, "d:error:RATE_LIMITED")

	three := dialRaw(t, e)
	three.initWith(token)
	code, why, _ := three.closed(10 * time.Second)
	if code != 4429 || !strings.Contains(why, "connections") {
		t.Fatalf("third connection closed with %d %q, want 4429", code, why)
	}
	// Both first sockets are still up.
	expect(one)
	expect(two)
}
