package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/staff"
)

// voteEstate is a community whose owners vote: six owner units with floor
// areas (one with two owners), a unit with only a tenant, a supervisor, a
// butler, and the chair of the owners' committee.
type voteEstate struct {
	C        *community.Community
	Units    []*household.Household // U1..U6, owners; Units[6] has a tenant only
	Areas    []float64
	Owners   []string // phone of each unit's (first) owner
	CoOwner  string   // second owner of U2
	Tenant   string
	sup, but string
}

// Areas make exactly two thirds fall on whole hundredths: U1+U2+U5+U6 hold
// 400.00 of 600.00 m², U3+U4+U5+U6 only 390.00.
var voteAreas = []float64{120.5, 89.5, 100, 100, 95, 95}

func newVoteEstate(t *testing.T, e *env, w *world) *voteEstate {
	t.Helper()
	ctx := context.Background()
	s := e.App.Services
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	v := &voteEstate{Areas: voteAreas, CoOwner: "13920000012", Tenant: "13920000007"}
	var err error
	v.C, err = s.Communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "和园"})
	must(err)
	b, err := s.Communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: v.C.ID, Name: "5", Units: []string{"1"}})
	must(err)
	add := func(h *household.Household, name, phone string, role access.Role) {
		t.Helper()
		in := household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role}
		_, err := s.Households.AddMember(ctx, w.admin, in)
		for i := 0; i < 20 && errors.Is(err, household.ErrNotFound); i++ {
			time.Sleep(50 * time.Millisecond) // the embedded database's lag after an insert (see world)
			_, err = s.Households.AddMember(ctx, w.admin, in)
		}
		must(err)
	}
	for i := 0; i < 7; i++ {
		area := 50.0
		if i < 6 {
			area = voteAreas[i]
		}
		h, err := s.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: fmt.Sprintf("%d01", i+1), FloorArea: &area})
		must(err)
		v.Units = append(v.Units, h)
		if i < 6 {
			phone := fmt.Sprintf("1392000000%d", i+1)
			add(h, fmt.Sprintf("业主%d", i+1), phone, access.Owner)
			v.Owners = append(v.Owners, phone)
		}
	}
	add(v.Units[1], "业主2乙", v.CoOwner, access.Owner)
	add(v.Units[6], "租户7", v.Tenant, access.Tenant)
	hash, err := identity.HashPassword(w.Password)
	must(err)
	for acct, role := range map[string]access.Role{"v.supervisor": access.Supervisor, "v.butler": access.Butler} {
		_, err := s.Staff.Upsert(ctx, &staff.Staff{Account: acct, Name: acct, PasswordHash: hash, Roles: []access.Role{role}, CommunityIDs: []string{v.C.ID}})
		must(err)
	}
	v.sup, v.but = "v.supervisor", "v.butler"
	return v
}

// appointChair makes the owner with phone the committee's chair through the API.
func appointChair(t testing.TB, e *env, sup *client, communityID, personID string) {
	t.Helper()
	sup.ok(`mutation($in:AppointCommitteeMemberInput!){ appointCommitteeMember(input:$in){ id role sitting } }`, map[string]any{"in": map[string]any{
		"communityId": communityID, "personId": personID, "role": "CHAIR", "termStart": "2026-01-01", "termEnd": "2028-12-31"}}, nil)
}

const voteFields = `id communityId title description rule state proposedByCompany openedAt closedAt opensAt closesAt
	options { id text abstain }
	electorate { units area } turnout { units area }
	result { participating { units area } participationMet outcome adoptedOption { id text }
		options { option { id text } tally { units area } reached } }
	myUnits { householdId label area asProxy voted proxyPhone myBallot { receipt option { id text } byProxy } }`

type voteTally struct {
	Units int64
	Area  float64
}

type voteView struct {
	ID, CommunityID, Title, Rule, State string
	Description                         *string
	ProposedByCompany                   bool
	OpenedAt, ClosedAt                  *string
	Options                             []struct {
		ID, Text string
		Abstain  bool
	}
	Electorate, Turnout *voteTally
	Result              *struct {
		Participating    voteTally
		ParticipationMet bool
		Outcome          string
		AdoptedOption    *struct{ ID, Text string }
		Options          []struct {
			Option  struct{ ID, Text string }
			Tally   voteTally
			Reached bool
		}
	}
	MyUnits []struct {
		HouseholdID, Label string
		Area               float64
		AsProxy, Voted     bool
		ProxyPhone         *string
		MyBallot           *struct {
			Receipt string
			Option  struct{ ID, Text string }
			ByProxy bool
		}
	}
}

const openVoteQ = `mutation($in:OpenVoteInput!){ openVote(input:$in){ ` + voteFields + ` } }`
const castQ = `mutation($v:ID!,$h:ID!,$o:ID!){ castBallot(voteId:$v, householdId:$h, optionId:$o){ receipt option { id text } byProxy householdId } }`
const voteQ = `query($id:ID!){ vote(id:$id){ ` + voteFields + ` } }`

func voteInput(communityID, title, rule string, closes time.Time) map[string]any {
	return map[string]any{"communityId": communityID, "title": title, "rule": rule, "closesAt": closes.Format(time.RFC3339),
		"options": []any{map[string]any{"text": "同意"}, map[string]any{"text": "反对"}, map[string]any{"text": "弃权", "abstain": true}}}
}

func (c *client) openVote(in map[string]any) voteView {
	c.e.t.Helper()
	var out struct{ OpenVote voteView }
	c.ok(openVoteQ, map[string]any{"in": in}, &out)
	return out.OpenVote
}

func (c *client) vote(id string) voteView {
	c.e.t.Helper()
	var out struct{ Vote voteView }
	c.ok(voteQ, map[string]any{"id": id}, &out)
	return out.Vote
}

type castReceipt struct {
	Receipt     string
	Option      struct{ ID, Text string }
	ByProxy     bool
	HouseholdID string
}

func (c *client) cast(voteID, householdID, option string) castReceipt {
	c.e.t.Helper()
	var out struct{ CastBallot castReceipt }
	c.ok(castQ, map[string]any{"v": voteID, "h": householdID, "o": option}, &out)
	return out.CastBallot
}
