package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
)

// The owners' committee through the API: the supervisor records the
// election; one chair per term; only owners of the community sit; the
// community reads its committee and nobody else does; a sitting member
// reads the community's aggregate KPIs and stops when the seat ends.
func TestOwnersCommitteeThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	tenantAdded, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "租客小林", Phone: "13900000009"}, Role: access.Tenant})
	if err != nil {
		t.Fatal(err)
	}
	sup, supY, butler := e.staff(w.supervisorX, w.Password), e.staff(w.supervisorY, w.Password), e.staff(w.butlerX, w.Password)
	ownerA, ownerB, tenant, ownerY := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner("13900000009"), e.owner(w.OwnerY.Phone)
	today := e.Clock.Now().In(time.FixedZone("CST", 8*3600))
	start, end := today.AddDate(0, -1, 0).Format(time.DateOnly), today.AddDate(4, 0, 0).Format(time.DateOnly)
	const appoint = `mutation($in: AppointCommitteeMemberInput!){ appointCommitteeMember(input:$in){ id name role termStart termEnd sitting } }`
	in := func(person, role, from, to string) map[string]any {
		return map[string]any{"in": map[string]any{"communityId": w.X.ID, "personId": person, "role": role, "termStart": from, "termEnd": to}}
	}

	// Refused: by who asks, and by field.
	for name, c := range map[string]struct {
		cl    *client
		vars  map[string]any
		code  string
		field string
	}{
		"a resident of the community":    {ownerA, in(w.OwnerA.ID, "CHAIR", start, end), "FORBIDDEN", ""},
		"a butler":                       {butler, in(w.OwnerA.ID, "CHAIR", start, end), "FORBIDDEN", ""},
		"another community's staff":      {supY, in(w.OwnerA.ID, "CHAIR", start, end), "NOT_FOUND", "input.communityId"},
		"another community's resident":   {ownerY, in(w.OwnerA.ID, "CHAIR", start, end), "NOT_FOUND", "input.communityId"},
		"a tenant is not an owner":       {sup, in(tenantAdded.PersonID, "MEMBER", start, end), "BAD_USER_INPUT", "input.personId"},
		"an owner of another community":  {sup, in(w.OwnerY.ID, "MEMBER", start, end), "BAD_USER_INPUT", "input.personId"},
		"a term ending before it starts": {sup, in(w.OwnerA.ID, "CHAIR", end, start), "BAD_USER_INPUT", "input.termEnd"},
		"a term over five years":         {sup, in(w.OwnerA.ID, "CHAIR", start, today.AddDate(6, 0, 0).Format(time.DateOnly)), "BAD_USER_INPUT", "input.termEnd"},
		"a term already over":            {sup, in(w.OwnerA.ID, "CHAIR", today.AddDate(-2, 0, 0).Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly)), "BAD_USER_INPUT", "input.termEnd"},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.cl.fails(c.code, appoint, c.vars)
			if c.field != "" && r.field() != c.field {
				t.Errorf("field %q, want %q", r.field(), c.field)
			}
		})
	}

	var chair, member struct {
		AppointCommitteeMember struct {
			ID, Name, Role string
			Sitting        bool
		}
	}
	sup.ok(appoint, in(w.OwnerA.ID, "CHAIR", start, end), &chair)
	if c := chair.AppointCommitteeMember; c.Name != w.OwnerA.Name || c.Role != "CHAIR" || !c.Sitting {
		t.Fatalf("chair: %+v", c)
	}
	// One chair per term, one seat per owner.
	if r := sup.fails("CONFLICT", appoint, in(w.OwnerB.ID, "CHAIR", start, end)); r.field() != "input.role" {
		t.Errorf("second chair field %q", r.field())
	}
	sup.fails("CONFLICT", appoint, in(w.OwnerA.ID, "MEMBER", start, end))
	sup.ok(appoint, in(w.OwnerB.ID, "MEMBER", start, end), &member)

	// Readers: the community's residents (any role) and staff; the staff see
	// every appointment, residents the sitting members only.
	const read = `query($c:ID!){ ownersCommittee(communityId:$c){ communityId members { id name role sitting endReason } appointments { id } myRole } }`
	type view struct {
		OwnersCommittee struct {
			Members []struct {
				ID, Name, Role string
				EndReason      *string
			}
			Appointments []struct{ ID string }
			MyRole       *string
		}
	}
	var asChair, asTenant, asSup view
	ownerA.ok(read, map[string]any{"c": w.X.ID}, &asChair)
	if got := asChair.OwnersCommittee; len(got.Members) != 2 || got.Members[0].Role != "CHAIR" || got.MyRole == nil || *got.MyRole != "CHAIR" || got.Appointments != nil {
		t.Errorf("chair's view: %+v", got)
	}
	tenant.ok(read, map[string]any{"c": w.X.ID}, &asTenant)
	if got := asTenant.OwnersCommittee; len(got.Members) != 2 || got.MyRole != nil {
		t.Errorf("tenant's view: %+v", got)
	}
	sup.ok(read, map[string]any{"c": w.X.ID}, &asSup)
	if got := asSup.OwnersCommittee; len(got.Appointments) != 2 || got.MyRole != nil {
		t.Errorf("supervisor's view: %+v", got)
	}
	ownerY.fails("NOT_FOUND", read, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", read, map[string]any{"c": w.X.ID})

	// A sitting member reads the community's aggregate KPIs; an owner who
	// does not sit, and the chair for another community, do not; nor does
	// anyone read the weekly report with its workload lists.
	const kpis = `query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ counts { newRepairs } } }`
	window := map[string]any{"c": w.X.ID, "f": e.Clock.Now().AddDate(0, -1, 0).Format(time.RFC3339), "t": e.Clock.Now().Format(time.RFC3339)}
	ownerA.ok(kpis, window, nil)
	ownerB.ok(kpis, window, nil)
	e.owner(phoneOfHC).fails("FORBIDDEN", kpis, window)
	tenant.fails("FORBIDDEN", kpis, window)
	ownerA.fails("FORBIDDEN", kpis, map[string]any{"c": w.Y.ID, "f": window["f"], "t": window["t"]})
	ownerA.fails("FORBIDDEN", `query($c:ID!,$d:Date!){ weeklyReport(communityId:$c, weekOf:$d){ communityId } }`, map[string]any{"c": w.X.ID, "d": today.Format(time.DateOnly)})

	// Ending a seat: the member stops sitting at once; the reason is for staff.
	const endSeat = `mutation($id:ID!,$r:String){ endCommitteeMembership(id:$id, reason:$r){ id sitting endedAt } }`
	ownerA.fails("FORBIDDEN", endSeat, map[string]any{"id": member.AppointCommitteeMember.ID})
	supY.fails("NOT_FOUND", endSeat, map[string]any{"id": member.AppointCommitteeMember.ID})
	var ended struct {
		EndCommitteeMembership struct {
			Sitting bool
			EndedAt *string
		}
	}
	sup.ok(endSeat, map[string]any{"id": member.AppointCommitteeMember.ID, "r": "迁出本小区"}, &ended)
	if ended.EndCommitteeMembership.Sitting || ended.EndCommitteeMembership.EndedAt == nil {
		t.Errorf("ended seat: %+v", ended.EndCommitteeMembership)
	}
	sup.fails("CONFLICT", endSeat, map[string]any{"id": member.AppointCommitteeMember.ID})
	ownerB.fails("FORBIDDEN", kpis, window)
	var after view
	ownerA.ok(read, map[string]any{"c": w.X.ID}, &after)
	if got := after.OwnersCommittee.Members; len(got) != 1 || got[0].EndReason != nil {
		t.Errorf("after the seat ended, residents see %+v", got)
	}
	// With the old member's seat ended, the owner may be appointed again.
	sup.ok(appoint, in(w.OwnerB.ID, "VICE_CHAIR", start, end), nil)
}

// phoneOfHC is the world's third owner (building 2), who sits on nothing.
const phoneOfHC = "13900000003"

// Two supervisors recording a chair at the same moment: one is written,
// the other is CONFLICT (the chair is taken, or the committee changed
// under it), never two chairs.
func TestCommitteeHasOneChairUnderRace(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup1, sup2 := e.staff(w.supervisorX, w.Password), e.staff(w.supervisorX, w.Password)
	today := e.Clock.Now()
	const appoint = `mutation($in: AppointCommitteeMemberInput!){ appointCommitteeMember(input:$in){ id } }`
	in := func(person string) map[string]any {
		return map[string]any{"in": map[string]any{"communityId": w.X.ID, "personId": person, "role": "CHAIR",
			"termStart": today.Format(time.DateOnly), "termEnd": today.AddDate(3, 0, 0).Format(time.DateOnly)}}
	}
	// A member first, so the race is over a later change, not the first.
	sup1.ok(appoint, map[string]any{"in": map[string]any{"communityId": w.X.ID, "personId": w.OwnerB.ID, "role": "MEMBER",
		"termStart": today.Format(time.DateOnly), "termEnd": today.AddDate(3, 0, 0).Format(time.DateOnly)}}, nil)
	hc, _, err := e.App.Services.Households.PersonByPhone(context.Background(), phoneOfHC)
	if err != nil {
		t.Fatal(err)
	}
	codes := make(chan string, 2)
	for _, c := range []struct {
		cl     *client
		person string
	}{{sup1, w.OwnerA.ID}, {sup2, hc}} {
		go func() { codes <- c.cl.do(appoint, in(c.person)).code() }()
	}
	got := map[string]int{}
	for range 2 {
		got[<-codes]++
	}
	if got[""] != 1 || got["CONFLICT"] != 1 {
		t.Fatalf("two chairs racing: %v", got)
	}
	var view struct {
		OwnersCommittee struct{ Members []struct{ Role string } }
	}
	sup1.ok(`query($c:ID!){ ownersCommittee(communityId:$c){ members { role } } }`, map[string]any{"c": w.X.ID}, &view)
	if chairs := len(slices.DeleteFunc(view.OwnersCommittee.Members, func(m struct{ Role string }) bool { return m.Role != "CHAIR" })); chairs != 1 {
		t.Errorf("committee after the race: %+v", view.OwnersCommittee.Members)
	}
}
