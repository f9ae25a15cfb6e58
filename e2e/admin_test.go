package e2e

import (
	"slices"
	"strings"
	"testing"
)

// The register (communities, buildings, households, people) as the admin
// console and the staff app keep it, through the API.

const (
	regCreateCommunity = `mutation($in:CreateCommunityInput!){ createCommunity(input:$in){ id name address timeZone } }`
	regCreateBuilding  = `mutation($in:CreateBuildingInput!){ createBuilding(input:$in){ id name units community { id } } }`
	regCreateHousehold = `mutation($in:CreateHouseholdInput!){ createHousehold(input:$in){ id label unit room floorArea moveInDate } }`
	regAddMember       = `mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { role person { id name phone } } } }`
	regHouseholdPage   = `query($b:ID!,$after:String){ households(filter:{buildingId:$b}, first:2, after:$after){
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id room unit } } } }`
	regSearch = `query($s:String!){ households(filter:{search:$s}, first:20){ totalCount edges { node { id label } } } }`
)

func regIn(in map[string]any) map[string]any { return map[string]any{"in": in} }

func TestAdminBuildsTheRegister(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)

	var com struct {
		CreateCommunity struct{ ID, Name, Address, TimeZone string }
	}
	admin.ok(regCreateCommunity, regIn(map[string]any{"name": "  翠湖苑 ", "address": "杭州市西湖区翠湖路 8 号"}), &com)
	c := com.CreateCommunity
	if c.Name != "翠湖苑" || c.TimeZone != "Asia/Shanghai" || c.Address != "杭州市西湖区翠湖路 8 号" {
		t.Fatalf("community = %+v, want the trimmed name and the default time zone", c)
	}

	var bld struct {
		CreateBuilding struct {
			ID, Name  string
			Units     []string
			Community struct{ ID string }
		}
	}
	admin.ok(regCreateBuilding, regIn(map[string]any{"communityId": c.ID, "name": "5", "units": []string{"1", "2"}}), &bld)
	b := bld.CreateBuilding
	if b.Community.ID != c.ID || !slices.Equal(b.Units, []string{"1", "2"}) {
		t.Fatalf("building = %+v", b)
	}

	var hh struct {
		CreateHousehold struct {
			ID, Label, Unit, Room string
			FloorArea             float64
			MoveInDate            string
		}
	}
	admin.ok(regCreateHousehold, regIn(map[string]any{"buildingId": b.ID, "unit": "1", "room": "1501", "floorArea": 89.5, "moveInDate": "2019-05-01"}), &hh)
	h := hh.CreateHousehold
	if h.Label != "5栋1单元1501" || h.FloorArea != 89.5 || h.MoveInDate != "2019-05-01" {
		t.Fatalf("household = %+v", h)
	}
	admin.ok(regAddMember, regIn(map[string]any{"householdId": h.ID, "role": "OWNER", "person": map[string]any{"name": "欧阳振华", "phone": "+86 137-6666-8888", "gender": "MALE"}}), nil)
	admin.ok(regAddMember, regIn(map[string]any{"householdId": h.ID, "role": "FAMILY", "person": map[string]any{"name": "欧阳小雨"}}), nil)

	// Read back: the household with its members, owners first, phones normalized.
	var got struct {
		Household struct {
			Label, Unit, Room string
			FloorArea         float64
			MoveInDate        string
			Community         struct{ Name string }
			Building          struct{ Name string }
			Members           []struct {
				Role   string
				Person struct {
					Name  string
					Phone *string
				}
			}
		}
	}
	admin.ok(`query($id:ID!){ household(id:$id){ label unit room floorArea moveInDate community { name } building { name }
		members { role person { name phone } } } }`, map[string]any{"id": h.ID}, &got)
	gh := got.Household
	if gh.Label != "5栋1单元1501" || gh.Unit != "1" || gh.Room != "1501" || gh.FloorArea != 89.5 || gh.MoveInDate != "2019-05-01" ||
		gh.Community.Name != "翠湖苑" || gh.Building.Name != "5" {
		t.Errorf("household read back = %+v", gh)
	}
	if len(gh.Members) != 2 {
		t.Fatalf("members = %+v, want the owner and the family member", gh.Members)
	}
	owner, family := gh.Members[0], gh.Members[1]
	if owner.Role != "OWNER" || owner.Person.Name != "欧阳振华" || owner.Person.Phone == nil || *owner.Person.Phone != "13766668888" {
		t.Errorf("owner = %+v (phone %v), want 欧阳振华 with the normalized phone 13766668888", owner, owner.Person.Phone)
	}
	if family.Role != "FAMILY" || family.Person.Name != "欧阳小雨" || family.Person.Phone != nil {
		t.Errorf("family member = %+v, want 欧阳小雨 without a phone", family)
	}

	var cg struct {
		Community struct {
			Name      string
			Buildings []struct {
				Name  string
				Units []string
			}
		}
	}
	admin.ok(`query($id:ID!){ community(id:$id){ name buildings { name units } } }`, map[string]any{"id": c.ID}, &cg)
	if len(cg.Community.Buildings) != 1 || cg.Community.Buildings[0].Name != "5" || !slices.Equal(cg.Community.Buildings[0].Units, []string{"1", "2"}) {
		t.Errorf("community buildings = %+v", cg.Community.Buildings)
	}

	// Four more flats, created out of order: the list walks them the way
	// staff do (unit, then room in natural order: 201 before 1001).
	for _, r := range []struct{ unit, room string }{{"2", "1502"}, {"1", "201"}, {"2", "101"}, {"1", "1001"}} {
		admin.ok(regCreateHousehold, regIn(map[string]any{"buildingId": b.ID, "unit": r.unit, "room": r.room}), nil)
	}
	want := []string{"1-201", "1-1001", "1-1501", "2-101", "2-1502"}

	var seen []string
	var after any // nil on the first page
	for pageNo := 1; ; pageNo++ {
		if pageNo > 5 {
			t.Fatalf("paging does not end; seen %v", seen)
		}
		var pg struct {
			Households struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Cursor string
					Node   struct{ ID, Room, Unit string }
				}
			}
		}
		admin.ok(regHouseholdPage, map[string]any{"b": b.ID, "after": after}, &pg)
		hs := pg.Households
		if hs.TotalCount != 5 {
			t.Errorf("page %d: totalCount = %d, want 5 on every page", pageNo, hs.TotalCount)
		}
		if len(hs.Edges) == 0 || len(hs.Edges) > 2 {
			t.Fatalf("page %d has %d edges", pageNo, len(hs.Edges))
		}
		for _, ed := range hs.Edges {
			seen = append(seen, ed.Node.Unit+"-"+ed.Node.Room)
		}
		if last := hs.Edges[len(hs.Edges)-1].Cursor; hs.PageInfo.EndCursor != last {
			t.Errorf("page %d: endCursor %q is not the last edge's cursor %q", pageNo, hs.PageInfo.EndCursor, last)
		}
		if !hs.PageInfo.HasNextPage {
			if len(seen) < len(want) {
				t.Fatalf("hasNextPage false after %v", seen)
			}
			break
		}
		after = hs.PageInfo.EndCursor
	}
	if !slices.Equal(seen, want) {
		t.Errorf("paged households = %v, want each once in walking order %v", seen, want)
	}

	// Search by a member's name and by room number.
	searches := []struct {
		term  string
		label []string
	}{
		{"欧阳小雨", []string{"5栋1单元1501"}},
		{"欧阳", []string{"5栋1单元1501"}},
		{"13766668888", []string{"5栋1单元1501"}},
		{"1502", []string{"5栋2单元1502"}},
		{"王建国", []string{"1栋1单元101"}},
		{"无此人", nil},
	}
	for _, s := range searches {
		var res struct {
			Households struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Label string } }
			}
		}
		admin.ok(regSearch, map[string]any{"s": s.term}, &res)
		var labels []string
		for _, ed := range res.Households.Edges {
			labels = append(labels, ed.Node.Label)
		}
		if !slices.Equal(labels, s.label) || res.Households.TotalCount != len(s.label) {
			t.Errorf("search %q found %v (total %d), want %v", s.term, labels, res.Households.TotalCount, s.label)
		}
	}
}

// Who may add to the register: admins everywhere; supervisors buildings and
// households in their own communities; butlers households in theirs; nobody
// else. A refused call writes nothing.
func TestRegisterPermissions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	supX := e.staff(w.supervisorX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)
	butlerX := e.staff(w.butlerX, w.Password)
	engineerX := e.staff(w.engineerX, w.Password)
	ownerA := e.owner(w.OwnerA.Phone)

	// What each mutation would change, read by the admin.
	buildingsOf := func(communityID string) func() int {
		return func() int {
			var out struct {
				Community struct{ Buildings []struct{ ID string } }
			}
			admin.ok(`query($id:ID!){ community(id:$id){ buildings { id } } }`, map[string]any{"id": communityID}, &out)
			return len(out.Community.Buildings)
		}
	}
	householdsIn := func(buildingID string) func() int {
		return func() int {
			var out struct{ Households struct{ TotalCount int } }
			admin.ok(`query($b:ID!){ households(filter:{buildingId:$b}, first:1){ totalCount } }`, map[string]any{"b": buildingID}, &out)
			return out.Households.TotalCount
		}
	}
	communities := func() int {
		var out struct{ Communities []struct{ ID string } }
		admin.ok(`{ communities { id } }`, nil, &out)
		return len(out.Communities)
	}
	membersOf := func(householdID string) func() int {
		return func() int {
			var out struct {
				Household struct{ Members []struct{ Role string } }
			}
			admin.ok(`query($id:ID!){ household(id:$id){ members { role } } }`, map[string]any{"id": householdID}, &out)
			return len(out.Household.Members)
		}
	}
	building := func(communityID, name string) map[string]any {
		return regIn(map[string]any{"communityId": communityID, "name": name, "units": []string{"1"}})
	}
	flat := func(buildingID, room string) map[string]any {
		return regIn(map[string]any{"buildingId": buildingID, "unit": "1", "room": room})
	}
	newCommunity := regIn(map[string]any{"name": "新小区"})

	tests := []struct {
		name     string
		c        *client
		mutation string
		vars     map[string]any
		code     string // "" = allowed
		count    func() int
	}{
		{"supervisor adds a building to their community", supX, regCreateBuilding, building(w.X.ID, "9"), "", buildingsOf(w.X.ID)},
		{"supervisor may not add a building to another community", supX, regCreateBuilding, building(w.Y.ID, "9"), "NOT_FOUND", buildingsOf(w.Y.ID)},
		{"supervisor adds a household in their community", supX, regCreateHousehold, flat(w.XB1.ID, "901"), "", householdsIn(w.XB1.ID)},
		{"supervisor may not add a household in another community", supX, regCreateHousehold, flat(w.YB1.ID, "901"), "NOT_FOUND", householdsIn(w.YB1.ID)}, // another community's building is as absent as an unknown one
		{"supervisor of Y may not add a household to a building of X", supY, regCreateHousehold, flat(w.XB1.ID, "902"), "NOT_FOUND", householdsIn(w.XB1.ID)},
		{"butler adds a household in their community, even outside their buildings", butlerX, regCreateHousehold, flat(w.XB2.ID, "903"), "", householdsIn(w.XB2.ID)},
		{"butler may not add a building", butlerX, regCreateBuilding, building(w.X.ID, "10"), "FORBIDDEN", buildingsOf(w.X.ID)},
		{"butler may not add a household in another community", butlerX, regCreateHousehold, flat(w.YB1.ID, "904"), "NOT_FOUND", householdsIn(w.YB1.ID)},
		{"engineer may not add a building", engineerX, regCreateBuilding, building(w.X.ID, "11"), "FORBIDDEN", buildingsOf(w.X.ID)},
		{"engineer may not add a household", engineerX, regCreateHousehold, flat(w.XB1.ID, "905"), "FORBIDDEN", householdsIn(w.XB1.ID)},
		{"owner may not add a household", ownerA, regCreateHousehold, flat(w.XB1.ID, "906"), "FORBIDDEN", householdsIn(w.XB1.ID)},
		{"owner may not add a building", ownerA, regCreateBuilding, building(w.X.ID, "12"), "FORBIDDEN", buildingsOf(w.X.ID)},
		{"owner may not create a community", ownerA, regCreateCommunity, newCommunity, "FORBIDDEN", communities},
		{"supervisor may not create a community", supX, regCreateCommunity, newCommunity, "FORBIDDEN", communities},
		{"butler may not create a community", butlerX, regCreateCommunity, newCommunity, "FORBIDDEN", communities},
		{"engineer may not create a community", engineerX, regCreateCommunity, newCommunity, "FORBIDDEN", communities},
		{"anonymous caller must sign in", e.anon(), regCreateCommunity, newCommunity, "UNAUTHENTICATED", communities},
		// A household of another community is hidden, not refused.
		{"supervisor of Y cannot add a member to a household of X: not found", supY, regAddMember,
			regIn(map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": map[string]any{"name": "外人"}}), "NOT_FOUND", membersOf(w.HA.ID)},
		{"admin creates a community", admin, regCreateCommunity, newCommunity, "", communities},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.count()
			if tc.code == "" {
				tc.c.ok(tc.mutation, tc.vars, nil)
				if after := tc.count(); after != before+1 {
					t.Errorf("count went from %d to %d, want one more", before, after)
				}
				return
			}
			tc.c.fails(tc.code, tc.mutation, tc.vars)
			if after := tc.count(); after != before {
				t.Errorf("refused call changed the register: count %d -> %d", before, after)
			}
		})
	}
}

// Bad input is refused with BAD_USER_INPUT naming the field, conflicts with
// CONFLICT, and nothing is written.
func TestRegisterValidation(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)

	// The whole register as the admin sees it; a refused call leaves it as it was.
	snapshot := func() string {
		r := admin.do(`query($h:ID!){ communities { name address timeZone buildings { name units } }
			households(first:100){ totalCount edges { node { label floorArea moveInDate } } }
			household(id:$h){ members { role person { name phone } } } }`, map[string]any{"h": w.HA.ID})
		if len(r.Errors) > 0 {
			t.Fatalf("snapshot: %+v", r.Errors)
		}
		return string(r.Data)
	}
	flat := func(extra map[string]any) map[string]any {
		in := map[string]any{"buildingId": w.XB1.ID, "unit": "1", "room": "808"}
		for k, v := range extra {
			in[k] = v
		}
		return regIn(in)
	}
	member := func(p map[string]any) map[string]any {
		return regIn(map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": p})
	}
	const hq = `query($id:ID!){ household(id:$id){ id } }`

	tests := []struct {
		name, query string
		vars        map[string]any
		code, field string
	}{
		{"community name is required", regCreateCommunity, regIn(map[string]any{"name": "  "}), "BAD_USER_INPUT", "input.name"},
		{"community name is at most 60 characters", regCreateCommunity, regIn(map[string]any{"name": strings.Repeat("苑", 61)}), "BAD_USER_INPUT", "input.name"},
		{"time zone must be known", regCreateCommunity, regIn(map[string]any{"name": "火星苑", "timeZone": "Mars/Olympus"}), "BAD_USER_INPUT", "input.timeZone"},
		{"unit names are unique within a building", regCreateBuilding, regIn(map[string]any{"communityId": w.X.ID, "name": "7", "units": []string{"1", "2", "1"}}), "BAD_USER_INPUT", "input.units"},
		{"a household's unit must be one of the building's", regCreateHousehold, flat(map[string]any{"unit": "3"}), "BAD_USER_INPUT", "input.unit"},
		{"room numbers are letters, digits and dashes", regCreateHousehold, flat(map[string]any{"room": "12#3"}), "BAD_USER_INPUT", "input.room"},
		{"floor area is at least 1 square metre", regCreateHousehold, flat(map[string]any{"floorArea": 0}), "BAD_USER_INPUT", "input.floorArea"},
		{"move-in date must be a real date", regCreateHousehold, flat(map[string]any{"moveInDate": "2026-02-30"}), "BAD_USER_INPUT", "input.moveInDate"},
		{"a member's phone must be a mobile number", regAddMember, member(map[string]any{"name": "王小二", "phone": "1234"}), "BAD_USER_INPUT", "input.person.phone"},
		{"a person's name is at most 40 characters", regAddMember, member(map[string]any{"name": strings.Repeat("王", 41)}), "BAD_USER_INPUT", "input.person.name"},
		{"an id must look like an id", hq, map[string]any{"id": "abc"}, "BAD_USER_INPUT", "id"},
		{"a well-formed unknown id is not found", hq, map[string]any{"id": "0123456789abcdef01234567"}, "NOT_FOUND", ""},
		{"a room exists once per unit", regCreateHousehold, flat(map[string]any{"room": w.HA.Room}), "CONFLICT", "input.room"},
		{"community names are unique", regCreateCommunity, regIn(map[string]any{"name": w.X.Name}), "CONFLICT", "input.name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot()
			r := admin.do(tc.query, tc.vars)
			if after := snapshot(); after != before {
				t.Errorf("refused call changed the register:\nbefore %s\nafter  %s", before, after)
			}
			if r.code() != tc.code {
				t.Fatalf("got %s, want %s: %+v", r.code(), tc.code, r.Errors)
			}
			if r.field() != tc.field {
				t.Errorf("error names field %q, want %q: %+v", r.field(), tc.field, r.Errors)
			}
		})
	}

	// The limits themselves are allowed.
	admin.ok(regCreateCommunity, regIn(map[string]any{"name": strings.Repeat("苑", 60), "timeZone": "Asia/Urumqi"}), nil)
	admin.ok(regAddMember, member(map[string]any{"name": strings.Repeat("王", 40)}), nil)
	admin.ok(regCreateHousehold, flat(map[string]any{"floorArea": 1, "moveInDate": "2024-02-29"}), nil)
}

// Messages are Chinese by default and English on request; the code and the
// field do not change with the language.
func TestRegisterErrorLanguage(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	zh := e.staff(w.adminAcct, w.Password)
	en := &client{e: e, token: zh.token, lang: "en"}
	vars := regIn(map[string]any{"name": strings.Repeat("苑", 61)})

	tests := []struct {
		lang string
		c    *client
		want string
	}{
		{"zh (default)", zh, "不能超过 60 个字符"},
		{"en", en, "must be at most 60 characters"},
	}
	for _, tc := range tests {
		r := tc.c.fails("BAD_USER_INPUT", regCreateCommunity, vars)
		if msg := r.Errors[0].Message; !strings.Contains(msg, tc.want) || r.field() != "input.name" {
			t.Errorf("%s: message %q field %q, want it to contain %q", tc.lang, msg, r.field(), tc.want)
		}
	}
}

// me tells the apps who is asking and which screens to show.
func TestMePermissions(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	// A butler with no buildings or households of their own yet.
	admin.ok(`mutation($in:CreateStaffInput!){ createStaff(input:$in){ id } }`, regIn(map[string]any{
		"account": "x.trainee", "password": "Trainee2026", "name": "见习管家", "roles": []string{"BUTLER"}, "communityIds": []string{w.X.ID},
	}), nil)

	tests := []struct {
		name         string
		c            *client
		kind         string
		has, hasNot  []string
		householdIDs []string // memberships, for residents
	}{
		{"owner", e.owner(w.OwnerA.Phone), "PERSON",
			[]string{"household:read_own", "care_profile:edit_own", "household:manage_family"}, []string{"household:read", "staff:manage"}, []string{w.HA.ID}},
		{"admin", admin, "STAFF",
			[]string{"staff:manage", "community:create", "building:create", "household:create"}, []string{"archive:read_sensitive", "household:read_own"}, nil},
		{"butler with buildings", e.staff(w.butlerX, w.Password), "STAFF",
			[]string{"archive:read_sensitive", "household:create", "visit:record"}, []string{"staff:manage", "community:create", "building:create"}, nil},
		{"butler without buildings", e.staff("x.trainee", "Trainee2026"), "STAFF",
			[]string{"household:create", "visit:record"}, []string{"archive:read_sensitive", "staff:manage"}, nil},
		{"supervisor", e.staff(w.supervisorX, w.Password), "STAFF",
			[]string{"archive:read_sensitive", "building:create", "audit:read", "staff:read"}, []string{"staff:manage", "community:create"}, nil},
		{"engineer", e.staff(w.engineerX, w.Password), "STAFF",
			[]string{"household:read"}, []string{"household:create", "archive:read_sensitive", "staff:manage"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				Me struct {
					Kind        string
					Permissions []string
					Memberships []struct {
						Role      string
						Household struct{ ID string }
					}
				}
			}
			tc.c.ok(`{ me { kind permissions memberships { role household { id } } } }`, nil, &out)
			me := out.Me
			if me.Kind != tc.kind {
				t.Errorf("kind = %s, want %s", me.Kind, tc.kind)
			}
			for _, p := range tc.has {
				if !contains(me.Permissions, p) {
					t.Errorf("permissions %v lack %s", me.Permissions, p)
				}
			}
			for _, p := range tc.hasNot {
				if contains(me.Permissions, p) {
					t.Errorf("permissions %v include %s", me.Permissions, p)
				}
			}
			var hs []string
			for _, m := range me.Memberships {
				hs = append(hs, m.Household.ID)
			}
			if !slices.Equal(hs, tc.householdIDs) {
				t.Errorf("memberships = %+v, want households %v", me.Memberships, tc.householdIDs)
			}
		})
	}
}

// Admins see every staff member; supervisors the staff of their own
// communities; others none.
func TestStaffMembersScope(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	const q = `query($c:ID){ staffMembers(communityId:$c){ totalCount edges { node { account } } } }`
	staffOfX := []string{w.butlerX, w.butlerX2, w.engineerX, w.supervisorX}
	everyone := []string{w.adminAcct, w.butlerX, w.butlerX2, w.engineerX, w.supervisorX, w.supervisorY}
	admin := e.staff(w.adminAcct, w.Password)
	supX := e.staff(w.supervisorX, w.Password)

	tests := []struct {
		name      string
		c         *client
		community any // nil = no filter
		code      string
		want      []string
	}{
		{"admin sees all staff", admin, nil, "", everyone},
		{"admin narrows to one community", admin, w.Y.ID, "", []string{w.supervisorY}},
		{"supervisor sees their community's staff", supX, nil, "", staffOfX},
		{"supervisor names their own community", supX, w.X.ID, "", staffOfX},
		{"supervisor may not list another community", supX, w.Y.ID, "FORBIDDEN", nil},
		{"butler may not list staff", e.staff(w.butlerX, w.Password), nil, "FORBIDDEN", nil},
		{"engineer may not list staff", e.staff(w.engineerX, w.Password), w.X.ID, "FORBIDDEN", nil},
		{"owner may not list staff", e.owner(w.OwnerA.Phone), nil, "FORBIDDEN", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{"c": tc.community}
			if tc.code != "" {
				tc.c.fails(tc.code, q, vars)
				return
			}
			var out struct {
				StaffMembers struct {
					TotalCount int
					Edges      []struct{ Node struct{ Account string } }
				}
			}
			tc.c.ok(q, vars, &out)
			var got []string
			for _, s := range out.StaffMembers.Edges {
				got = append(got, s.Node.Account)
			}
			if out.StaffMembers.TotalCount != len(tc.want) {
				t.Errorf("totalCount %d, want %d", out.StaffMembers.TotalCount, len(tc.want))
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("staff = %v, want %v", got, want)
			}
		})
	}
}
