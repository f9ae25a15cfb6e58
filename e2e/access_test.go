package e2e

import (
	"strings"
	"testing"
)

const householdQ = `query($id:ID!){ household(id:$id){ id label members { role person { name phone careProfile { hobbies careFlags } } } } }`

// The permission matrix: who may read which household and its archive.
func TestHouseholdVisibility(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	butlerX := e.staff(w.butlerX, w.Password)
	supervisorY := e.staff(w.supervisorY, w.Password)
	engineerX := e.staff(w.engineerX, w.Password)

	tests := []struct {
		name    string
		c       *client
		id      string
		visible bool
	}{
		{"owner reads own household", ownerA, w.HA.ID, true},
		{"owner cannot read a neighbour's household", ownerA, w.HB.ID, false},
		{"owner cannot read a household in another community", ownerA, w.HY.ID, false},
		{"butler reads a household of their community", butlerX, w.HB.ID, true},
		{"engineer reads a household of their community", engineerX, w.HC.ID, true},
		{"staff of Y cannot read a household of X", supervisorY, w.HA.ID, false},
		{"staff of X cannot read a household of Y", butlerX, w.HY.ID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.visible {
				var out struct{ Household struct{ ID string } }
				tc.c.ok(householdQ, map[string]any{"id": tc.id}, &out)
				if out.Household.ID != tc.id {
					t.Fatalf("got %q", out.Household.ID)
				}
				return
			}
			// Not yours is indistinguishable from not there.
			tc.c.fails("NOT_FOUND", householdQ, map[string]any{"id": tc.id})
		})
	}

	// Lists are scoped the same way.
	var list struct {
		Households struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	ownerA.ok(`{ households(first: 50){ totalCount edges { node { id } } } }`, nil, &list)
	if list.Households.TotalCount != 1 || list.Households.Edges[0].Node.ID != w.HA.ID {
		t.Errorf("owner's household list = %+v", list.Households)
	}
	butlerX.ok(`{ households(first: 50){ totalCount edges { node { id } } } }`, nil, &list)
	if list.Households.TotalCount != 3 {
		t.Errorf("butler of X sees %d households, want the 3 of X", list.Households.TotalCount)
	}
	supervisorY.fails("FORBIDDEN", `query($c:ID!){ households(filter:{communityId:$c}){ totalCount } }`, map[string]any{"c": w.X.ID})
	supervisorY.fails("NOT_FOUND", `query($id:ID!){ person(id:$id){ name } }`, map[string]any{"id": w.OwnerA.ID})
	ownerA.fails("NOT_FOUND", `query($id:ID!){ person(id:$id){ name } }`, map[string]any{"id": w.OwnerB.ID})
	supervisorY.fails("NOT_FOUND", `query($id:ID!){ community(id:$id){ name } }`, map[string]any{"id": w.X.ID})
	e.anon().fails("UNAUTHENTICATED", householdQ, map[string]any{"id": w.HA.ID})
}

// Health and hardship details: the responsible butler and supervisors of the
// community only, and every read is on the audit log.
func TestSensitiveArchiveFields(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	supervisorX := e.staff(w.supervisorX, w.Password)
	update := `mutation($p:ID!,$in:CareProfileInput!){ updateCareProfile(personId:$p, input:$in){ id careProfile { careFlags hobbies } } }`
	// A butler of another building may not write sensitive details either.
	e.staff(w.butlerX2, w.Password).fails("FORBIDDEN", update, map[string]any{"p": w.OwnerA.ID, "in": map[string]any{"healthNotes": "高血压"}})
	supervisorX.ok(update, map[string]any{"p": w.OwnerA.ID, "in": map[string]any{
		"careFlags": []string{"ELDERLY_ALONE", "CHRONIC_ILLNESS"}, "healthNotes": "高血压，每日服药", "hobbies": []string{"太极", "京剧"},
		"birthday": map[string]any{"calendar": "LUNAR", "month": 8, "day": 15},
	}}, nil)

	type profile struct {
		Household struct {
			CareFlags []string
			Members   []struct {
				Person struct {
					CareProfile struct {
						Hobbies   []string
						CareFlags []string
						Sensitive *struct {
							Flags       []string
							HealthNotes *string
						}
					}
				}
			}
		}
	}
	read := func(c *client) (*profile, *gqlResponse) {
		r := c.do(`query($id:ID!){ household(id:$id){ careFlags members { person { careProfile { hobbies careFlags sensitive { flags healthNotes } } } } } }`, map[string]any{"id": w.HA.ID})
		var p profile
		if r.Data != nil {
			_ = jsonUnmarshal(r.Data, &p)
		}
		return &p, r
	}
	allowed := []struct {
		name string
		c    *client
	}{
		{"responsible butler", e.staff(w.butlerX, w.Password)},
		{"supervisor of the community", supervisorX},
	}
	for _, tc := range allowed {
		p, r := read(tc.c)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", tc.name, r.Errors)
		}
		s := p.Household.Members[0].Person.CareProfile.Sensitive
		if s == nil || s.HealthNotes == nil || *s.HealthNotes != "高血压，每日服药" || !contains(s.Flags, "CHRONIC_ILLNESS") {
			t.Errorf("%s cannot read sensitive details: %+v", tc.name, s)
		}
	}
	denied := []struct {
		name string
		c    *client
	}{
		{"butler of another building", e.staff(w.butlerX2, w.Password)},
		{"engineer", e.staff(w.engineerX, w.Password)},
		{"admin", e.staff(w.adminAcct, w.Password)},
		{"the owner", e.owner(w.OwnerA.Phone)},
	}
	for _, tc := range denied {
		p, r := read(tc.c)
		if r.code() != "FORBIDDEN" {
			t.Errorf("%s: want FORBIDDEN on sensitive, got %+v", tc.name, r.Errors)
			continue
		}
		cp := p.Household.Members[0].Person.CareProfile
		if cp.Sensitive != nil {
			t.Errorf("%s sees sensitive details", tc.name)
		}
		// The ordinary part stays readable, and never lists sensitive flags.
		if !contains(cp.Hobbies, "太极") || contains(cp.CareFlags, "CHRONIC_ILLNESS") || contains(p.Household.CareFlags, "CHRONIC_ILLNESS") {
			t.Errorf("%s: ordinary profile %+v, household flags %v", tc.name, cp, p.Household.CareFlags)
		}
	}

	// Two allowed reads, two audit entries; the denied ones left none.
	var log struct {
		ArchiveAuditLog struct {
			Edges []struct {
				Node struct {
					Action string
					Staff  struct{ Account string }
					Person struct{ ID string }
				}
			}
		}
	}
	supervisorX.ok(`query($c:ID!){ archiveAuditLog(communityId:$c){ edges { node { action staff { account } person { id } } } } }`, map[string]any{"c": w.X.ID}, &log)
	var readers []string
	for _, ed := range log.ArchiveAuditLog.Edges {
		if ed.Node.Action == "READ" && ed.Node.Person.ID == w.OwnerA.ID {
			readers = append(readers, ed.Node.Staff.Account)
		}
	}
	if len(readers) != 2 || !contains(readers, w.butlerX) || !contains(readers, w.supervisorX) {
		t.Errorf("audit readers = %v, want the butler and the supervisor", readers)
	}
	e.staff(w.butlerX, w.Password).fails("FORBIDDEN", `query($c:ID!){ archiveAuditLog(communityId:$c){ edges { cursor } } }`, map[string]any{"c": w.X.ID})
	e.staff(w.supervisorY, w.Password).fails("FORBIDDEN", `query($c:ID!){ archiveAuditLog(communityId:$c){ edges { cursor } } }`, map[string]any{"c": w.X.ID})

	// Filtering by a sensitive flag is for supervisors (and butlers within
	// their own households) and is itself audited.
	var found struct{ Households struct{ TotalCount int } }
	supervisorX.ok(`query($c:ID!){ households(filter:{communityId:$c, careFlag: CHRONIC_ILLNESS}){ totalCount } }`, map[string]any{"c": w.X.ID}, &found)
	if found.Households.TotalCount != 1 {
		t.Errorf("supervisor's sensitive filter found %d", found.Households.TotalCount)
	}
	e.staff(w.butlerX2, w.Password).ok(`query($c:ID!){ households(filter:{communityId:$c, careFlag: CHRONIC_ILLNESS}){ totalCount } }`, map[string]any{"c": w.X.ID}, &found)
	if found.Households.TotalCount != 0 {
		t.Errorf("butler of another building found %d households by a sensitive flag", found.Households.TotalCount)
	}
	e.staff(w.engineerX, w.Password).fails("FORBIDDEN", `query($c:ID!){ households(filter:{communityId:$c, careFlag: HARDSHIP}){ totalCount } }`, map[string]any{"c": w.X.ID})
	e.staff(w.engineerX, w.Password).ok(`query($c:ID!){ households(filter:{communityId:$c, careFlag: ELDERLY_ALONE}){ totalCount } }`, map[string]any{"c": w.X.ID}, &found)
	if found.Households.TotalCount != 1 {
		t.Errorf("non-sensitive filter found %d", found.Households.TotalCount)
	}
}

func TestMembersAndStaffScope(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	add := `mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { role person { id name } } } }`

	// An owner adds family without a phone (a child) to their own flat at
	// once, not to a neighbour's, and cannot add another owner.
	var m struct {
		AddHouseholdMember struct {
			Membership struct {
				Role   string
				Person struct{ ID, Name string }
			}
		}
	}
	ownerA.ok(add, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": map[string]any{"name": "王小宝"}}}, &m)
	ownerA.fails("NOT_FOUND", add, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "role": "FAMILY", "person": map[string]any{"name": "王小宝"}}})
	ownerA.fails("FORBIDDEN", add, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "OWNER", "person": map[string]any{"name": "王二"}}})

	// One person in two households: the owner of HA also owns HC.
	butler := e.staff(w.butlerX, w.Password)
	butler.ok(add, map[string]any{"in": map[string]any{"householdId": w.HC.ID, "role": "OWNER", "personId": w.OwnerA.ID}}, nil)
	butler.fails("CONFLICT", add, map[string]any{"in": map[string]any{"householdId": w.HC.ID, "role": "OWNER", "personId": w.OwnerA.ID}})
	// A phone belongs to one person: staff who can see its holder get a
	// conflict for a different name, which names nobody.
	r := butler.fails("CONFLICT", add, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "role": "FAMILY", "person": map[string]any{"name": "冒名者", "phone": w.OwnerA.Phone}}})
	if r.field() != "input.person.phone" {
		t.Errorf("conflict names %q", r.field())
	}
	if msg := r.Errors[0].Message; strings.Contains(msg, "王") {
		t.Errorf("conflict message %q reveals the holder's surname", msg)
	}
	e.Clock.Advance(2 * 60e9)
	var mine struct{ MyHouseholds []struct{ ID string } }
	e.owner(w.OwnerA.Phone).ok(`{ myHouseholds { id } }`, nil, &mine)
	if len(mine.MyHouseholds) != 2 {
		t.Errorf("owner of two flats sees %d", len(mine.MyHouseholds))
	}
	// Staff of Y cannot touch X.
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", `mutation($h:ID!,$p:ID!){ removeHouseholdMember(householdId:$h, personId:$p){ id } }`, map[string]any{"h": w.HA.ID, "p": m.AddHouseholdMember.Membership.Person.ID})
	ownerA.ok(`mutation($h:ID!,$p:ID!){ removeHouseholdMember(householdId:$h, personId:$p){ id } }`, map[string]any{"h": w.HA.ID, "p": m.AddHouseholdMember.Membership.Person.ID}, nil)

	// Admins manage staff; scopes are checked against communities; changes apply at once.
	admin := e.staff(w.adminAcct, w.Password)
	create := `mutation($in:CreateStaffInput!){ createStaff(input:$in){ id account roles communities { id } } }`
	var st struct{ CreateStaff struct{ ID string } }
	admin.ok(create, map[string]any{"in": map[string]any{"account": "new.butler", "password": "Butler2026", "name": "新管家", "roles": []string{"BUTLER"}, "communityIds": []string{w.X.ID}, "buildingIds": []string{w.XB1.ID}}}, &st)
	admin.fails("CONFLICT", create, map[string]any{"in": map[string]any{"account": "new.butler", "password": "Butler2026", "name": "x", "roles": []string{"BUTLER"}, "communityIds": []string{w.X.ID}}})
	r = admin.fails("BAD_USER_INPUT", create, map[string]any{"in": map[string]any{"account": "other", "password": "Butler2026", "name": "x", "roles": []string{"BUTLER"}, "communityIds": []string{w.X.ID}, "buildingIds": []string{w.YB1.ID}}})
	if r.field() != "input.buildingIds" {
		t.Errorf("building outside scope names %q", r.field())
	}
	butler.fails("FORBIDDEN", create, map[string]any{"in": map[string]any{"account": "sneaky", "password": "Butler2026", "name": "x", "roles": []string{"ADMIN"}, "communityIds": []string{w.X.ID}}})
	nb := e.staff("new.butler", "Butler2026")
	nb.ok(householdQ, map[string]any{"id": w.HA.ID}, nil)
	admin.ok(`mutation($id:ID!,$in:StaffScopeInput!){ updateStaffScope(staffId:$id, input:$in){ id } }`, map[string]any{"id": st.CreateStaff.ID, "in": map[string]any{"communityIds": []string{w.Y.ID}, "buildingIds": []string{}}}, nil)
	nb.fails("NOT_FOUND", householdQ, map[string]any{"id": w.HA.ID})
	nb.ok(householdQ, map[string]any{"id": w.HY.ID}, nil)
}
