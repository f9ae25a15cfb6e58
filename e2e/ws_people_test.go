package e2e

import (
	"fmt"
	"testing"

	"qinqing/internal/household"
)

// people makes fresh staff members and residents for tests that change
// someone's access, so every case (and every server it runs on) starts from
// its own person.
type people struct {
	t     testing.TB
	e     *env
	admin *client
	n     int
}

func newPeople(t testing.TB, e *env, w *world) *people {
	return &people{t: t, e: e, admin: e.staff(w.adminAcct, w.Password)}
}

// staff creates a staff member and signs them in.
func (p *people) staff(roles []string, communityID string, buildingIDs ...string) (c *client, id string) {
	p.t.Helper()
	p.n++
	account := fmt.Sprintf("case.staff%d", p.n)
	var out struct{ CreateStaff struct{ ID string } }
	p.admin.ok(`mutation($in:CreateStaffInput!){ createStaff(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"account": account, "password": "CaseStaff2026", "name": account, "roles": roles,
		"communityIds": []string{communityID}, "buildingIds": buildingIDs}}, &out)
	return p.e.staff(account, "CaseStaff2026"), out.CreateStaff.ID
}

// member adds a new person with a phone to h and signs them in.
func (p *people) member(h *household.Household) (c *client, personID string) {
	p.t.Helper()
	p.n++
	phone := fmt.Sprintf("1370000%04d", p.n)
	var out struct {
		AddHouseholdMember struct {
			Membership struct{ Person struct{ ID string } }
		}
	}
	p.admin.ok(`mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { person { id } } } }`,
		map[string]any{"in": map[string]any{"householdId": h.ID, "role": "FAMILY", "person": map[string]any{"name": fmt.Sprint("成员", p.n), "phone": phone}}}, &out)
	return p.e.owner(phone), out.AddHouseholdMember.Membership.Person.ID
}

// join adds an existing person to h; leave removes them.
func (p *people) join(h *household.Household, personID string) {
	p.t.Helper()
	p.admin.ok(`mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { role } } }`,
		map[string]any{"in": map[string]any{"householdId": h.ID, "role": "FAMILY", "personId": personID}}, nil)
}

func (p *people) leave(h *household.Household, personID string) {
	p.t.Helper()
	p.admin.ok(`mutation($h:ID!,$p:ID!){ removeHouseholdMember(householdId:$h, personId:$p){ id } }`,
		map[string]any{"h": h.ID, "p": personID}, nil)
}

// scope changes a staff member's roles, communities, buildings or activity.
func (p *people) scope(staffID string, in map[string]any) {
	p.t.Helper()
	p.admin.ok(`mutation($s:ID!,$in:StaffScopeInput!){ updateStaffScope(staffId:$s, input:$in){ id } }`, map[string]any{"s": staffID, "in": in}, nil)
}

// servers names the server a subscriber is on relative to where the change
// is made: the same process, or another one sharing the database.
func servers(same, other *env) []struct {
	name string
	e    *env
} {
	return []struct {
		name string
		e    *env
	}{{"same server", same}, {"other server", other}}
}
