package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Joining a household needs the person's consent (docs/ACCESS.md): the
// attacks below are an owner (or staff of another community) pulling a
// stranger into a flat to read their phone and care archive.

const (
	invAdd = `mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){
		membership { role person { id name phone } }
		invitation { id name maskedPhone role status createdAt expiresAt inviter { name role } household { id label } } } }`
	invMine    = `{ myInvitations { id communityName buildingName unit room label role inviter { name role } expiresAt } }`
	invList    = `query($h:ID!){ householdInvitations(householdId:$h){ id name status } }`
	invAccept  = `mutation($id:ID!){ acceptHouseholdInvitation(id:$id){ role household { id } person { id name } } }`
	invDecline = `mutation($id:ID!){ declineHouseholdInvitation(id:$id){ id } }`
	invCancel  = `mutation($id:ID!){ cancelHouseholdInvitation(id:$id){ id status } }`
	// What the stranger's data looks like to a caller who may read it.
	invPerson = `query($id:ID!){ person(id:$id){ name phone careProfile { hobbies sensitive { healthNotes } } } }`
)

type invAdded struct {
	AddHouseholdMember struct {
		Membership *struct {
			Role   string
			Person struct{ ID, Name string }
		}
		Invitation *struct{ ID, Status, MaskedPhone string }
	}
}

type invMineOut struct {
	MyInvitations []struct {
		ID, CommunityName, BuildingName, Unit, Room, Label, Role string
		Inviter                                                  struct{ Name, Role string }
	}
}

// rawCall posts a GraphQL request and returns the response body as sent,
// so a test can search everything the caller got back.
func rawCall(t *testing.T, c *client, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func memberNames(t *testing.T, c *client, householdID string) []string {
	t.Helper()
	var out struct {
		Household struct {
			Members []struct{ Person struct{ Name string } }
		}
	}
	c.ok(`query($id:ID!){ household(id:$id){ members { person { name } } } }`, map[string]any{"id": householdID}, &out)
	var names []string
	for _, m := range out.Household.Members {
		names = append(names, m.Person.Name)
	}
	return names
}

var invitationID = regexp.MustCompile(`"invitation":\{"id":"[0-9a-f]{24}"`)

func TestOwnerCannotPullAStrangerIntoTheirFlat(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	// The stranger lives in community Y; their supervisor keeps health notes.
	e.staff(w.supervisorY, w.Password).ok(`mutation($p:ID!,$in:CareProfileInput!){ updateCareProfile(personId:$p, input:$in){ id } }`,
		map[string]any{"p": w.OwnerY.ID, "in": map[string]any{"healthNotes": "糖尿病，每日注射", "hobbies": []string{"越剧"}}}, nil)
	ownerA := e.owner(w.OwnerA.Phone)
	butlerX := e.staff(w.butlerX, w.Password)

	// The owner of HA (community X) types the stranger's phone, and then a
	// phone nobody holds with the same mask: the answers are identical but
	// for the invitation id, so the mutation tells nobody who lives where.
	add := func(phone string) []byte {
		return rawCall(t, ownerA, invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY",
			"person": map[string]any{"name": "阿兰", "phone": phone}}})
	}
	held := add(w.OwnerY.Phone)
	fresh := add("13955550004") // masked 139****0004 like the stranger's
	blank := func(b []byte) string { return invitationID.ReplaceAllString(string(b), `"invitation":{"id":"-"`) }
	if blank(held) != blank(fresh) {
		t.Fatalf("a held phone answers differently from a new one:\n%s\n%s", held, fresh)
	}
	var got struct{ Data invAdded }
	if err := json.Unmarshal(held, &got); err != nil {
		t.Fatal(err)
	}
	if a := got.Data.AddHouseholdMember; a.Membership != nil || a.Invitation == nil || a.Invitation.Status != "PENDING" {
		t.Fatalf("adding a stranger by phone = %s, want only a pending invitation", held)
	}
	inv := got.Data.AddHouseholdMember.Invitation.ID

	// No membership: neither the owner nor the flat's butler reaches the
	// stranger, their phone or their archive.
	if names := memberNames(t, ownerA, w.HA.ID); contains(names, w.OwnerY.Name) {
		t.Fatalf("stranger became a member before accepting: %v", names)
	}
	var bodies [][]byte
	bodies = append(bodies, held, fresh)
	for _, c := range []*client{ownerA, butlerX} {
		b := rawCall(t, c, invPerson, map[string]any{"id": w.OwnerY.ID})
		if !strings.Contains(string(b), `"NOT_FOUND"`) || strings.Contains(string(b), w.OwnerY.Phone) || strings.Contains(string(b), "糖尿病") {
			t.Errorf("before consent the stranger is readable: %s", b)
		}
		bodies = append(bodies, b)
	}
	// Repeating the invitation neither piles up invitations nor leaks anything.
	bodies = append(bodies, add(w.OwnerY.Phone), rawCall(t, ownerA, invList, map[string]any{"h": w.HA.ID}))
	for _, b := range bodies {
		if strings.Contains(string(b), "陈") {
			t.Errorf("a response to the inviter names the stranger: %s", b)
		}
	}

	// The stranger signs in and sees where and who, nothing else; the
	// notification says the same.
	stranger := e.owner(w.OwnerY.Phone)
	var mine invMineOut
	stranger.ok(invMine, nil, &mine)
	if len(mine.MyInvitations) != 1 {
		t.Fatalf("stranger sees %d invitations, want 1", len(mine.MyInvitations))
	}
	if m := mine.MyInvitations[0]; m.ID != inv || m.Label != w.HA.Label || m.CommunityName != w.X.Name || m.Room != "101" ||
		m.Role != "FAMILY" || m.Inviter.Name != w.OwnerA.Name || m.Inviter.Role != "OWNER" {
		t.Errorf("invitation as the invitee sees it = %+v", m)
	}
	var inbox struct {
		Notifications struct {
			Edges []struct{ Node struct{ Kind, Body string } }
		}
	}
	stranger.ok(`{ notifications { edges { node { kind body } } } }`, nil, &inbox)
	if n := inbox.Notifications.Edges; len(n) != 1 || n[0].Node.Kind != "HOUSEHOLD_INVITATION" || !strings.Contains(n[0].Node.Body, w.HA.Label) {
		t.Errorf("invitee's inbox = %+v, want one HOUSEHOLD_INVITATION naming the flat", n)
	}
	stranger.fails("NOT_FOUND", householdQ, map[string]any{"id": w.HA.ID})
	// The invitee's view has no way into the household itself.
	if r := stranger.do(`{ myInvitations { household { id } } }`, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "household") {
		t.Errorf("myInvitations reaches the household: %+v", r.Errors)
	}
	// Nobody else answers it: not the inviter, not another resident.
	ownerA.fails("NOT_FOUND", invAccept, map[string]any{"id": inv})
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", invAccept, map[string]any{"id": inv})

	// Accepted, the stranger is a member, and the household's butler reads
	// their archive by the usual rules.
	var acc struct{ AcceptHouseholdInvitation struct{ Role string } }
	stranger.ok(invAccept, map[string]any{"id": inv}, &acc)
	if acc.AcceptHouseholdInvitation.Role != "FAMILY" {
		t.Errorf("accepted as %q", acc.AcceptHouseholdInvitation.Role)
	}
	stranger.fails("CONFLICT", invAccept, map[string]any{"id": inv})
	if names := memberNames(t, ownerA, w.HA.ID); !contains(names, w.OwnerY.Name) {
		t.Fatalf("after accepting, members are %v", names)
	}
	var p struct {
		Person struct {
			Phone       string
			CareProfile struct{ Sensitive *struct{ HealthNotes string } }
		}
	}
	butlerX.ok(invPerson, map[string]any{"id": w.OwnerY.ID}, &p)
	if p.Person.Phone != w.OwnerY.Phone || p.Person.CareProfile.Sensitive == nil || p.Person.CareProfile.Sensitive.HealthNotes == "" {
		t.Errorf("the household's butler after consent reads %+v", p.Person)
	}
}

func TestAnInvitedNewPhoneSignsInToAnswer(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	const phone = "13711112222"
	// Unknown phones get no code (identity's rule) ...
	e.anon().ok(`mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`, map[string]any{"p": phone}, nil)
	if n := e.SMS.count(phone); n != 0 {
		t.Fatalf("an unknown phone got %d texts", n)
	}
	var a invAdded
	ownerA.ok(invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "TENANT", "person": map[string]any{"name": "周租客", "phone": phone}}}, &a)
	inv := a.AddHouseholdMember.Invitation.ID
	if a.AddHouseholdMember.Invitation.MaskedPhone != "137****2222" {
		t.Errorf("masked phone %q", a.AddHouseholdMember.Invitation.MaskedPhone)
	}
	// ... but an invited one signs in, as the person the invitation names,
	// in no household until they answer.
	e.Clock.Advance(2 * time.Minute) // past the per-phone code limit spent above
	tenant := e.owner(phone)
	var me struct{ MyHouseholds []struct{ ID string } }
	tenant.ok(`{ myHouseholds { id } }`, nil, &me)
	if len(me.MyHouseholds) != 0 {
		t.Fatalf("invitee is in %d households before answering", len(me.MyHouseholds))
	}
	var mine invMineOut
	tenant.ok(invMine, nil, &mine)
	if len(mine.MyInvitations) != 1 || mine.MyInvitations[0].ID != inv {
		t.Fatalf("invitee sees %+v", mine.MyInvitations)
	}
	tenant.ok(invDecline, map[string]any{"id": inv}, nil)
	tenant.fails("CONFLICT", invAccept, map[string]any{"id": inv})
	var list struct {
		HouseholdInvitations []struct{ ID, Name, Status string }
	}
	ownerA.ok(invList, map[string]any{"h": w.HA.ID}, &list)
	if l := list.HouseholdInvitations; len(l) != 1 || l[0].Status != "DECLINED" || l[0].Name != "周租客" {
		t.Errorf("household's invitations = %+v", l)
	}
	if names := memberNames(t, ownerA, w.HA.ID); contains(names, "周租客") {
		t.Errorf("declined invitee is a member: %v", names)
	}
	// Other residents, and staff of another community, do not see a
	// household's invitations.
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", invList, map[string]any{"h": w.HA.ID})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", invList, map[string]any{"h": w.HA.ID})
}

func TestResidentsInviteEvenPeopleTheyCanSee(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	// A person the owner cannot see is not found, by id as by anything else.
	ownerA.fails("NOT_FOUND", invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "personId": w.OwnerB.ID}})

	// OwnerA co-owns HC with its owner 赵小明, so can see him; that is still
	// no consent to move him into HA.
	e.staff(w.butlerX2, w.Password).ok(invAdd, map[string]any{"in": map[string]any{"householdId": w.HC.ID, "role": "OWNER", "personId": w.OwnerA.ID}}, nil)
	zhao := e.owner("13900000003")
	byID := map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "personId": mustPersonID(t, zhao)}}
	var a invAdded
	ownerA.ok(invAdd, byID, &a)
	if a.AddHouseholdMember.Membership != nil || a.AddHouseholdMember.Invitation == nil {
		t.Fatalf("a visible person was attached without consent: %+v", a.AddHouseholdMember)
	}
	first := a.AddHouseholdMember.Invitation.ID
	// Someone already in the flat is simply a member already.
	ownerA.fails("CONFLICT", invAdd, map[string]any{"in": map[string]any{"householdId": w.HC.ID, "role": "FAMILY", "personId": mustPersonID(t, zhao)}})

	// Unanswered for 7 days, it expires.
	e.Clock.Advance(7*24*time.Hour + time.Second)
	ownerA, zhao = e.owner(w.OwnerA.Phone), e.owner("13900000003") // their tokens have expired too
	var mine invMineOut
	zhao.ok(invMine, nil, &mine)
	if len(mine.MyInvitations) != 0 {
		t.Errorf("expired invitations still shown: %+v", mine.MyInvitations)
	}
	zhao.fails("CONFLICT", invAccept, map[string]any{"id": first})
	var list struct{ HouseholdInvitations []struct{ ID, Status string } }
	ownerA.ok(invList, map[string]any{"h": w.HA.ID}, &list)
	if l := list.HouseholdInvitations; len(l) != 1 || l[0].Status != "EXPIRED" {
		t.Errorf("after 7 days the household's invitations are %+v", l)
	}

	// A new invitation, withdrawn before the answer: only those who manage
	// the flat may withdraw it.
	ownerA.ok(invAdd, byID, &a)
	second := a.AddHouseholdMember.Invitation.ID
	if second == first {
		t.Fatal("an expired invitation was handed out again")
	}
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", invCancel, map[string]any{"id": second})
	zhao.fails("NOT_FOUND", invCancel, map[string]any{"id": second})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", invCancel, map[string]any{"id": second})
	var c struct{ CancelHouseholdInvitation struct{ Status string } }
	ownerA.ok(invCancel, map[string]any{"id": second}, &c)
	if c.CancelHouseholdInvitation.Status != "CANCELLED" {
		t.Errorf("cancelled invitation reads %q", c.CancelHouseholdInvitation.Status)
	}
	zhao.fails("CONFLICT", invAccept, map[string]any{"id": second})
	if names := memberNames(t, ownerA, w.HA.ID); contains(names, "赵小明") {
		t.Errorf("member without consent: %v", names)
	}
}

func mustPersonID(t *testing.T, c *client) string {
	t.Helper()
	var me struct {
		Me struct{ Person struct{ ID string } }
	}
	c.ok(`{ me { person { id } } }`, nil, &me)
	if me.Me.Person.ID == "" {
		t.Fatal("no id for the signed-in resident")
	}
	return me.Me.Person.ID
}

func TestStaffAttachOnlyPeopleOfTheirOwnCommunity(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	supX := e.staff(w.supervisorX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)

	// Staff of another community: by id the person is not found; by phone
	// they get an invitation, never a membership, and no name.
	supX.fails("NOT_FOUND", invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "personId": w.OwnerY.ID}})
	b := rawCall(t, supX, invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY",
		"person": map[string]any{"name": "某人", "phone": w.OwnerY.Phone}}})
	var got struct{ Data invAdded }
	if err := json.Unmarshal(b, &got); err != nil || got.Data.AddHouseholdMember.Membership != nil || got.Data.AddHouseholdMember.Invitation == nil {
		t.Fatalf("staff of X adding a resident of Y by phone: %s", b)
	}
	if strings.Contains(string(b), "陈") {
		t.Errorf("the answer names the resident of Y: %s", b)
	}
	if names := memberNames(t, supX, w.HA.ID); contains(names, w.OwnerY.Name) {
		t.Errorf("staff of X attached a resident of Y: %v", names)
	}
	// The resident of Y answers, and only then is in the flat in X.
	stranger := e.owner(w.OwnerY.Phone)
	var mine invMineOut
	stranger.ok(invMine, nil, &mine)
	if len(mine.MyInvitations) != 1 || mine.MyInvitations[0].Inviter.Role != "SUPERVISOR" || mine.MyInvitations[0].Inviter.Name != w.supervisorX {
		t.Fatalf("invitation from staff of X as its invitee sees it: %+v", mine.MyInvitations)
	}
	stranger.ok(invAccept, map[string]any{"id": mine.MyInvitations[0].ID}, nil)
	if names := memberNames(t, supX, w.HA.ID); !contains(names, w.OwnerY.Name) {
		t.Errorf("after accepting, members of HA are %v", names)
	}
	// The register's powers stay: a brand-new phone is created at once.
	var a invAdded
	supX.ok(invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": map[string]any{"name": "新住户", "phone": "13822223333"}}}, &a)
	if a.AddHouseholdMember.Membership == nil || a.AddHouseholdMember.Membership.Person.Name != "新住户" {
		t.Errorf("staff registering a new phone got %+v", a.AddHouseholdMember)
	}

	// Staff of the person's own community, at the desk with them: a second
	// flat in Y is theirs at once.
	var h struct{ CreateHousehold struct{ ID string } }
	supY.ok(`mutation($in:CreateHouseholdInput!){ createHousehold(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"buildingId": w.YB1.ID, "unit": "1", "room": "302"}}, &h)
	// A different name for a phone they can see conflicts, naming nobody.
	r := supY.fails("CONFLICT", invAdd, map[string]any{"in": map[string]any{"householdId": h.CreateHousehold.ID, "role": "OWNER",
		"person": map[string]any{"name": "别人", "phone": w.OwnerY.Phone}}})
	if msg := r.Errors[0].Message; r.field() != "input.person.phone" || strings.Contains(msg, "陈") {
		t.Errorf("conflict %q on %q", msg, r.field())
	}
	supY.ok(invAdd, map[string]any{"in": map[string]any{"householdId": h.CreateHousehold.ID, "role": "OWNER", "person": map[string]any{"name": w.OwnerY.Name, "phone": w.OwnerY.Phone}}}, &a)
	if m := a.AddHouseholdMember.Membership; m == nil || m.Person.ID != w.OwnerY.ID {
		t.Errorf("staff of Y adding their own resident got %+v", a.AddHouseholdMember)
	}
}

// Answers racing each other: exactly one wins, and the flat shows it.
func TestConcurrentAnswersToOneInvitation(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	var a invAdded
	e.owner(w.OwnerA.Phone).ok(invAdd, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY",
		"person": map[string]any{"name": "陈美兰", "phone": w.OwnerY.Phone}}}, &a)
	inv := a.AddHouseholdMember.Invitation.ID
	stranger := e.owner(w.OwnerY.Phone)
	type answer struct {
		accept bool
		code   string
		err    error
	}
	const n = 8
	results := make(chan answer, n)
	for i := range n {
		go func(accept bool) {
			q := invDecline
			if accept {
				q = invAccept
			}
			body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"id": inv}})
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+stranger.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- answer{accept: accept, err: err}
				return
			}
			defer resp.Body.Close()
			var r gqlResponse
			err = json.NewDecoder(resp.Body).Decode(&r)
			results <- answer{accept: accept, code: r.code(), err: err}
		}(i%2 == 0)
	}
	won, accepted := 0, false
	for range n {
		r := <-results
		switch {
		case r.err != nil:
			t.Fatal(r.err)
		case r.code == "":
			won++
			accepted = r.accept
		case r.code != "CONFLICT":
			t.Errorf("a losing answer got %s, want CONFLICT", r.code)
		}
	}
	if won != 1 {
		t.Fatalf("%d answers won, want exactly 1", won)
	}
	var list struct{ HouseholdInvitations []struct{ Status string } }
	supX := e.staff(w.supervisorX, w.Password)
	supX.ok(invList, map[string]any{"h": w.HA.ID}, &list)
	want := map[bool]string{true: "ACCEPTED", false: "DECLINED"}[accepted]
	if l := list.HouseholdInvitations; len(l) != 1 || l[0].Status != want {
		t.Errorf("invitation reads %+v, want %s", l, want)
	}
	if member := contains(memberNames(t, supX, w.HA.ID), w.OwnerY.Name); member != accepted {
		t.Errorf("member = %v after the winning answer accepted = %v", member, accepted)
	}
}

// Walking a number range through addHouseholdMember would harvest which
// phones are registered (and spam invitations): an owner gets ten adds by
// phone an hour, then RATE_LIMITED with the wait in the body and the header,
// and the limit is theirs alone (another owner still adds).
func TestPhoneGuessingThroughMembersIsLimited(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	add := func(c *client, h string, i int) (*gqlResponse, http.Header) {
		return e.fromIP("198.51.100.7", c.token, invAdd, map[string]any{"in": map[string]any{"householdId": h, "role": "FAMILY",
			"person": map[string]any{"name": "试探", "phone": "1370000" + strings.Repeat("0", 4-len(strconv.Itoa(i))) + strconv.Itoa(i)}}})
	}
	for i := range 10 {
		if r, _ := add(ownerA, w.HA.ID, i); len(r.Errors) > 0 {
			t.Fatalf("add %d within the budget: %v", i, r.Errors)
		}
	}
	r, h := add(ownerA, w.HA.ID, 10)
	wantCode(t, r, "RATE_LIMITED")
	if secs, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); secs < 1 || h.Get("Retry-After") != strconv.Itoa(int(secs)) {
		t.Fatalf("retryAfterSeconds %v, Retry-After %q", r.Errors[0].Extensions["retryAfterSeconds"], h.Get("Retry-After"))
	}
	if r, _ := add(ownerB, w.HB.ID, 11); len(r.Errors) > 0 {
		t.Fatalf("another owner is limited by the first one's budget: %v", r.Errors)
	}
	// An hour later the first owner may add again.
	e.Clock.Advance(time.Hour + time.Minute)
	ownerA = e.owner(w.OwnerA.Phone)
	if r, _ := add(ownerA, w.HA.ID, 12); len(r.Errors) > 0 {
		t.Fatalf("after the hour: %v", r.Errors)
	}
}
