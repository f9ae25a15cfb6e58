package e2e

import (
	"context"
	"strings"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/household"
)

// Issue 9: what residents and non-care staff may not read. Each test is the
// attack: read everything reachable and look for the secret in the raw
// response, not only in the fields the client asked about.

const visitNote = "高血压复查，家属经济困难"

// noLeak fails when the raw response contains any of the secrets.
func noLeak(t *testing.T, who string, r *gqlResponse, secrets ...string) {
	t.Helper()
	raw := string(r.Data)
	for _, e := range r.Errors {
		raw += " " + e.Message
	}
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("%s: the response contains %q: %s", who, s, raw)
		}
	}
}

func TestVisitNotesOnlyForTheCareRoles(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	butler, butler2, supervisor := w.staff(w.butlerX), w.staff(w.butlerX2), w.staff(w.supervisorX)
	record := `mutation($in:RecordVisitInput!){ recordVisit(input:$in){ id } }`
	var mine, theirs struct{ RecordVisit struct{ ID string } }
	// The butler of HA's building visits; so does the butler of building 2,
	// standing in for a day.
	butler.ok(record, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "visitedAt": "2026-11-22T09:30:00+08:00",
		"topics": []string{"身体情况"}, "notes": visitNote, "followUp": "联系社区医生", "followUpDue": "2026-11-25"}}, &mine)
	butler2.ok(record, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "visitedAt": "2026-11-22T10:30:00+08:00",
		"topics": []string{"代班走访"}, "notes": "代班记录"}}, &theirs)

	const (
		listAll       = `{ visits(first:50){ edges { node { id notes followUp topics } } } }`
		listCommunity = `query($c:ID!){ visits(filter:{communityId:$c}, first:50){ edges { node { id notes followUp topics } } } }`
		listDue       = `query($c:ID!){ visits(filter:{communityId:$c, followUpDueBy:"2026-12-31"}){ edges { node { id notes followUp } } } }`
		listHousehold = `query($h:ID!){ visits(filter:{householdId:$h}){ edges { node { id notes followUp } } } }`
		nested        = `query($h:ID!){ household(id:$h){ id visits { edges { node { id notes followUp } } } } }`
		complete      = `mutation($id:ID!){ completeVisitFollowUp(visitId:$id){ id notes } }`
	)
	vars := map[string]any{"c": w.X.ID, "h": w.HA.ID, "id": mine.RecordVisit.ID}
	paths := map[string]string{"list": listAll, "community list": listCommunity, "visits due": listDue, "household filter": listHousehold, "household.visits": nested}

	// Cleaners, security, engineers, admins and residents: refused by every
	// path, and the note appears nowhere.
	for name, c := range map[string]*client{"cleaner": w.staff(raCleaner), "security": w.staff(raSecurity), "engineer": w.staff(w.engineerX),
		"admin": w.staff(w.adminAcct), "owner": e.owner(w.OwnerA.Phone), "supervisor of another community": w.staff(w.supervisorY)} {
		for path, q := range paths {
			r := c.do(q, vars)
			// Refused, except the supervisor of Y's own (empty) list.
			if r.code() != "FORBIDDEN" && r.code() != "NOT_FOUND" && !(name == "supervisor of another community" && path == "list") {
				t.Errorf("%s reads visits by %s: %+v %s", name, path, r.Errors, r.Data)
			}
			noLeak(t, name+" "+path, r, visitNote, "联系社区医生", "代班记录", mine.RecordVisit.ID, theirs.RecordVisit.ID)
		}
		r := c.do(complete, vars)
		if r.code() != "FORBIDDEN" && r.code() != "NOT_FOUND" {
			t.Errorf("%s completes the follow-up: %+v", name, r.Errors)
		}
		noLeak(t, name+" complete", r, visitNote)
	}

	ids := func(c *client, q string) []string {
		t.Helper()
		var out struct {
			Visits *struct {
				Edges []struct{ Node struct{ ID string } }
			}
			Household *struct {
				Visits struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
		c.ok(q, vars, &out)
		conn := out.Visits
		if conn == nil {
			conn = &out.Household.Visits
		}
		got := []string{}
		for _, e := range conn.Edges {
			got = append(got, e.Node.ID)
		}
		return got
	}
	both := []string{mine.RecordVisit.ID, theirs.RecordVisit.ID}
	for path, q := range map[string]string{"list": listAll, "community list": listCommunity, "household filter": listHousehold, "household.visits": nested} {
		// The household's butler and the supervisor read every visit of HA.
		if got := ids(butler, q); !raSame(got, both) {
			t.Errorf("the household's butler by %s: %v", path, got)
		}
		if got := ids(supervisor, q); !raSame(got, both) {
			t.Errorf("the supervisor by %s: %v", path, got)
		}
		// The stand-in reads the visit they made, not the butler's notes.
		if got := ids(butler2, q); !raSame(got, []string{theirs.RecordVisit.ID}) {
			t.Errorf("the visiting stand-in by %s: %v", path, got)
		}
	}
	noLeak(t, "stand-in", butler2.do(listCommunity, vars), visitNote)
	if r := butler2.do(complete, vars); r.code() != "NOT_FOUND" {
		t.Errorf("the stand-in completes someone else's follow-up: %+v", r.Errors)
	}
	// The butler's task list carries the follow-up to its owner only.
	if l := butler.tasks(t, ""); l.kinds()["VISIT_FOLLOW_UP"] != w.HA.ID {
		t.Errorf("the household's butler lacks the follow-up: %+v", l.ButlerTasks.Tasks)
	}
	// A cleaner's own list (inspections owe them there) carries no household's.
	if l := w.staff(raCleaner).tasks(t, ""); l.ButlerTasks.Total != 0 {
		t.Errorf("the cleaner's list: %+v", l.ButlerTasks.Tasks)
	}
	butler.ok(complete, vars, nil)
}

func TestQuantitiesThatBookNothingAreRefused(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	owner := e.owner(w.OwnerA.Phone)
	var cheap struct{ UpsertServiceItem struct{ ID string } }
	e.staff(w.supervisorX, w.Password).ok(soUpsert, map[string]any{"in": map[string]any{"communityId": w.X.ID, "name": "代收快递",
		"category": "HOUSEKEEPING", "priceFen": 1, "unit": "PER_ITEM", "free": false, "windows": weekdays}}, &cheap)
	for _, tc := range []struct {
		name, item string
		qty        float64
	}{
		{"rounds to zero thousandths", w.cleaning, 0.0004},
		{"zero", w.cleaning, 0},
		{"negative", w.cleaning, -2},
		{"absurdly large", w.cleaning, 1e300},
		{"books less than a fen", cheap.UpsertServiceItem.ID, 0.001},
	} {
		r := owner.fails("BAD_USER_INPUT", soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": tc.item, "slot": tuesday, "quantity": tc.qty}})
		if r.field() != "input.quantity" {
			t.Errorf("%s: field %q", tc.name, r.field())
		}
	}
	var mine struct {
		MyServiceOrders struct{ Edges []struct{ Cursor string } }
	}
	owner.ok(`{ myServiceOrders { edges { cursor } } }`, nil, &mine)
	if len(mine.MyServiceOrders.Edges) != 0 {
		t.Errorf("a refused booking was stored: %+v", mine)
	}
	owner.ok(soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": cheap.UpsertServiceItem.ID, "slot": tuesday, "quantity": 0.5}}, nil)

	// Materials on a paid repair: the same rule, naming the material.
	id := staffID(t, e, w.engineerX)
	r := raSubmit(t, owner, w.HA.ID, "WATER", "NORMAL")
	butler, eng := e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password)
	raStep(t, butler, raTake, raID(r.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r.ID, "e": id}, "DISPATCHED")
	raStep(t, eng, raAccept, raID(r.ID), "ACCEPTED")
	raStep(t, eng, raStart, raID(r.ID), "IN_PROGRESS")
	complete := `mutation($id:ID!,$in:CompleteWorkInput!){ completeWork(id:$id, input:$in){ id status } }`
	for name, m := range map[string]map[string]any{
		"rounds to zero":        {"name": "生料带", "quantity": 0.0001, "unitPriceFen": 500, "suppliedByOwner": false},
		"books less than 1 fen": {"name": "垫片", "quantity": 0.001, "unitPriceFen": 1, "suppliedByOwner": false},
		"negative":              {"name": "阀芯", "quantity": -1, "unitPriceFen": 2500, "suppliedByOwner": false},
	} {
		res := eng.fails("BAD_USER_INPUT", complete, map[string]any{"id": r.ID, "in": map[string]any{"paid": true, "materials": []any{
			map[string]any{"name": "阀芯", "quantity": 1, "unitPriceFen": 2500, "suppliedByOwner": false}, m}}})
		if res.field() != "input.materials.1.quantity" {
			t.Errorf("%s: field %q", name, res.field())
		}
	}
	if v := decodeRepair(t, butler.do(raGetQ, raID(r.ID)), "repairRequest"); v.Status != "IN_PROGRESS" {
		t.Fatalf("a refused completion moved the request: %s", v.Status)
	}
}

// staffID looks a staff account's id up.
func staffID(t *testing.T, e *env, account string) string {
	t.Helper()
	id, _, ok, err := e.App.Services.Staff.StaffCredentials(context.Background(), account)
	if err != nil || !ok {
		t.Fatalf("staff %s: %v", account, err)
	}
	return id
}

const annFields = `id title audience { buildingIds careFlags you withheld } recipients readCount read`

func TestCareGroupMessagesShowResidentsOnlyThemselves(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ctx := context.Background()
	if err := e.App.Services.Households.SetCareFlags(ctx, w.HB.ID, []string{"HARDSHIP"}); err != nil {
		t.Fatal(err)
	}
	supervisor := w.staff(w.supervisorX)
	var pub struct{ PublishAnnouncement struct{ ID string } }
	supervisor.ok(`mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "困难家庭慰问", "body": "春节慰问品请到服务中心领取", "kind": "NOTICE",
		"audience": map[string]any{"careFlags": []string{"HARDSHIP"}}}}, &pub)
	id := pub.PublishAnnouncement.ID
	vars := map[string]any{"c": w.X.ID, "id": id}
	list := `query($c:ID!){ announcements(communityId:$c){ edges { node { ` + annFields + ` } } } }`
	one := `query($id:ID!){ announcement(id:$id){ ` + annFields + ` } }`
	read := `mutation($id:ID!){ markAnnouncementRead(id:$id){ ` + annFields + ` } }`

	// The recipient sees it, and only that they are a recipient.
	ownerB := e.owner(w.OwnerB.Phone)
	for name, q := range map[string]string{"list": list, "one": one, "mark read": read} {
		r := ownerB.do(q, vars)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), id) {
			t.Fatalf("the recipient by %s: %+v %s", name, r.Errors, r.Data)
		}
		noLeak(t, "recipient "+name, r, "HARDSHIP", w.XB1.ID)
		if !strings.Contains(string(r.Data), `"you":true`) || !strings.Contains(string(r.Data), `"recipients":null`) || !strings.Contains(string(r.Data), `"careFlags":[]`) {
			t.Errorf("the recipient by %s is shown more than themselves: %s", name, r.Data)
		}
	}
	// A neighbour who is not in the group learns nothing, not even that it exists.
	ownerA := e.owner(w.OwnerA.Phone)
	ownerA.fails("NOT_FOUND", one, vars)
	noLeak(t, "neighbour", ownerA.do(list, vars), id)

	// Staff without the archive's access to the group: no flag, no count.
	for name, c := range map[string]*client{"butler": w.staff(w.butlerX), "engineer": w.staff(w.engineerX), "security": w.staff(raSecurity),
		"cleaner": w.staff(raCleaner), "admin": w.staff(w.adminAcct)} {
		for q, qs := range map[string]string{"list": list, "one": one} {
			r := c.do(qs, vars)
			if len(r.Errors) > 0 {
				t.Fatalf("%s %s: %+v", name, q, r.Errors)
			}
			noLeak(t, name+" "+q, r, "HARDSHIP")
			if !strings.Contains(string(r.Data), `"withheld":true`) || !strings.Contains(string(r.Data), `"recipients":null`) {
				t.Errorf("%s %s: %s", name, q, r.Data)
			}
		}
	}
	// The supervisor sees the group, and the read is audited.
	r := supervisor.do(one, vars)
	if !strings.Contains(string(r.Data), "HARDSHIP") || !strings.Contains(string(r.Data), `"recipients":1`) {
		t.Fatalf("the supervisor: %+v %s", r.Errors, r.Data)
	}
	var log struct {
		ArchiveAuditLog struct {
			Edges []struct{ Node struct{ Action string } }
		}
	}
	supervisor.ok(`query($c:ID!){ archiveAuditLog(communityId:$c){ edges { node { action } } } }`, vars, &log)
	if len(log.ArchiveAuditLog.Edges) == 0 || log.ArchiveAuditLog.Edges[0].Node.Action != "AUDIENCE" {
		t.Errorf("the supervisor's read of a sensitive audience is not audited: %+v", log)
	}

	// A greeting to the same care group: the recipient's inbox and the
	// campaign list carry no flag for anyone but the supervisor.
	supervisor.ok(`mutation($in:GreetingCampaignInput!){ sendGreetingCampaign(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "careFlag": "HARDSHIP", "title": "冬至", "text": "冬至快乐，记得吃饺子"}}, nil)
	inbox := ownerB.do(`{ notifications(first:50){ edges { node { kind title body data { key value } } } } }`, nil)
	if len(inbox.Errors) > 0 || !strings.Contains(string(inbox.Data), "冬至") {
		t.Fatalf("the recipient's inbox: %+v %s", inbox.Errors, inbox.Data)
	}
	noLeak(t, "recipient inbox", inbox, "HARDSHIP", "CARE_GROUP")
	campaigns := `query($c:ID!){ greetingCampaigns(communityId:$c){ edges { node { id audience careFlag withheld recipients } } } }`
	for name, c := range map[string]*client{"butler": w.staff(w.butlerX), "admin": w.staff(w.adminAcct)} {
		r := c.do(campaigns, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("%s campaigns: %+v", name, r.Errors)
		}
		noLeak(t, name+" campaigns", r, "HARDSHIP")
		if !strings.Contains(string(r.Data), `"withheld":true`) || !strings.Contains(string(r.Data), `"recipients":null`) {
			t.Errorf("%s campaigns: %s", name, r.Data)
		}
	}
	if r := supervisor.do(campaigns, vars); !strings.Contains(string(r.Data), "HARDSHIP") {
		t.Errorf("the supervisor's campaigns: %+v %s", r.Errors, r.Data)
	}
}

func TestAnnouncementRecipientsAreFixedWhenSent(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	s := e.App.Services
	butler, supervisor := e.staff(w.butlerX, w.Password), e.staff(w.supervisorX, w.Password)
	publish := `mutation($in:PublishAnnouncementInput!){ publishAnnouncement(input:$in){ id } }`
	var toB2, toGroup struct{ PublishAnnouncement struct{ ID string } }
	butler.ok(publish, map[string]any{"in": map[string]any{"communityId": w.X.ID, "title": "2栋停水", "body": "明日停水",
		"kind": "OUTAGE", "audience": map[string]any{"buildingIds": []string{w.XB2.ID}}}}, &toB2)
	supervisor.ok(publish, map[string]any{"in": map[string]any{"communityId": w.X.ID, "title": "慢病随访", "body": "社区医生周六上门",
		"kind": "NOTICE", "audience": map[string]any{"careFlags": []string{"CHRONIC_ILLNESS"}}}}, &toGroup)

	// After sending: a family moves into building 2, and HA gains the flag.
	h, err := s.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: w.XB2.ID, Unit: w.XB2.Units[0], Room: "202"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: h.ID,
		Person: &household.PersonInput{Name: "周新", Phone: "13900000009"}, Role: access.Owner}); err != nil {
		t.Fatal(err)
	}
	if err := s.Households.SetCareFlags(ctx, w.HA.ID, []string{"CHRONIC_ILLNESS"}); err != nil {
		t.Fatal(err)
	}
	one := `query($id:ID!){ announcement(id:$id){ id title } }`
	list := `query($c:ID!){ announcements(communityId:$c){ edges { node { id title } } } }`
	newcomer, ownerA := e.owner("13900000009"), e.owner(w.OwnerA.Phone)
	for who, c := range map[string]*client{"newcomer to building 2": newcomer, "household that gained the flag": ownerA} {
		c.fails("NOT_FOUND", one, map[string]any{"id": toB2.PublishAnnouncement.ID})
		c.fails("NOT_FOUND", one, map[string]any{"id": toGroup.PublishAnnouncement.ID})
		c.fails("NOT_FOUND", `mutation($id:ID!){ markAnnouncementRead(id:$id){ id } }`, map[string]any{"id": toB2.PublishAnnouncement.ID})
		noLeak(t, who, c.do(list, map[string]any{"c": w.X.ID}), toB2.PublishAnnouncement.ID, toGroup.PublishAnnouncement.ID)
	}
	// The original recipient still has it.
	var got struct{ Announcement struct{ ID string } }
	e.owner("13900000003").ok(one, map[string]any{"id": toB2.PublishAnnouncement.ID}, &got)
	if got.Announcement.ID != toB2.PublishAnnouncement.ID {
		t.Fatalf("the original recipient lost it: %+v", got)
	}
}
