package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/staff"
)

// raWorld is world() plus the staff the repair access rules need: a second
// engineer of X, staff of Y, and staff of X who have nothing to do with repairs.
type raWorld struct {
	*world
	e   *env
	ids map[string]string // staff account → id
}

const (
	raEngineer2 = "x.engineer2"
	raEngineerY = "y.engineer"
	raButlerY   = "y.butler"
	raSecurity  = "x.security"
	raCleaner   = "x.cleaner"
	raFamily    = "13900000011" // a FAMILY member of HA
)

func raSetup(t *testing.T, e *env) *raWorld {
	t.Helper()
	w := &raWorld{world: e.world(), e: e, ids: map[string]string{}}
	ctx := context.Background()
	s := e.App.Services
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	for acct, st := range map[string]struct {
		role      access.Role
		community string
	}{
		raEngineer2: {access.Engineer, w.X.ID}, raEngineerY: {access.Engineer, w.Y.ID}, raButlerY: {access.Butler, w.Y.ID},
		raSecurity: {access.Security, w.X.ID}, raCleaner: {access.Cleaner, w.X.ID},
	} {
		if _, err := s.Staff.Upsert(ctx, &staff.Staff{Account: acct, Name: acct, PasswordHash: hash, Roles: []access.Role{st.role}, CommunityIDs: []string{st.community}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, acct := range []string{w.butlerX, w.butlerX2, w.supervisorX, w.supervisorY, w.engineerX, w.adminAcct, raEngineer2, raEngineerY, raButlerY, raSecurity, raCleaner} {
		id, _, ok, err := s.Staff.StaffCredentials(ctx, acct)
		if err != nil || !ok {
			t.Fatalf("staff %s: %v", acct, err)
		}
		w.ids[acct] = id
	}
	if _, err := s.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "王小红", Phone: raFamily}, Role: access.Family}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *raWorld) staff(acct string) *client { return w.e.staff(acct, w.Password) }

const raSubmitQ = `mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ ` + repairFields + ` } }`

// raSubmit reports a fault without photos.
func raSubmit(t *testing.T, c *client, householdID, category, urgency string) repairView {
	t.Helper()
	in := map[string]any{"householdId": householdID, "category": category, "description": "报修：" + category, "inHome": true, "urgency": urgency}
	return decodeRepair(t, c.do(raSubmitQ, map[string]any{"in": in}), "submitRepairRequest")
}

// raStep runs a mutation on one request that must leave it in status want.
func raStep(t *testing.T, c *client, mutation string, vars map[string]any, want string) repairView {
	t.Helper()
	field := strings.TrimSpace(mutation[strings.Index(mutation, "{")+1 : strings.Index(mutation, "(id:")])
	v := decodeRepair(t, c.do(mutation+`{ `+repairFields+` } }`, vars), field)
	if v.Status != want {
		t.Fatalf("%s: status %s, want %s", field, v.Status, want)
	}
	return v
}

const (
	raTake     = `mutation($id:ID!){ takeRepairRequest(id:$id)`
	raDispatch = `mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e)`
	raHandOver = `mutation($id:ID!,$to:ID!){ handOverRepairRequest(id:$id, toStaffId:$to)`
	raAccept   = `mutation($id:ID!){ acceptWorkOrder(id:$id)`
	raStart    = `mutation($id:ID!){ startWork(id:$id)`
	raComplete = `mutation($id:ID!){ completeWork(id:$id, input:{paid:false})`
	raCancel   = `mutation($id:ID!){ cancelRepairRequest(id:$id)`
	raConfirm  = `mutation($id:ID!,$s:Upload!){ confirmRepair(id:$id, signature:$s, rating:5)`
	raGetQ     = `query($id:ID!){ repairRequest(id:$id){ ` + repairFields + ` } }`
)

func raID(id string) map[string]any { return map[string]any{"id": id} }

type raConn struct {
	Edges []struct {
		Cursor string
		Node   struct {
			ID, Status string
			Overdue    bool
		}
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   string
	}
	TotalCount int
}

func (c raConn) ids() []string {
	out := []string{}
	for _, e := range c.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

const raConnFields = `{ edges { cursor node { id status overdue } } pageInfo { hasNextPage endCursor } totalCount }`

func raWorkOrders(t *testing.T, c *client, filter map[string]any, page ...any) raConn {
	t.Helper()
	vars := map[string]any{"f": filter}
	if len(page) > 0 {
		vars["first"] = page[0]
	}
	if len(page) > 1 {
		vars["after"] = page[1]
	}
	var out struct{ WorkOrders raConn }
	c.ok(`query($f:WorkOrderFilter,$first:Int,$after:String){ workOrders(filter:$f, first:$first, after:$after)`+raConnFields+` }`, vars, &out)
	return out.WorkOrders
}

func raMine(t *testing.T, c *client) raConn {
	t.Helper()
	var out struct{ MyRepairRequests raConn }
	c.ok(`{ myRepairRequests(first:100)`+raConnFields+` }`, nil, &out)
	return out.MyRepairRequests
}

func raSame(got, want []string) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Who may see and act on one request, checked in each state it passes
// through: its household (owner and family), the staff on it, and everybody
// else: neighbours, engineers not on the order, staff of another community,
// staff of the community whose work is not repairs.
func TestRepairAccessByRoleAndState(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA, ownerB, ownerY, family := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner(w.OwnerY.Phone), e.owner(raFamily)
	butler, butler2, supervisor := w.staff(w.butlerX), w.staff(w.butlerX2), w.staff(w.supervisorX)
	supY, engY := w.staff(w.supervisorY), w.staff(raEngineerY)
	eng1, eng2 := w.staff(w.engineerX), w.staff(raEngineer2)
	security, cleaner := w.staff(raSecurity), w.staff(raCleaner)

	r := decodeRepair(t, ownerA.multipart(raSubmitQ, map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "category": "WATER", "description": "卫生间下水堵了", "inHome": true, "photos": []any{nil}}},
		map[string][]byte{"variables.in.photos.0": pngBytes}), "submitRepairRequest")
	photo := r.Photos[0]
	id := raID(r.ID)
	rB := raSubmit(t, ownerB, w.HB.ID, "ELECTRICITY", "NORMAL")
	rY := raSubmit(t, ownerY, w.HY.ID, "GAS", "EMERGENCY")

	steps := 1
	check := func(state string, engineerOnIt bool) {
		t.Helper()
		// Nobody outside may see it, or learn it exists.
		for name, c := range map[string]*client{"neighbour": ownerB, "owner in another community": ownerY, "supervisor of another community": supY,
			"engineer of another community": engY, "engineer not on the order": eng2, "security": security, "cleaner": cleaner} {
			if res := c.do(raGetQ, id); res.code() != "NOT_FOUND" || string(res.Data) != `{"repairRequest":null}` {
				t.Errorf("%s: %s sees the request: %+v %s", state, name, res.Errors, res.Data)
			}
			if status, _, _ := c.get(photo); status != 404 {
				t.Errorf("%s: %s got the photo: %d", state, name, status)
			}
		}
		ownerB.fails("NOT_FOUND", raCancel+`{ id } }`, id)
		ownerY.fails("NOT_FOUND", raCancel+`{ id } }`, id)
		eng2.fails("NOT_FOUND", raAccept+`{ id } }`, id)
		for name, c := range map[string]*client{"security": security, "cleaner": cleaner, "engineer": eng2, "supervisor of another community": supY} {
			if res := c.do(raTake+`{ id } }`, id); res.code() != "NOT_FOUND" && res.code() != "FORBIDDEN" {
				t.Errorf("%s: %s takes it: %+v %s", state, name, res.Errors, res.Data)
			}
		}
		// The household, the community's butlers and supervisors, and the
		// engineer on the order see it and its photo.
		insiders := map[string]*client{"owner": ownerA, "family": family, "butler": butler, "other butler": butler2, "supervisor": supervisor}
		if engineerOnIt {
			insiders["engineer"] = eng1
		} else if res := eng1.do(raGetQ, id); res.code() != "NOT_FOUND" {
			t.Errorf("%s: engineer before dispatch: %+v", state, res.Errors)
		}
		for name, c := range insiders {
			v := decodeRepair(t, c.do(raGetQ, id), "repairRequest")
			if v.Status != state || len(v.Timeline) != steps {
				t.Errorf("%s: %s sees %s with %d steps, want %d", state, name, v.Status, len(v.Timeline), steps)
			}
			if status, _, body := c.get(photo); status != 200 || !bytes.Equal(body, pngBytes) {
				t.Errorf("%s: %s cannot get the photo: %d", state, name, status)
			}
		}
	}
	check("SUBMITTED", false)

	raStep(t, butler, raTake, id, "TAKEN")
	steps++
	check("TAKEN", false)
	// Dispatch goes to an engineer of the request's community, nobody else.
	for name, to := range map[string]string{"butler": w.ids[w.butlerX2], "security": w.ids[raSecurity], "engineer of another community": w.ids[raEngineerY], "unknown staff": "000000000000000000000000"} {
		if res := butler.fails("BAD_USER_INPUT", raDispatch+`{ id } }`, map[string]any{"id": r.ID, "e": to}); res.field() != "engineerId" {
			t.Errorf("dispatch to %s: field %q", name, res.field())
		}
	}
	// Hand-over to a butler of the same community; the timeline shows it.
	v := raStep(t, butler, raHandOver, map[string]any{"id": r.ID, "to": w.ids[w.butlerX2]}, "TAKEN")
	steps++
	if v.Owner == nil || v.Owner.Account != w.butlerX2 || v.Timeline[len(v.Timeline)-1].Action != "HAND_OVER" || len(v.Timeline) != steps {
		t.Fatalf("handed over: owner %+v, timeline %+v", v.Owner, v.Timeline)
	}
	// Not to staff of another community (even by a supervisor), nor to an engineer.
	for name, to := range map[string]string{"butler of another community": w.ids[raButlerY], "supervisor of another community": w.ids[w.supervisorY], "engineer": w.ids[w.engineerX]} {
		if res := supervisor.fails("BAD_USER_INPUT", raHandOver+`{ id } }`, map[string]any{"id": r.ID, "to": to}); res.field() != "toStaffId" {
			t.Errorf("hand over to %s: field %q", name, res.field())
		}
	}
	// The previous owner no longer owns it.
	butler.fails("FORBIDDEN", raHandOver+`{ id } }`, map[string]any{"id": r.ID, "to": w.ids[w.butlerX]})
	check("TAKEN", false)

	raStep(t, butler2, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	steps++
	check("DISPATCHED", true)
	raStep(t, eng1, raAccept, id, "ACCEPTED")
	steps++
	check("ACCEPTED", true)
	raStep(t, eng1, raStart, id, "IN_PROGRESS")
	steps++
	check("IN_PROGRESS", true)
	raStep(t, eng1, raComplete, id, "COMPLETED")
	steps++
	check("COMPLETED", true)
	// Neither a neighbour nor staff may sign for the household; a FAMILY member may.
	ownerB.fails("NOT_FOUND", `query($id:ID!){ repairRequest(id:$id){ id } }`, id)
	if res := butler2.multipart(raConfirm+`{ id } }`, map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}); res.code() != "FORBIDDEN" {
		t.Errorf("butler signs for the owner: %+v", res.Errors)
	}
	v = decodeRepair(t, family.multipart(raConfirm+`{ `+repairFields+` } }`, map[string]any{"id": r.ID, "s": nil}, map[string][]byte{"variables.s": pngBytes}), "confirmRepair")
	steps++
	if v.Status != "CONFIRMED" || len(v.Acceptances) != 1 || v.Acceptances[0].Rating != 5 {
		t.Fatalf("family confirmed: %+v", v)
	}
	check("CONFIRMED", true)

	// The other household's request goes to the second engineer.
	raStep(t, butler, raTake, raID(rB.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": rB.ID, "e": w.ids[raEngineer2]}, "DISPATCHED")

	// Residents' own lists: their households' requests only.
	for name, tc := range map[string]struct {
		c    *client
		want []string
	}{"owner A": {ownerA, []string{r.ID}}, "family of A": {family, []string{r.ID}}, "owner B": {ownerB, []string{rB.ID}}, "owner in Y": {ownerY, []string{rY.ID}}} {
		if got := raMine(t, tc.c).ids(); !raSame(got, tc.want) {
			t.Errorf("myRepairRequests of %s = %v, want %v", name, got, tc.want)
		}
	}
	// Engineers' queues: the orders dispatched to them, nothing else.
	for name, tc := range map[string]struct {
		c      *client
		filter map[string]any
		want   []string
	}{
		"engineer 1":                {eng1, nil, []string{r.ID}},
		"engineer 1 in X":           {eng1, map[string]any{"communityId": w.X.ID}, []string{r.ID}},
		"engineer 2":                {eng2, nil, []string{rB.ID}},
		"engineer of Y":             {engY, nil, []string{}},
		"butler of X":               {butler, nil, []string{r.ID, rB.ID}},
		"supervisor of Y":           {supY, nil, []string{rY.ID}},
		"supervisor of Y in Y only": {supY, map[string]any{"communityId": w.Y.ID}, []string{rY.ID}},
	} {
		if got := raWorkOrders(t, tc.c, tc.filter); !raSame(got.ids(), tc.want) || got.TotalCount != len(tc.want) {
			t.Errorf("workOrders of %s = %v (total %d), want %v", name, got.ids(), got.TotalCount, tc.want)
		}
	}
	// Staff of another community, residents, and staff who do no repairs get
	// nothing of X's queue.
	for name, c := range map[string]*client{"supervisor of Y": supY, "engineer of Y": engY, "owner": ownerA, "security": security, "cleaner": cleaner} {
		for _, q := range []struct {
			query string
			vars  map[string]any
		}{
			{`query($f:WorkOrderFilter){ workOrders(filter:$f){ totalCount } }`, map[string]any{"f": map[string]any{"communityId": w.X.ID}}},
			{`query($c:ID!){ workOrderCounts(communityId:$c){ open } }`, map[string]any{"c": w.X.ID}},
			{`query($c:ID!){ engineers(communityId:$c){ openLoad } }`, map[string]any{"c": w.X.ID}},
		} {
			if res := c.do(q.query, q.vars); res.code() != "FORBIDDEN" {
				t.Errorf("%s: %s: %+v %s", name, q.query, res.Errors, res.Data)
			}
		}
	}
	// Engineers see their own orders, not the community's dashboard.
	eng1.fails("FORBIDDEN", `query($c:ID!){ workOrderCounts(communityId:$c){ open } }`, map[string]any{"c": w.X.ID})
}

// raSubError subscribes and expects the subscription to be refused with code,
// leaking nothing of the request.
func raSubError(t *testing.T, e *env, token, query string, vars map[string]any, code, secret string) {
	t.Helper()
	ws, err := dialWS(t, e, token)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", query, vars)
	m, err := ws.read(10 * time.Second)
	if err != nil || (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), code) ||
		(secret != "" && strings.Contains(string(m.Payload), secret)) {
		t.Errorf("subscription %v: %s %s (%v), want %s", vars, m.Type, m.Payload, err, code)
	}
}

const (
	raRequestSub = `subscription($id:ID!){ repairRequestUpdated(id:$id){ requestId type status request { description } } }`
	raQueueSub   = `subscription($c:ID!){ workOrderQueueChanged(communityId:$c){ communityId requestId type status } }`
)

// Subscriptions check access exactly as the queries do.
func TestRepairSubscriptionsCheckAccess(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA := e.owner(w.OwnerA.Phone)
	butler := w.staff(w.butlerX)
	r := raSubmit(t, ownerA, w.HA.ID, "WATER", "URGENT")
	raStep(t, butler, raTake, raID(r.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")

	for name, c := range map[string]*client{"neighbour": e.owner(w.OwnerB.Phone), "engineer not on the order": w.staff(raEngineer2),
		"supervisor of another community": w.staff(w.supervisorY), "security": w.staff(raSecurity)} {
		t.Run("request/"+name, func(t *testing.T) {
			raSubError(t, e, c.token, raRequestSub, raID(r.ID), "NOT_FOUND", "报修：WATER")
		})
	}
	for name, c := range map[string]*client{"supervisor of another community": w.staff(w.supervisorY), "butler of another community": w.staff(raButlerY),
		"owner": ownerA, "engineer": w.staff(w.engineerX), "security": w.staff(raSecurity)} {
		t.Run("queue/"+name, func(t *testing.T) {
			raSubError(t, e, c.token, raQueueSub, map[string]any{"c": w.X.ID}, "FORBIDDEN", r.ID)
		})
	}

	// Those who may see it do hear about it.
	eng := w.staff(w.engineerX)
	sub, err := dialWS(t, e, eng.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("1", raRequestSub, raID(r.ID))
	queue, err := dialWS(t, e, w.staff(w.supervisorX).token)
	if err != nil {
		t.Fatal(err)
	}
	queue.subscribe("q", raQueueSub, map[string]any{"c": w.X.ID})
	time.Sleep(300 * time.Millisecond)
	raStep(t, eng, raAccept, raID(r.ID), "ACCEPTED")
	for name, ws := range map[string]*wsClient{"engineer on the order": sub, "supervisor's queue": queue} {
		m, err := ws.read(10 * time.Second)
		if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), `"REPAIR_ACCEPT"`) || !strings.Contains(string(m.Payload), `"ACCEPTED"`) {
			t.Errorf("%s: %s %s (%v)", name, m.Type, m.Payload, err)
		}
	}
}

// A subscriber on server B hears, in order, the steps taken through server A.
func TestRepairEventsAcrossServers(t *testing.T) {
	a := newEnv(t)
	w := raSetup(t, a)
	b := startServer(t, a.DB)

	butler := w.staff(w.butlerX)
	queue, err := dialWS(t, b, butler.token)
	if err != nil {
		t.Fatal(err)
	}
	queue.subscribe("q", raQueueSub, map[string]any{"c": w.X.ID})
	time.Sleep(300 * time.Millisecond)

	ownerA := a.owner(w.OwnerA.Phone)
	r := raSubmit(t, ownerA, w.HA.ID, "WATER", "URGENT")
	// The owner follows the request on B too.
	sub, err := dialWS(t, b, ownerA.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("1", raRequestSub, raID(r.ID))
	time.Sleep(300 * time.Millisecond)
	raStep(t, butler, raTake, raID(r.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	// A request of another community is not on X's queue.
	raSubmit(t, a.owner(w.OwnerY.Phone), w.HY.ID, "GAS", "EMERGENCY")

	type ev struct{ Type, Status, RequestID, CommunityID string }
	read := func(ws *wsClient, field string) ev {
		t.Helper()
		m, err := ws.read(15 * time.Second)
		if err != nil {
			t.Fatalf("%s: no event: %v", field, err)
		}
		var p struct {
			Data   map[string]ev
			Errors []any
		}
		_ = json.Unmarshal(m.Payload, &p)
		if m.Type != "next" || len(p.Errors) > 0 {
			t.Fatalf("%s: %s %s", field, m.Type, m.Payload)
		}
		return p.Data[field]
	}
	for _, want := range []ev{{"REPAIR_SUBMIT", "SUBMITTED", r.ID, w.X.ID}, {"REPAIR_TAKE", "TAKEN", r.ID, w.X.ID}, {"REPAIR_DISPATCH", "DISPATCHED", r.ID, w.X.ID}} {
		if got := read(queue, "workOrderQueueChanged"); got != want {
			t.Fatalf("queue on B: got %+v, want %+v", got, want)
		}
	}
	// The request's subscriber may or may not hear the submit that happened
	// just before it subscribed; then every step, in order.
	got := read(sub, "repairRequestUpdated")
	if got.Type == "REPAIR_SUBMIT" {
		got = read(sub, "repairRequestUpdated")
	}
	for i, want := range []ev{{"REPAIR_TAKE", "TAKEN", r.ID, ""}, {"REPAIR_DISPATCH", "DISPATCHED", r.ID, ""}} {
		if i > 0 {
			got = read(sub, "repairRequestUpdated")
		}
		if got.Type != want.Type || got.Status != want.Status || got.RequestID != r.ID {
			t.Fatalf("request on B: got %+v, want %+v", got, want)
		}
	}
	if m, err := queue.read(time.Second); err == nil {
		t.Fatalf("queue on B heard more: %s %s", m.Type, m.Payload)
	}
}

// Photos are checked before anything is stored: a bad one, too many, or too
// large refuses the whole report and leaves no request and no file behind.
func TestRepairUploadLimits(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA := e.owner(w.OwnerA.Phone)
	butler := w.staff(w.butlerX)
	filesStored := func() int64 {
		n, err := e.DB.Collection("files.files").CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	in := func(n int) map[string]any {
		photos := make([]any, n)
		return map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "WALLS", "description": "墙皮脱落", "inHome": true, "photos": photos}}
	}
	script := []byte("<script>alert(1)</script>")
	big := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{1}, 8<<20)...)
	ten := map[string][]byte{}
	for i := range 10 {
		ten["variables.in.photos."+string(rune('0'+i))] = pngBytes
	}
	for _, tc := range []struct {
		name  string
		n     int
		parts map[string][]byte
		field string
	}{
		{"not an image", 1, map[string][]byte{"variables.in.photos.0": script}, "input.photos.0"},
		{"second photo not an image", 2, map[string][]byte{"variables.in.photos.0": pngBytes, "variables.in.photos.1": script}, "input.photos.1"},
		{"ten photos", 10, ten, "input.photos"},
		{"over 8 MB", 1, map[string][]byte{"variables.in.photos.0": big}, "input.photos.0"},
		{"over 8 MB after a good one", 2, map[string][]byte{"variables.in.photos.0": pngBytes, "variables.in.photos.1": big}, "input.photos.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ownerA.multipart(raSubmitQ, in(tc.n), tc.parts)
			if res.code() != "BAD_USER_INPUT" || res.field() != tc.field {
				t.Errorf("code %s field %q, want BAD_USER_INPUT %q (%+v)", res.code(), res.field(), tc.field, res.Errors)
			}
			if mine := raMine(t, ownerA); len(mine.Edges) != 0 {
				t.Errorf("a refused report was stored: %v", mine.ids())
			}
			if q := raWorkOrders(t, butler, map[string]any{"communityId": w.X.ID}); q.TotalCount != 0 {
				t.Errorf("queue has %d requests", q.TotalCount)
			}
			if n := filesStored(); n != 0 {
				t.Errorf("%d files left behind", n)
			}
		})
	}

	// Nine photos are fine; each is served to the household and the staff on
	// it, and to nobody else.
	nine := map[string][]byte{}
	for i := range 9 {
		nine["variables.in.photos."+string(rune('0'+i))] = pngBytes
	}
	r := decodeRepair(t, ownerA.multipart(raSubmitQ, in(9), nine), "submitRepairRequest")
	if len(r.Photos) != 9 || filesStored() != 9 {
		t.Fatalf("nine photos: %d urls, %d files", len(r.Photos), filesStored())
	}
	eng := w.staff(w.engineerX)
	for name, tc := range map[string]struct {
		c    *client
		want int
	}{
		"owner": {ownerA, 200}, "family": {e.owner(raFamily), 200}, "butler": {butler, 200}, "supervisor": {w.staff(w.supervisorX), 200},
		"neighbour": {e.owner(w.OwnerB.Phone), 404}, "staff of another community": {w.staff(w.supervisorY), 404},
		"engineer before dispatch": {eng, 404}, "security": {w.staff(raSecurity), 404}, "anonymous": {e.anon(), 401},
	} {
		for _, p := range []string{r.Photos[0], r.Photos[8]} {
			status, ct, body := tc.c.get(p)
			if status != tc.want || (tc.want == 200 && (ct != "image/png" || !bytes.Equal(body, pngBytes))) {
				t.Errorf("%s GET %s: %d %s, want %d", name, p, status, ct, tc.want)
			}
		}
	}
	raStep(t, butler, raTake, raID(r.ID), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r.ID, "e": w.ids[w.engineerX]}, "DISPATCHED")
	if status, _, _ := eng.get(r.Photos[0]); status != 200 {
		t.Errorf("engineer on the order: %d", status)
	}
}

// The staff queue's filters, counts, pages and overdue flags.
func TestRepairQueueFiltersAndCounts(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA, ownerB, ownerC := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner("13900000003")
	butler, butler2, supervisor := w.staff(w.butlerX), w.staff(w.butlerX2), w.staff(w.supervisorX)
	eng1 := w.staff(w.engineerX)
	eng1ID, eng2ID := w.ids[w.engineerX], w.ids[raEngineer2]

	// Six requests a minute apart (newest first in the queue), and one in Y.
	sub := func(c *client, h, cat, urg string) string {
		t.Helper()
		v := raSubmit(t, c, h, cat, urg)
		e.Clock.Advance(time.Minute)
		return v.ID
	}
	r1 := sub(ownerA, w.HA.ID, "WATER", "URGENT")                    // stays SUBMITTED; respond by +15m
	r2 := sub(ownerA, w.HA.ID, "ELECTRICITY", "NORMAL")              // TAKEN by the butler
	r3 := sub(ownerB, w.HB.ID, "WATER", "LOW")                       // DISPATCHED to engineer 1
	r4 := sub(ownerB, w.HB.ID, "DOORS_WINDOWS", "URGENT")            // ACCEPTED by engineer 1; arrive by +63m
	r5 := sub(ownerC, w.HC.ID, "GAS", "EMERGENCY")                   // CANCELLED
	r6 := sub(ownerA, w.HA.ID, "APPLIANCES", "NORMAL")               // COMPLETED by engineer 1
	raSubmit(t, e.owner(w.OwnerY.Phone), w.HY.ID, "WATER", "URGENT") // Y's: never in X's queue
	raStep(t, butler, raTake, raID(r2), "TAKEN")
	raStep(t, butler, raTake, raID(r3), "TAKEN")
	raStep(t, butler, raDispatch, map[string]any{"id": r3, "e": eng1ID}, "DISPATCHED")
	raStep(t, supervisor, raTake, raID(r4), "TAKEN")
	raStep(t, supervisor, raDispatch, map[string]any{"id": r4, "e": eng1ID}, "DISPATCHED")
	raStep(t, eng1, raAccept, raID(r4), "ACCEPTED")
	raStep(t, ownerC, raCancel, raID(r5), "CANCELLED")
	raStep(t, butler2, raTake, raID(r6), "TAKEN")
	raStep(t, butler2, raDispatch, map[string]any{"id": r6, "e": eng1ID}, "DISPATCHED")
	raStep(t, eng1, raAccept, raID(r6), "ACCEPTED")
	raStep(t, eng1, raStart, raID(r6), "IN_PROGRESS")
	raStep(t, eng1, raComplete, raID(r6), "COMPLETED")

	x := func(f map[string]any) map[string]any {
		out := map[string]any{"communityId": w.X.ID}
		for k, v := range f {
			out[k] = v
		}
		return out
	}
	filters := []struct {
		name   string
		filter map[string]any
		want   []string // newest first
	}{
		{"all", x(nil), []string{r6, r5, r4, r3, r2, r1}},
		{"submitted or taken", x(map[string]any{"statuses": []string{"SUBMITTED", "TAKEN"}}), []string{r2, r1}},
		{"with an engineer", x(map[string]any{"statuses": []string{"DISPATCHED", "ACCEPTED", "IN_PROGRESS"}}), []string{r4, r3}},
		{"finished", x(map[string]any{"statuses": []string{"COMPLETED", "CANCELLED", "CLOSED"}}), []string{r6, r5}},
		{"urgent", x(map[string]any{"urgency": "URGENT"}), []string{r4, r1}},
		{"emergency", x(map[string]any{"urgency": "EMERGENCY"}), []string{r5}},
		{"water", x(map[string]any{"category": "WATER"}), []string{r3, r1}},
		{"water and low", x(map[string]any{"category": "WATER", "urgency": "LOW"}), []string{r3}},
		{"engineer 1", x(map[string]any{"assigneeId": eng1ID}), []string{r6, r4, r3}},
		{"engineer 2", x(map[string]any{"assigneeId": eng2ID}), []string{}},
		{"owned by the butler", x(map[string]any{"assigneeId": w.ids[w.butlerX]}), []string{r3, r2}},
		{"owned by the supervisor", x(map[string]any{"assigneeId": w.ids[w.supervisorX]}), []string{r4}},
		{"engineer 1, accepted", x(map[string]any{"assigneeId": eng1ID, "statuses": []string{"ACCEPTED"}}), []string{r4}},
		{"overdue", x(map[string]any{"overdue": true}), []string{}},
		{"not overdue is no filter", x(map[string]any{"overdue": false}), []string{r6, r5, r4, r3, r2, r1}},
		{"no community: the butler's communities", nil, []string{r6, r5, r4, r3, r2, r1}},
	}
	check := func(when string, overdue ...string) {
		t.Helper()
		for _, f := range filters {
			want := f.want
			if f.name == "overdue" {
				want = overdue
			}
			got := raWorkOrders(t, butler, f.filter)
			if !slices.Equal(got.ids(), want) || got.TotalCount != len(want) {
				t.Errorf("%s: %s: got %v (total %d), want %v", when, f.name, got.ids(), got.TotalCount, want)
			}
			for _, edge := range got.Edges {
				if edge.Node.Overdue != slices.Contains(overdue, edge.Node.ID) {
					t.Errorf("%s: %s: %s overdue = %v", when, f.name, edge.Node.ID, edge.Node.Overdue)
				}
			}
		}
		var out struct {
			WorkOrderCounts struct {
				ByStatus []struct {
					Status string
					Count  int
				}
				Open, Overdue int
			}
		}
		supervisor.ok(`query($c:ID!){ workOrderCounts(communityId:$c){ byStatus { status count } open overdue } }`, map[string]any{"c": w.X.ID}, &out)
		got := map[string]int{}
		for _, s := range out.WorkOrderCounts.ByStatus {
			got[s.Status] = s.Count
		}
		want := map[string]int{"SUBMITTED": 1, "TAKEN": 1, "DISPATCHED": 1, "ACCEPTED": 1, "IN_PROGRESS": 0, "COMPLETED": 1, "CONFIRMED": 0, "CLOSED": 0, "CANCELLED": 1}
		if len(out.WorkOrderCounts.ByStatus) != 9 || !mapsEqual(got, want) || out.WorkOrderCounts.Open != 4 || out.WorkOrderCounts.Overdue != len(overdue) {
			t.Errorf("%s: counts = %+v, want %v, open 4, overdue %d", when, out.WorkOrderCounts, want, len(overdue))
		}
	}
	check("on time")

	// Pages of two, newest first, with the total on every page.
	var got []string
	after := ""
	for pageNo := 1; ; pageNo++ {
		var p raConn
		if after == "" {
			p = raWorkOrders(t, butler, x(nil), 2)
		} else {
			p = raWorkOrders(t, butler, x(nil), 2, after)
		}
		if len(p.Edges) != 2 || p.TotalCount != 6 || p.PageInfo.HasNextPage != (pageNo < 3) || p.PageInfo.EndCursor != p.Edges[1].Cursor {
			t.Fatalf("page %d: %v (total %d, next %v, end %q)", pageNo, p.ids(), p.TotalCount, p.PageInfo.HasNextPage, p.PageInfo.EndCursor)
		}
		got = append(got, p.ids()...)
		after = p.PageInfo.EndCursor
		if !p.PageInfo.HasNextPage {
			break
		}
	}
	if !slices.Equal(got, []string{r6, r5, r4, r3, r2, r1}) {
		t.Fatalf("pages = %v", got)
	}
	// A filtered page carries on within the filter.
	p := raWorkOrders(t, butler, x(map[string]any{"assigneeId": eng1ID}), 2)
	p2 := raWorkOrders(t, butler, x(map[string]any{"assigneeId": eng1ID}), 2, p.PageInfo.EndCursor)
	if !slices.Equal(p.ids(), []string{r6, r4}) || !slices.Equal(p2.ids(), []string{r3}) || p2.PageInfo.HasNextPage || p2.TotalCount != 3 {
		t.Errorf("filtered pages = %v, %v", p.ids(), p2.ids())
	}

	// Access tokens live 15 minutes on the test clock: sign in again after moving it.
	advance := func(d time.Duration) {
		e.Clock.Advance(d)
		butler, supervisor, eng1 = w.staff(w.butlerX), w.staff(w.supervisorX), w.staff(w.engineerX)
	}
	// 17 minutes after r1 was reported nobody has responded: overdue.
	advance(11 * time.Minute)
	check("after 17 minutes", r1)
	// 64 minutes after r4 was reported the engineer has still not arrived.
	advance(50 * time.Minute)
	check("after 67 minutes", r4, r1)
	// Starting work meets the arrival deadline: r4 is on time again.
	raStep(t, eng1, raStart, raID(r4), "IN_PROGRESS")
	var c struct {
		WorkOrderCounts struct{ Open, Overdue int }
	}
	butler.ok(`query($c:ID!){ workOrderCounts(communityId:$c){ open overdue } }`, map[string]any{"c": w.X.ID}, &c)
	if c.WorkOrderCounts.Open != 4 || c.WorkOrderCounts.Overdue != 1 {
		t.Errorf("after starting r4: %+v", c.WorkOrderCounts)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// A supervisor changes a community's deadlines: new requests get them,
// requests already reported keep theirs.
func TestRepairDeadlinesForNewRequestsOnly(t *testing.T) {
	e := newEnv(t)
	w := raSetup(t, e)
	ownerA := e.owner(w.OwnerA.Phone)
	supervisor := w.staff(w.supervisorX)
	type dl struct {
		Urgency                                      string
		RespondMinutes, ArriveMinutes, FinishMinutes int
	}
	deadlines := func(c *client, community string) map[string]dl {
		t.Helper()
		var out struct{ RepairDeadlines []dl }
		c.ok(`query($c:ID!){ repairDeadlines(communityId:$c){ urgency respondMinutes arriveMinutes finishMinutes } }`, map[string]any{"c": community}, &out)
		m := map[string]dl{}
		for _, d := range out.RepairDeadlines {
			m[d.Urgency] = d
		}
		return m
	}
	type times struct {
		SubmittedAt, RespondBy, ArriveBy, FinishBy time.Time
	}
	submit := func(urgency string) (string, times) {
		t.Helper()
		var out struct {
			SubmitRepairRequest struct {
				ID string
				times
			}
		}
		ownerA.ok(`mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ id submittedAt respondBy arriveBy finishBy } }`,
			map[string]any{"in": map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "漏水", "inHome": true, "urgency": urgency}}, &out)
		return out.SubmitRepairRequest.ID, out.SubmitRepairRequest.times
	}
	get := func(id string) times {
		t.Helper()
		var out struct{ RepairRequest times }
		ownerA.ok(`query($id:ID!){ repairRequest(id:$id){ submittedAt respondBy arriveBy finishBy } }`, map[string]any{"id": id}, &out)
		return out.RepairRequest
	}
	after := func(tm times, respond, arrive, finish int) bool {
		return tm.RespondBy.Sub(tm.SubmittedAt) == time.Duration(respond)*time.Minute &&
			tm.ArriveBy.Sub(tm.SubmittedAt) == time.Duration(arrive)*time.Minute && tm.FinishBy.Sub(tm.SubmittedAt) == time.Duration(finish)*time.Minute
	}

	if d := deadlines(supervisor, w.X.ID)["URGENT"]; d != (dl{"URGENT", 15, 60, 480}) {
		t.Fatalf("default URGENT deadlines = %+v", d)
	}
	oldID, old := submit("URGENT")
	if !after(old, 15, 60, 480) {
		t.Fatalf("old request deadlines = %+v", old)
	}

	set := `mutation($c:ID!,$u:Urgency!,$r:Int!,$a:Int!,$f:Int!){ setRepairDeadlines(communityId:$c, urgency:$u, respondMinutes:$r, arriveMinutes:$a, finishMinutes:$f){ urgency respondMinutes arriveMinutes finishMinutes } }`
	args := func(c string, r, a, f int) map[string]any {
		return map[string]any{"c": c, "u": "URGENT", "r": r, "a": a, "f": f}
	}
	// Butlers, engineers, residents and supervisors of other communities may not.
	for name, c := range map[string]*client{"butler": w.staff(w.butlerX), "engineer": w.staff(w.engineerX), "owner": ownerA, "supervisor of Y": w.staff(w.supervisorY)} {
		if res := c.do(set, args(w.X.ID, 10, 40, 300)); res.code() != "FORBIDDEN" {
			t.Errorf("%s sets deadlines: %+v", name, res.Errors)
		}
	}
	// Respond after arrive, arrive after finish, zero or negative, more than 90 days: refused.
	for _, bad := range [][3]int{{50, 40, 300}, {10, 400, 300}, {0, 40, 300}, {-5, 40, 300}, {10, 40, 90*24*60 + 1}} {
		if res := supervisor.do(set, args(w.X.ID, bad[0], bad[1], bad[2])); res.code() != "BAD_USER_INPUT" {
			t.Errorf("deadlines %v: %+v %s", bad, res.Errors, res.Data)
		}
	}
	if d := deadlines(supervisor, w.X.ID)["URGENT"]; d != (dl{"URGENT", 15, 60, 480}) {
		t.Fatalf("refused changes changed the deadlines: %+v", d)
	}

	var out struct{ SetRepairDeadlines []dl }
	supervisor.ok(set, args(w.X.ID, 10, 40, 300), &out)
	if len(out.SetRepairDeadlines) != 4 {
		t.Fatalf("setRepairDeadlines returned %+v", out.SetRepairDeadlines)
	}
	after1 := deadlines(supervisor, w.X.ID)
	want := map[string]dl{"LOW": {"LOW", 240, 2880, 10080}, "NORMAL": {"NORMAL", 30, 240, 1440}, "URGENT": {"URGENT", 10, 40, 300}, "EMERGENCY": {"EMERGENCY", 5, 30, 240}}
	for u, d := range want {
		if after1[u] != d {
			t.Errorf("%s after the change = %+v, want %+v", u, after1[u], d)
		}
	}
	for _, d := range out.SetRepairDeadlines {
		if d != want[d.Urgency] {
			t.Errorf("setRepairDeadlines returned %+v", d)
		}
	}
	// Another community is unaffected.
	if d := deadlines(w.staff(w.supervisorY), w.Y.ID)["URGENT"]; d != (dl{"URGENT", 15, 60, 480}) {
		t.Errorf("Y's URGENT deadlines = %+v", d)
	}

	e.Clock.Advance(time.Minute)
	if got := get(oldID); !got.SubmittedAt.Equal(old.SubmittedAt) || !got.RespondBy.Equal(old.RespondBy) || !got.ArriveBy.Equal(old.ArriveBy) || !got.FinishBy.Equal(old.FinishBy) {
		t.Errorf("the old request's deadlines moved: %+v → %+v", old, got)
	}
	_, fresh := submit("URGENT")
	if !after(fresh, 10, 40, 300) {
		t.Errorf("new URGENT request deadlines = %+v, want +10m/+40m/+300m", fresh)
	}
	if _, normal := submit("NORMAL"); !after(normal, 30, 240, 1440) {
		t.Errorf("new NORMAL request deadlines = %+v", normal)
	}
}

// Minutes so large that minutes × time.Minute overflows int64 are out of
// range, not silently stored as something else: 307445736 minutes wraps to
// 1m26s. (Fails until SetRepairDeadlines bounds the minutes before
// converting them to a time.Duration.)
func TestRepairDeadlinesMinutesOverflow(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	supervisor := e.staff(w.supervisorX, w.Password)
	res := supervisor.do(`mutation($c:ID!){ setRepairDeadlines(communityId:$c, urgency:URGENT, respondMinutes:307445736, arriveMinutes:307445737, finishMinutes:307445800){ urgency respondMinutes arriveMinutes finishMinutes } }`,
		map[string]any{"c": w.X.ID})
	if res.code() != "BAD_USER_INPUT" {
		t.Errorf("overflowing minutes accepted: %+v %s", res.Errors, res.Data)
	}
	var out struct {
		RepairDeadlines []struct {
			Urgency                                      string
			RespondMinutes, ArriveMinutes, FinishMinutes int
		}
	}
	supervisor.ok(`query($c:ID!){ repairDeadlines(communityId:$c){ urgency respondMinutes arriveMinutes finishMinutes } }`, map[string]any{"c": w.X.ID}, &out)
	for _, d := range out.RepairDeadlines {
		if d.Urgency == "URGENT" && (d.RespondMinutes != 15 || d.ArriveMinutes != 60 || d.FinishMinutes != 480) {
			t.Errorf("URGENT deadlines became %+v", d)
		}
	}
}
