package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"qinqing/internal/household"
	"qinqing/internal/platform/events"
)

const (
	decisionSub   = `subscription($id:ID!){ householdUpdated(id:$id){ type household { ` + decisionShape + ` } } }`
	decisionQuery = `query($id:ID!){ household(id:$id){ ` + decisionShape + ` } }`
	// Fields whose answer depends on who asks: the household itself, its
	// members' phones, and health notes only its butler and the community's
	// supervisors may read.
	decisionShape = `id label members { role person { name phone careProfile { sensitive { healthNotes } } } }`
)

// decided is one subscription of one viewer to one household.
type decided struct {
	household string
	state     string // pending, live, refused, heard (the check event), ended
	got       wsMsg  // the first event, or the check event once heard
}

type decisionViewer struct {
	name   string
	c      *client
	change func() // nil: this viewer's access stays as it is
	ws     *rawWS
	subs   map[string]*decided
}

// handle files one message under the subscription it belongs to.
func (v *decisionViewer) handle(t *testing.T, m wsMsg) {
	t.Helper()
	s := v.subs[m.ID]
	if s == nil {
		t.Fatalf("%s: message for no subscription: %+v", v.name, m)
	}
	var p struct {
		Data struct{ HouseholdUpdated struct{ Type string } }
	}
	_ = json.Unmarshal(m.Payload, &p)
	check := m.Type == "next" && p.Data.HouseholdUpdated.Type == "HOUSEHOLD_CARE_UPDATED"
	switch {
	case s.state == "pending" && m.Type == "next" && refused(m):
		s.state = "refused"
	case s.state == "pending" && m.Type == "next":
		s.state, s.got = "live", m
	case s.state == "refused" && m.Type == "complete":
	case s.state == "live" && check:
		s.state, s.got = "heard", m
	case (s.state == "live" || s.state == "heard") && m.Type == "next":
		// Pokes, and the events of the changes themselves (members added
		// and removed), decided on whatever access held at their turn.
	case s.state == "live" && m.Type == "complete":
		s.state = "ended"
	default:
		t.Fatalf("%s, %s (%s): unexpected %s %s", v.name, s.household, s.state, m.Type, m.Payload)
	}
}

// answer is what one caller gets for one household: whether it is shown at
// all, the household as shown, and the errors by code and path inside it.
type answer struct {
	shown     bool
	household string
	errors    string
}

func (a answer) String() string {
	return fmt.Sprintf("shown=%v %s errors=[%s]", a.shown, a.household, a.errors)
}

func answerOf(payload []byte, field string) answer {
	var r struct {
		Data   map[string]json.RawMessage
		Errors []struct {
			Path       []any
			Extensions struct{ Code string }
		}
	}
	_ = json.Unmarshal(payload, &r)
	h := r.Data[field]
	if field == "householdUpdated" {
		var ev struct{ Household json.RawMessage }
		_ = json.Unmarshal(h, &ev)
		h = ev.Household
	}
	var errs []string
	for _, e := range r.Errors {
		var path []string
		for _, p := range e.Path {
			path = append(path, fmt.Sprint(p))
		}
		// An event's paths may or may not start at the subscription field.
		path = slices.DeleteFunc(path, func(p string) bool { return p == "householdUpdated" })
		errs = append(errs, e.Extensions.Code+"@"+strings.Join(path, "."))
	}
	slices.Sort(errs)
	return answer{shown: len(h) > 0 && string(h) != "null", household: string(h), errors: strings.Join(errs, " ")}
}

// The decision a websocket keeps never lets through what the same caller
// could not read with a fresh query, before or after their access changes:
// viewers of two communities and several roles (and some whose access is
// changed meanwhile) subscribe to four households on two servers; a
// subscription is refused exactly when the fresh household query fails; an
// event is heard exactly when the query, asked after the change, succeeds,
// and shows what the query shows, sensitive fields included.
func TestKeptDecisionAgreesWithFreshQuery(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServer(t, a.DB)
	ps := newPeople(t, a, w)
	a.staff(w.supervisorX, w.Password).ok(`mutation($p:ID!,$in:CareProfileInput!){ updateCareProfile(personId:$p, input:$in){ id } }`,
		map[string]any{"p": w.OwnerA.ID, "in": map[string]any{"healthNotes": "高血压，每日服药"}}, nil)
	households := map[string]*household.Household{"HA": w.HA, "HB": w.HB, "HC": w.HC, "HY": w.HY}
	names := []string{"HA", "HB", "HC", "HY"}

	var vs []*decisionViewer
	add := func(name string, c *client, change func()) {
		vs = append(vs, &decisionViewer{name: name, c: c, change: change, subs: map[string]*decided{}})
	}
	add("owner of HA", a.owner(w.OwnerA.Phone), nil)
	add("owner of HB", a.owner(w.OwnerB.Phone), nil)
	add("butler of XB1", a.staff(w.butlerX, w.Password), nil)
	add("supervisor of X", a.staff(w.supervisorX, w.Password), nil)
	c, _ := ps.staff([]string{"BUTLER"}, w.Y.ID, w.YB1.ID)
	add("butler in Y", c, nil)
	c, _ = ps.staff([]string{"CLEANER"}, w.X.ID)
	add("cleaner in X", c, nil)
	c, removed := ps.member(w.HA)
	add("member removed from HA", c, func() { ps.leave(w.HA, removed) })
	c, joined := ps.member(w.HB)
	add("member of HB added to HA", c, func() { ps.join(w.HA, joined) })
	c, moved := ps.staff([]string{"BUTLER"}, w.X.ID, w.XB1.ID)
	add("butler moved from X to Y", c, func() {
		ps.scope(moved, map[string]any{"communityIds": []string{w.Y.ID}, "buildingIds": []string{w.YB1.ID}})
	})
	c, demoted := ps.staff([]string{"SUPERVISOR"}, w.X.ID)
	add("supervisor made butler of XB2", c, func() {
		ps.scope(demoted, map[string]any{"roles": []string{"BUTLER"}, "buildingIds": []string{w.XB2.ID}})
	})

	fresh := func(v *decisionViewer, h string) answer {
		r := v.c.do(decisionQuery, map[string]any{"id": households[h].ID})
		raw, _ := json.Marshal(map[string]any{"data": r.Data, "errors": r.Errors})
		return answerOf(raw, "household")
	}
	publishAll := func(typ string) {
		for _, h := range names {
			if err := a.App.Services.Events.Publish(t.Context(), events.Event{Type: typ, HouseholdID: households[h].ID, SubjectID: households[h].ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// subscribe opens one subscription per (viewer, household) pair given and
	// pokes every household until each has answered: refused, or an event.
	subscribe := func(pairs map[*decisionViewer][]string, id func(h string) string) {
		t.Helper()
		var pending []*decided
		for v, hs := range pairs {
			for _, h := range hs {
				s := &decided{household: h, state: "pending"}
				v.subs[id(h)] = s
				pending = append(pending, s)
				v.ws.subscribe(id(h), decisionSub, map[string]any{"id": households[h].ID})
			}
		}
		for deadline := time.Now().Add(30 * time.Second); slices.ContainsFunc(pending, func(s *decided) bool { return s.state == "pending" }); {
			if time.Now().After(deadline) {
				t.Fatal("subscriptions never answered")
			}
			publishAll("household.ping")
			for _, v := range vs {
				for drained := false; !drained; {
					select {
					case m, ok := <-v.ws.in:
						if !ok {
							t.Fatalf("%s: connection closed: %v", v.name, v.ws.err)
						}
						v.handle(t, m)
					case <-time.After(100 * time.Millisecond):
						drained = true
					}
				}
			}
		}
	}
	check := func(what string, v *decisionViewer, h string, heard bool, got wsMsg, want answer) {
		t.Helper()
		if heard != want.shown {
			t.Errorf("%s, %s %s: heard=%v but a fresh query gives %v", v.name, h, what, heard, want)
			return
		}
		if heard {
			if ev := answerOf(got.Payload, "householdUpdated"); ev != want {
				t.Errorf("%s, %s %s: the event showed\n %v\nthe fresh query\n %v", v.name, h, what, ev, want)
			}
		}
	}

	// Before any change: refused exactly where the query fails.
	all := map[*decisionViewer][]string{}
	for i, v := range vs {
		v.ws = dialRaw(t, []*env{a, b}[i%2]).ack(v.c.token)
		all[v] = names
	}
	before := map[*decisionViewer]map[string]answer{}
	for _, v := range vs {
		before[v] = map[string]answer{}
		for _, h := range names {
			before[v][h] = fresh(v, h)
		}
	}
	subscribe(all, func(h string) string { return h })
	for _, v := range vs {
		for _, h := range names {
			s := v.subs[h]
			check("at subscribe time", v, h, s.state == "live", s.got, before[v][h])
		}
	}

	// The changes, then one event per household: heard exactly where the
	// query, asked now, succeeds.
	for _, v := range vs {
		if v.change != nil {
			v.change()
		}
	}
	publishAll("household_care.updated") // a real type none of the changes publish; pokes arrive as OTHER
	for _, v := range vs {
		for slices.ContainsFunc(names, func(h string) bool { return v.subs[h].state == "live" }) {
			v.handle(t, v.ws.next(15*time.Second))
		}
	}
	after := map[*decisionViewer]map[string]answer{}
	again := map[*decisionViewer][]string{}
	for _, v := range vs {
		after[v] = map[string]answer{}
		for _, h := range names {
			after[v][h] = fresh(v, h)
			s := v.subs[h]
			if s.state == "refused" || s.state == "ended" {
				again[v] = append(again[v], h)
				continue
			}
			check("after the change", v, h, s.state == "heard", s.got, after[v][h])
		}
	}

	// Where the socket no longer listens, a new subscription on it is
	// decided as the query is now: access gained counts at once too.
	subscribe(again, func(h string) string { return h + "/again" })
	for v, hs := range again {
		for _, h := range hs {
			s := v.subs[h+"/again"]
			check("subscribing again", v, h, s.state == "live", s.got, after[v][h])
		}
	}
}
