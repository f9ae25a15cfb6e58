package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/events"
)

// Each event that ends or changes the access decision a websocket keeps
// applies to it at once, whether the socket is on the server where the
// change is made or on another one sharing the database.

// A websocket keeps the access decision made when it opened; when the
// session behind it ends, on the socket's server or another one, the socket
// hears nothing more and is closed with 4403 so the client signs in again.
// Another session of the same person is untouched.
func TestWebsocketEndsWithItsSession(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServer(t, a.DB)
	for _, tc := range []struct {
		name   string
		revoke func(victim *client)
	}{
		{"logout", func(v *client) { v.ok(`mutation{ logout }`, nil, nil) }},
		{"refresh-token reuse revokes the session", func(v *client) {
			_, family := tokenClaims(t, v.token)
			publishControl(t, a, events.TypeSessionRevoked, family)
		}},
		{"every session of the staff member revoked", func(v *client) {
			staffID, _ := tokenClaims(t, v.token)
			if err := a.App.Services.Identity.RevokeSubject(context.Background(), staffID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		for _, at := range servers(a, b) {
			t.Run(tc.name+"/socket on "+at.name, func(t *testing.T) {
				victim, bystander := a.staff(w.butlerX, w.Password), a.staff(w.butlerX2, w.Password)
				ws := dialRaw(t, at.e).ack(victim.token)
				ws.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HA.ID})
				ws.live(at.e, "1", w.HA.ID)
				other := dialRaw(t, at.e).ack(bystander.token)
				other.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HC.ID})
				other.live(at.e, "1", w.HC.ID)

				tc.revoke(victim)
				publishAfterChange(t, a, w.HA.ID)
				code, why, got := ws.closed(15 * time.Second)
				for _, m := range got {
					if m.Type == "next" && strings.Contains(string(m.Payload), afterChangeEnum) {
						t.Errorf("heard an event after the session ended: %s", m.Payload)
					}
				}
				if code != 4403 {
					t.Fatalf("closed with %d %q, want 4403", code, why)
				}
				publishHousehold(t, a, w.HC.ID)
				if m := other.next(10 * time.Second); m.Type != "next" {
					t.Fatalf("the other staff member's socket: %+v", m)
				}
			})
		}
	}
}

// tokenClaims reads an access token's subject and session family, as the
// identity service would know them when it revokes.
func tokenClaims(t testing.TB, token string) (subject, family string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Sub, Sid string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sub, c.Sid
}

func publishControl(t testing.TB, e *env, typ, subject string) {
	t.Helper()
	if err := e.App.Services.Events.Publish(context.Background(), events.Event{Type: typ, SubjectID: subject}); err != nil {
		t.Fatal(err)
	}
}

// An access token that expires while its websocket is open ends the socket
// at expiry (4403), even with no event to deliver, on the server that issued
// it and on another one.
func TestWebsocketEndsWhenItsTokenExpires(t *testing.T) {
	const ttl = 2 * time.Second
	short := func(c *config.Config) { c.AccessTTL = ttl }
	a := newEnv(t, short)
	w := a.world()
	b := startServer(t, a.DB, short)
	butler := a.staff(w.butlerX, w.Password)
	opened := time.Now()
	var socks []*rawWS
	for _, e := range []*env{a, b} {
		ws := dialRaw(t, e).ack(butler.token)
		ws.subscribe("1", wsHouseholdSub, map[string]any{"id": w.HA.ID})
		socks = append(socks, ws)
	}
	for i, ws := range socks {
		code, why, _ := ws.closed(15 * time.Second)
		if code != 4403 || !strings.Contains(why, "expired") {
			t.Fatalf("socket %d closed with %d %q, want 4403 for the expired token", i, code, why)
		}
	}
	// The test clock stands still, so the token was issued at dial time.
	if d := time.Since(opened); d < ttl-500*time.Millisecond {
		t.Fatalf("closed after %v, before the token expired", d)
	}
}

// Access that changes while a websocket is open applies to it at once, on
// the server where the change is made and on another one: the change
// publishes access.changed, the connection re-resolves its kept caller once,
// and even the event of the change itself is checked against the new
// decision. Access merely narrowed completes the subscription (the socket
// stays); a staff member deactivated can no longer be resolved and the
// socket is closed with 4403; a sensitive field the caller may no longer
// read is withheld from the next event as from a fresh query; access gained
// counts for the next subscription on the same socket.
func TestWebsocketAccessChangeAppliesAtOnce(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServer(t, a.DB)
	ps := newPeople(t, a, w)
	const notes = "高血压，每日服药"
	a.staff(w.supervisorX, w.Password).ok(`mutation($p:ID!,$in:CareProfileInput!){ updateCareProfile(personId:$p, input:$in){ id } }`,
		map[string]any{"p": w.OwnerA.ID, "in": map[string]any{"healthNotes": notes}}, nil)
	const sensitiveSub = `subscription($id:ID!){ householdUpdated(id:$id){ householdId type household { members { person { careProfile { sensitive { healthNotes } } } } } } }`
	const sensitiveQuery = `query($id:ID!){ household(id:$id){ members { person { careProfile { sensitive { healthNotes } } } } } }`
	for _, tc := range []struct {
		name   string
		viewer func() (c *client, subject string)
		watch  *household.Household // what the viewer subscribes to first
		query  string               // the subscription; wsHouseholdSub if empty
		change func(subject string)
		want   string // complete, closed, withheld or gained
	}{
		{"member removed from the household", func() (*client, string) { return ps.member(w.HA) },
			w.HA, "", func(p string) { ps.leave(w.HA, p) }, "complete"},
		{"member added to another household", func() (*client, string) { return ps.member(w.HB) },
			w.HB, "", func(p string) { ps.join(w.HA, p) }, "gained"},
		{"staff member moved to another community", func() (*client, string) {
			return ps.staff([]string{"BUTLER"}, w.X.ID, w.XB1.ID)
		}, w.HA, "", func(id string) {
			ps.scope(id, map[string]any{"communityIds": []string{w.Y.ID}, "buildingIds": []string{w.YB1.ID}})
		}, "complete"},
		{"staff member deactivated", func() (*client, string) { return ps.staff([]string{"SUPERVISOR"}, w.X.ID) },
			w.HA, "", func(id string) { ps.scope(id, map[string]any{"active": false}) }, "closed"},
		{"supervisor made butler of another building: sensitive fields withheld", func() (*client, string) {
			return ps.staff([]string{"SUPERVISOR"}, w.X.ID)
		}, w.HA, sensitiveSub, func(id string) {
			ps.scope(id, map[string]any{"roles": []string{"BUTLER"}, "buildingIds": []string{w.XB2.ID}})
		}, "withheld"},
	} {
		for _, at := range servers(a, b) {
			t.Run(tc.name+"/socket on "+at.name, func(t *testing.T) {
				v, subject := tc.viewer()
				query := tc.query
				if query == "" {
					query = wsHouseholdSub
				}
				if tc.want == "withheld" {
					if r := v.do(sensitiveQuery, map[string]any{"id": w.HA.ID}); !strings.Contains(string(r.Data), notes) {
						t.Fatalf("before the change the viewer should read the notes: %s %+v", r.Data, r.Errors)
					}
				}
				ws := dialRaw(t, at.e).ack(v.token)
				ws.subscribe("1", query, map[string]any{"id": tc.watch.ID})
				ws.live(at.e, "1", tc.watch.ID)
				tc.change(subject)
				// The event after the change has a type of its own: a probe of
				// live() published before the change may still be on its way
				// (on a loaded machine, past live()'s drain), and is rightly
				// judged on the old decision.
				publishAfterChange(t, a, tc.watch.ID)
				switch tc.want {
				case "closed":
					code, why, got := ws.closed(15 * time.Second)
					for _, m := range got {
						if strings.Contains(string(m.Payload), afterChangeEnum) {
							t.Fatalf("heard the event after the change: %s", m.Payload)
						}
					}
					if code != 4403 {
						t.Fatalf("closed with %d %q after %+v, want 4403 and nothing heard", code, why, got)
					}
					return
				case "complete":
					if m := ws.nextSkipping(15*time.Second, "OTHER"); m.Type != "complete" || m.ID != "1" {
						t.Fatalf("after the change: %s %s, want the subscription completed", m.Type, m.Payload)
					}
				case "withheld":
					m := ws.nextSkipping(15*time.Second, "OTHER")
					if m.Type != "next" || strings.Contains(string(m.Payload), notes) || !strings.Contains(string(m.Payload), "FORBIDDEN") {
						t.Fatalf("after the change: %s %s, want the event without the notes", m.Type, m.Payload)
					}
					if r := v.do(sensitiveQuery, map[string]any{"id": w.HA.ID}); strings.Contains(string(r.Data), notes) || r.code() != "FORBIDDEN" {
						t.Fatalf("a fresh query after the change: %s %+v", r.Data, r.Errors)
					}
				case "gained":
					// Every event after the change is decided on the new
					// memberships; once one has arrived, so is a new subscription.
					if m := ws.nextSkipping(15*time.Second, "OTHER"); m.Type != "next" || m.ID != "1" {
						t.Fatalf("after the change: %s %s", m.Type, m.Payload)
					}
					ws.subscribe("2", wsHouseholdSub, map[string]any{"id": w.HA.ID})
					ws.live(at.e, "2", w.HA.ID)
				}
				// The connection stays: the caller may still subscribe to what
				// they see.
				ws.send("", "ping", nil)
				if m := ws.next(5 * time.Second); m.Type != "pong" {
					t.Fatalf("want pong, got %+v", m)
				}
			})
		}
	}
}

// afterChange is the type of the event published after an access change: a
// real type (unknown ones all arrive as OTHER, like the probes) that none of
// the changes here publish. afterChangeEnum is how it arrives.
const afterChange, afterChangeEnum = "household_care.updated", "HOUSEHOLD_CARE_UPDATED"

func publishAfterChange(t testing.TB, e *env, householdID string) {
	t.Helper()
	if err := e.App.Services.Events.Publish(context.Background(), events.Event{Type: afterChange, HouseholdID: householdID, SubjectID: householdID}); err != nil {
		t.Fatal(err)
	}
}

// nextSkipping is next, passing over events of type skip (late probes).
func (r *rawWS) nextSkipping(d time.Duration, skip string) wsMsg {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := r.next(time.Until(deadline))
		if m.Type == "next" && strings.Contains(string(m.Payload), `"type":"`+skip+`"`) {
			continue
		}
		return m
	}
}
