package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsClient speaks graphql-transport-ws, as the apps do.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, e *env, token string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	init, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + token})
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: init}); err != nil {
		t.Fatal(err)
	}
	m, err := c.read(10 * time.Second)
	if err != nil {
		return nil, err
	}
	if m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	return c, nil
}

func (c *wsClient) read(d time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" || m.Type == "pong" {
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(context.Background(), c.conn, wsMsg{ID: id, Type: "subscribe", Payload: p}); err != nil {
		c.t.Fatal(err)
	}
}

const subQ = `subscription($id:ID!){ householdUpdated(id:$id){ householdId type household { label members { person { name } } } } }`

// A change made through one server reaches a subscriber connected to another
// server sharing the database: the event spine, not process memory.
func TestHouseholdUpdatedAcrossServers(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServer(t, a.DB)

	owner := a.owner(w.OwnerA.Phone)
	sub, err := dialWS(t, b, owner.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("1", subQ, map[string]any{"id": w.HA.ID})
	// Give the subscription a moment to register before the change.
	time.Sleep(300 * time.Millisecond)

	butler := a.staff(w.butlerX, w.Password)
	butler.ok(`mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { role } } }`,
		map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": map[string]any{"name": "王奶奶"}}}, nil)

	m, err := sub.read(15 * time.Second)
	if err != nil {
		t.Fatalf("no event: %v", err)
	}
	var next struct {
		Data struct {
			HouseholdUpdated struct {
				HouseholdID, Type string
				Household         struct {
					Members []struct{ Person struct{ Name string } }
				}
			}
		}
		Errors []any
	}
	_ = json.Unmarshal(m.Payload, &next)
	ev := next.Data.HouseholdUpdated
	if m.Type != "next" || ev.HouseholdID != w.HA.ID || ev.Type != "HOUSEHOLD_MEMBER_ADDED" || len(ev.Household.Members) != 2 {
		t.Fatalf("event = %s %s", m.Type, m.Payload)
	}

	// Another household's owner may not subscribe to it: same rule as the query.
	other := a.owner(w.OwnerB.Phone)
	sub2, err := dialWS(t, b, other.token)
	if err != nil {
		t.Fatal(err)
	}
	sub2.subscribe("1", subQ, map[string]any{"id": w.HA.ID})
	m, err = sub2.read(10 * time.Second)
	if err != nil || (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), "NOT_FOUND") || strings.Contains(string(m.Payload), "王建国") {
		t.Fatalf("foreign subscription: %s %s (%v)", m.Type, m.Payload, err)
	}
}

func TestWebsocketNeedsValidToken(t *testing.T) {
	e := newEnv(t)
	_, err := dialWS(t, e, "not-a-token")
	if err == nil {
		t.Fatal("a websocket with a bad token was accepted")
	}
}

func TestHealthMetricsAndLanguage(t *testing.T) {
	e := newEnv(t, metricsOn)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(e.URL + path)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	e.anon().fails("UNAUTHENTICATED", `{ me { kind } }`, nil)
	en := e.anon()
	en.lang = "en-US,en;q=0.9"
	r := en.fails("BAD_USER_INPUT", `mutation{ requestLoginCode(phone:"123"){ retryAfterSeconds } }`, nil)
	if !strings.Contains(r.Errors[0].Message, "mobile number") {
		t.Errorf("English message = %q", r.Errors[0].Message)
	}
	zh := e.anon().fails("BAD_USER_INPUT", `mutation{ requestLoginCode(phone:"123"){ retryAfterSeconds } }`, nil)
	if !strings.Contains(zh.Errors[0].Message, "手机号") {
		t.Errorf("Chinese message = %q", zh.Errors[0].Message)
	}
	// GET queries work too.
	resp, err := http.Get(e.URL + "/graphql?query=" + strings.ReplaceAll("{ __typename }", " ", "%20"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /graphql: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + e.App.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"qinqing_graphql_operations_total", `qinqing_graphql_errors_total{code="BAD_USER_INPUT"}`, `qinqing_graphql_errors_total{code="UNAUTHENTICATED"}`, "qinqing_websocket_connections"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
