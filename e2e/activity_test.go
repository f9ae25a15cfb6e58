package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

const actEventFields = `id title status place capacity maxPartySize placesTaken placesLeft waitingCount signUpOpen posterUrl audience
  buildings { id } mySignUps { id status partySize waitingPosition checkInCode }`

const actSignUpFields = `id status partySize waitingPosition checkInCode checkedIn checkedInAt household { id } event { id placesTaken waitingCount }`

type actEventView struct {
	ID, Title, Status, Place                        string
	Capacity, MaxPartySize, PlacesTaken, PlacesLeft int
	WaitingCount                                    int
	SignUpOpen                                      bool
	PosterURL                                       *string
	Audience                                        []string
	Buildings                                       []struct{ ID string }
	MySignUps                                       []actSignUpView
}

type actSignUpView struct {
	ID, Status      string
	PartySize       int
	WaitingPosition *int
	CheckInCode     *string
	CheckedIn       bool
	CheckedInAt     *string
	Household       struct{ ID string }
	Event           struct {
		ID                        string
		PlacesTaken, WaitingCount int
	}
}

// actDecode decodes one root field of a successful answer.
func actDecode[T any](t *testing.T, r *gqlResponse, field string) T {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(m[field], &out); err != nil {
		t.Fatalf("%s: %v (%s)", field, err, m[field])
	}
	return out
}

// actResident is a resident's client with an access token minted with
// the server's own key: a test that needs many residents at once skips the
// SMS login (limited per client address), not the API.
func (e *env) actResident(personID string) *client {
	e.t.Helper()
	tokens, err := auth.NewTokens([]byte(e.cfg.JWTSecret), e.cfg.AccessTTL, e.Clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := tokens.Issue(auth.KindPerson, personID, mongo.NewID())
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, token: tok}
}

const (
	actCreateQ     = `mutation($in:CreateEventInput!){ createEvent(input:$in){ ` + actEventFields + ` } }`
	actPublishQ    = `mutation($id:ID!){ publishEvent(id:$id){ ` + actEventFields + ` } }`
	actSignUpQ     = `mutation($e:ID!,$h:ID!,$n:Int!){ signUpForEvent(eventId:$e, householdId:$h, partySize:$n){ ` + actSignUpFields + ` } }`
	actCancelQ     = `mutation($e:ID!,$h:ID!){ cancelEventSignUp(eventId:$e, householdId:$h){ ` + actSignUpFields + ` } }`
	actCheckInQ    = `mutation($e:ID!,$c:String!){ checkInToEvent(eventId:$e, code:$c){ ` + actSignUpFields + ` } }`
	actEventQ      = `query($id:ID!){ event(id:$id){ ` + actEventFields + ` } }`
	actMineQ       = `{ myEventSignUps { edges { node { ` + actSignUpFields + ` } } } }`
	actFeedbackQ   = `mutation($e:ID!,$h:ID!,$r:Int!,$c:String,$p:[Upload!]){ submitEventFeedback(eventId:$e, householdId:$h, rating:$r, comment:$c, photos:$p){ id rating comment photos household { id } } }`
	actAttendanceQ = `query($e:ID!){ eventAttendance(eventId:$e){ confirmedHouseholds confirmedPeople checkedInHouseholds checkedInPeople
  noShowHouseholds waitingHouseholds feedbackCount meanRating ratings { rating count } noShows { household { id } }
  waitingList { waitingPosition household { id } } feedback { rating comment photos household { id } } } }`
)

type actAttendanceView struct {
	ConfirmedHouseholds, ConfirmedPeople, CheckedInHouseholds, CheckedInPeople int
	NoShowHouseholds, WaitingHouseholds, FeedbackCount                         int
	MeanRating                                                                 *float64
	Ratings                                                                    []struct{ Rating, Count int }
	NoShows                                                                    []struct{ Household struct{ ID string } }
	WaitingList                                                                []struct {
		WaitingPosition int
		Household       struct{ ID string }
	}
	Feedback []struct {
		Rating    int
		Comment   string
		Photos    []string
		Household struct{ ID string }
	}
}

// actEventInput is a children's class in community on 2026-11-28 09:00-11:00
// (Shanghai); sign-ups close on the 27th at 12:00.
func actEventInput(communityID string, capacity, maxParty int) map[string]any {
	return map[string]any{"communityId": communityID, "title": "亲子灯笼手工课", "description": "请家长陪同，材料由物业准备",
		"place": "会所二楼活动室", "startsAt": "2026-11-28T09:00:00+08:00", "endsAt": "2026-11-28T11:00:00+08:00",
		"signUpDeadline": "2026-11-27T12:00:00+08:00", "capacity": capacity, "maxPartySize": maxParty, "audience": []string{"CHILDREN", "FAMILIES"}}
}

// actNotices are the EVENT_REMINDER notices of one kind ("published",
// "promoted", "feedback"...) about an event in a client's inbox.
func actNotices(c *client, eventID, what string) []string {
	var titles []string
	for _, ed := range c.inbox().Notifications.Edges {
		data := map[string]string{}
		for _, kv := range ed.Node.Data {
			data[kv.Key] = kv.Value
		}
		if ed.Node.Kind == "EVENT_REMINDER" && data["eventId"] == eventID && data["notice"] == what {
			titles = append(titles, ed.Node.Title+"|"+ed.Node.Body)
		}
	}
	return titles
}

// One event from the poster to the feedback, through the API: staff create
// and publish it (its residents are told; owners cannot create events),
// owners sign up until the places are taken and then wait in line, a
// cancellation moves the first waiting household up and its inbox says so,
// staff check people in at the door once, participants give feedback, and
// staff read the attendance. Residents and staff of community Y see none
// of it and can do none of it.
func TestCommunityEventThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	var butler, supY, eng, ownerA, ownerB, ownerC, ownerY *client
	// Access tokens live 15 minutes: everyone signs in again when the
	// clock jumps days ahead.
	signIn := func() {
		butler, supY, eng = e.staff(w.butlerX, w.Password), e.staff(w.supervisorY, w.Password), e.staff(w.engineerX, w.Password)
		ownerA, ownerB, ownerC, ownerY = e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner("13900000003"), e.owner(w.OwnerY.Phone)
	}
	signIn()

	// Butlers and supervisors of X create it; not owners, not engineers,
	// not staff of Y.
	in := actEventInput(w.X.ID, 4, 3)
	ownerA.fails("FORBIDDEN", actCreateQ, map[string]any{"in": in})
	eng.fails("FORBIDDEN", actCreateQ, map[string]any{"in": in})
	supY.fails("NOT_FOUND", actCreateQ, map[string]any{"in": in})
	bad := actEventInput(w.X.ID, 4, 5)
	if r := butler.fails("BAD_USER_INPUT", actCreateQ, map[string]any{"in": bad}); r.field() != "input.maxPartySize" {
		t.Fatalf("field %q", r.field())
	}
	in["poster"] = nil
	ev := actDecode[actEventView](t, butler.multipart(actCreateQ, map[string]any{"in": in}, map[string][]byte{"variables.in.poster": pngBytes}), "createEvent")
	if ev.Status != "DRAFT" || ev.PosterURL == nil || len(ev.Buildings) != 0 || len(ev.Audience) != 2 || ev.Capacity != 4 {
		t.Fatalf("created %+v", ev)
	}
	id := map[string]any{"id": ev.ID}
	ownerA.fails("NOT_FOUND", actEventQ, id) // a draft is for staff only
	pub := actDecode[actEventView](t, butler.do(actPublishQ, id), "publishEvent")
	if pub.Status != "PUBLISHED" || !pub.SignUpOpen || pub.PlacesLeft != 4 {
		t.Fatalf("published %+v", pub)
	}
	butler.fails("CONFLICT", actPublishQ, id)
	for name, c := range map[string]*client{"A": ownerA, "C": ownerC, "Y": ownerY} {
		want := 1
		if c == ownerY {
			want = 0
		}
		if got := actNotices(c, ev.ID, "published"); len(got) != want || (want == 1 && !strings.HasPrefix(got[0], "活动提醒：新活动「亲子灯笼手工课」|")) {
			t.Fatalf("%s's new event notices: %q", name, got)
		}
	}
	// Residents of Y neither see it nor sign up; the poster is not theirs.
	ownerY.fails("NOT_FOUND", actEventQ, id)
	ownerY.fails("NOT_FOUND", `query($c:ID!){ events(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	ownerY.fails("NOT_FOUND", actSignUpQ, map[string]any{"e": ev.ID, "h": w.HY.ID, "n": 1})
	if status, _, _ := ownerA.get(*ev.PosterURL); status != 200 {
		t.Fatalf("owner A cannot see the poster: %d", status)
	}
	if status, _, _ := ownerY.get(*ev.PosterURL); status != 404 {
		t.Fatalf("owner Y sees the poster: %d", status)
	}
	var list struct {
		Events struct {
			TotalCount int
			Edges      []struct{ Node actEventView }
		}
	}
	ownerC.ok(`query($c:ID!){ events(communityId:$c, status: PUBLISHED){ totalCount edges { node { `+actEventFields+` } } } }`, map[string]any{"c": w.X.ID}, &list)
	if list.Events.TotalCount != 1 || list.Events.Edges[0].Node.ID != ev.ID {
		t.Fatalf("owner C's events %+v", list)
	}

	// A takes 3 of the 4 places; B (2) and C (3) do not fit the last one
	// and wait in line.
	sign := func(c *client, h string, n int) actSignUpView {
		t.Helper()
		return actDecode[actSignUpView](t, c.do(actSignUpQ, map[string]any{"e": ev.ID, "h": h, "n": n}), "signUpForEvent")
	}
	ownerA.fails("BAD_USER_INPUT", actSignUpQ, map[string]any{"e": ev.ID, "h": w.HA.ID, "n": 4})
	ownerA.fails("NOT_FOUND", actSignUpQ, map[string]any{"e": ev.ID, "h": w.HB.ID, "n": 1})
	a := sign(ownerA, w.HA.ID, 3)
	if a.Status != "CONFIRMED" || a.CheckInCode == nil || len(*a.CheckInCode) != 10 || a.Event.PlacesTaken != 3 {
		t.Fatalf("A: %+v", a)
	}
	if b := sign(ownerB, w.HB.ID, 2); b.Status != "WAITING" || *b.WaitingPosition != 1 || b.CheckInCode != nil {
		t.Fatalf("B: %+v", b)
	}
	if c := sign(ownerC, w.HC.ID, 3); c.Status != "WAITING" || *c.WaitingPosition != 2 || c.Event.WaitingCount != 2 {
		t.Fatalf("C: %+v", c)
	}
	ownerB.fails("CONFLICT", actSignUpQ, map[string]any{"e": ev.ID, "h": w.HB.ID, "n": 1})

	// A cancels: B, first in line, moves up into 2 of the 4 places and
	// finds the notice in its inbox; C (3) does not fit the 2 left and is
	// now first in line.
	if x := actDecode[actSignUpView](t, ownerA.do(actCancelQ, map[string]any{"e": ev.ID, "h": w.HA.ID}), "cancelEventSignUp"); x.Status != "CANCELLED" {
		t.Fatalf("A cancelled: %+v", x)
	}
	mine := func(c *client) actSignUpView {
		t.Helper()
		var out struct {
			MyEventSignUps struct {
				Edges []struct{ Node actSignUpView }
			}
		}
		c.ok(actMineQ, nil, &out)
		if len(out.MyEventSignUps.Edges) != 1 {
			t.Fatalf("my sign-ups %+v", out)
		}
		return out.MyEventSignUps.Edges[0].Node
	}
	b := mine(ownerB)
	if b.Status != "CONFIRMED" || b.CheckInCode == nil || b.WaitingPosition != nil {
		t.Fatalf("B after A cancelled: %+v", b)
	}
	if got := actNotices(ownerB, ev.ID, "promoted"); len(got) != 1 || !strings.HasPrefix(got[0], "活动提醒：候补成功「亲子灯笼手工课」|") ||
		!strings.Contains(got[0], "已从候补转为正式报名") {
		t.Fatalf("B's promotion notices: %q", got)
	}
	if c := mine(ownerC); c.Status != "WAITING" || *c.WaitingPosition != 1 || len(actNotices(ownerC, ev.ID, "promoted")) != 0 {
		t.Fatalf("C after A cancelled: %+v", c)
	}
	// A comes back with one person: behind C in line, but C does not fit
	// the places left and A does, so A moves up past C.
	if a = sign(ownerA, w.HA.ID, 1); a.Status != "CONFIRMED" {
		t.Fatalf("A again: %+v", a)
	}

	// At the door, from 08:30 on the day: staff of X only, once per code.
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 11, 28, 8, 30, 0, 0, shanghai))
	signIn()
	b = mine(ownerB)
	code := map[string]any{"e": ev.ID, "c": *b.CheckInCode}
	supY.fails("NOT_FOUND", actCheckInQ, code)
	ownerB.fails("FORBIDDEN", actCheckInQ, code)
	butler.fails("NOT_FOUND", actCheckInQ, map[string]any{"e": ev.ID, "c": "ZZZZZZZZZZ"})
	in2 := actDecode[actSignUpView](t, butler.do(actCheckInQ, code), "checkInToEvent")
	if !in2.CheckedIn || in2.Household.ID != w.HB.ID || in2.CheckInCode != nil {
		t.Fatalf("checked in %+v", in2)
	}
	if r := eng.fails("CONFLICT", actCheckInQ, code); !strings.Contains(r.Errors[0].Message, "已于 2026-11-28 08:30 签到") {
		t.Fatalf("second scan says %q", r.Errors[0].Message)
	}

	// After the event: Tick asks those who came for feedback; only they
	// may give it, once per household; staff see attendance and ratings.
	e.Clock.Set(time.Date(2026, 11, 28, 11, 30, 0, 0, shanghai))
	signIn()
	if err := e.App.Services.Activity.Tick(context.Background(), e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if len(actNotices(ownerB, ev.ID, "feedback")) != 1 || len(actNotices(ownerA, ev.ID, "feedback")) != 0 {
		t.Fatalf("feedback asks: B %d A %d", len(actNotices(ownerB, ev.ID, "feedback")), len(actNotices(ownerA, ev.ID, "feedback")))
	}
	fb := map[string]any{"e": ev.ID, "h": w.HB.ID, "r": 5, "c": "孩子做了一盏兔子灯，非常开心", "p": []any{nil}}
	r := ownerB.multipart(actFeedbackQ, fb, map[string][]byte{"variables.p.0": pngBytes})
	got := actDecode[struct {
		Rating int
		Photos []string
	}](t, r, "submitEventFeedback")
	if got.Rating != 5 || len(got.Photos) != 1 {
		t.Fatalf("feedback %+v", got)
	}
	delete(fb, "p")
	ownerB.fails("CONFLICT", actFeedbackQ, fb)
	ownerA.fails("FORBIDDEN", actFeedbackQ, map[string]any{"e": ev.ID, "h": w.HA.ID, "r": 2})
	ownerY.fails("NOT_FOUND", actFeedbackQ, map[string]any{"e": ev.ID, "h": w.HY.ID, "r": 2})
	if status, _, _ := butler.get(got.Photos[0]); status != 200 {
		t.Fatalf("the butler cannot see the feedback photo: %d", status)
	}
	if status, _, _ := ownerA.get(got.Photos[0]); status != 404 {
		t.Fatalf("another household sees the feedback photo: %d", status)
	}

	ownerA.fails("FORBIDDEN", actAttendanceQ, map[string]any{"e": ev.ID})
	supY.fails("NOT_FOUND", actAttendanceQ, map[string]any{"e": ev.ID})
	att := actDecode[actAttendanceView](t, butler.do(actAttendanceQ, map[string]any{"e": ev.ID}), "eventAttendance")
	if att.ConfirmedHouseholds != 2 || att.ConfirmedPeople != 3 || att.CheckedInHouseholds != 1 || att.CheckedInPeople != 2 ||
		att.NoShowHouseholds != 1 || att.NoShows[0].Household.ID != w.HA.ID || att.WaitingHouseholds != 1 ||
		att.WaitingList[0].Household.ID != w.HC.ID || att.WaitingList[0].WaitingPosition != 1 || att.FeedbackCount != 1 ||
		att.MeanRating == nil || *att.MeanRating != 5 || att.Ratings[4].Count != 1 || att.Feedback[0].Household.ID != w.HB.ID {
		t.Fatalf("attendance %+v", att)
	}
	if st := actDecode[actEventView](t, butler.do(actEventQ, id), "event"); st.Status != "ENDED" || st.SignUpOpen {
		t.Fatalf("after the event %+v", st)
	}
	attended, expected, err := e.App.Services.Activity.AttendanceIn(context.Background(), w.X.ID,
		time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai), time.Date(2026, 11, 30, 0, 0, 0, 0, shanghai))
	if err != nil || attended != 1 || expected != 2 {
		t.Fatalf("AttendanceIn: %d of %d, %v", attended, expected, err)
	}
	// The same figures are the community's event attendance KPI.
	var k struct {
		ServiceKpis struct {
			EventAttendance struct {
				Numerator, Denominator int
				Available              bool
			}
		}
	}
	e.staff(w.supervisorX, w.Password).ok(`query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ eventAttendance { numerator denominator available } } }`,
		map[string]any{"c": w.X.ID, "f": "2026-11-23T00:00:00+08:00", "t": "2026-11-30T00:00:00+08:00"}, &k)
	if ea := k.ServiceKpis.EventAttendance; !ea.Available || ea.Numerator != 1 || ea.Denominator != 2 {
		t.Fatalf("serviceKpis event attendance %+v, want 1 of 2", ea)
	}
}

// 50 households sign up at once through the API for 20 places, in parties
// of 1 and 2: exactly 20 places are taken, and everyone else waits in line.
func TestFiftyConcurrentSignUpsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	s := e.App.Services
	type resident struct {
		h *household.Household
		c *client
	}
	var rs []resident
	for i := range 50 {
		h, err := s.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: w.XB1.ID, Unit: "2", Room: fmt.Sprint(1001 + i)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: h.ID, Role: access.Owner,
			Person: &household.PersonInput{Name: fmt.Sprintf("业主%d", i), Phone: fmt.Sprintf("1370000%04d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, resident{h, e.actResident(m.PersonID)})
	}
	butler := e.staff(w.butlerX, w.Password)
	ev := actDecode[actEventView](t, butler.do(actCreateQ, map[string]any{"in": actEventInput(w.X.ID, 20, 2)}), "createEvent")
	butler.ok(actPublishQ, map[string]any{"id": ev.ID}, nil)

	var wg sync.WaitGroup
	answers := make([]*gqlResponse, len(rs))
	for i, r := range rs {
		wg.Go(func() { answers[i] = r.c.do(actSignUpQ, map[string]any{"e": ev.ID, "h": r.h.ID, "n": 1 + i%2}) })
	}
	wg.Wait()
	people, waiting := 0, 0
	for i, r := range answers {
		su := actDecode[actSignUpView](t, r, "signUpForEvent")
		switch su.Status {
		case "CONFIRMED":
			people += 1 + i%2
		case "WAITING":
			waiting++
		default:
			t.Fatalf("sign-up %d: %+v", i, su)
		}
	}
	// A sign-up answered WAITING may have moved up since (another request
	// walked the line): the event and the attendance have the last word.
	got := actDecode[actEventView](t, butler.do(actEventQ, map[string]any{"id": ev.ID}), "event")
	att := actDecode[actAttendanceView](t, butler.do(actAttendanceQ, map[string]any{"e": ev.ID}), "eventAttendance")
	if got.PlacesTaken != 20 || got.PlacesLeft != 0 || att.ConfirmedPeople != 20 || att.ConfirmedHouseholds+att.WaitingHouseholds != 50 ||
		got.WaitingCount != att.WaitingHouseholds || people > 20 {
		t.Fatalf("after 50 sign-ups: event %+v, attendance %d people in %d households, %d waiting; answers: %d people confirmed, %d waiting",
			got, att.ConfirmedPeople, att.ConfirmedHouseholds, att.WaitingHouseholds, people, waiting)
	}
	for i, wl := range att.WaitingList {
		if wl.WaitingPosition != i+1 {
			t.Fatalf("waiting list %+v", att.WaitingList)
		}
	}
}
