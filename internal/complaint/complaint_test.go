package complaint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// bus stands in for the event spine and records what was published.
type bus struct {
	mu     sync.Mutex
	events []events.Event
}

func (b *bus) Publish(_ context.Context, e events.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, e)
	return nil
}

func (b *bus) of(subject string) []events.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []events.Event
	for _, e := range b.events {
		if e.SubjectID == subject {
			out = append(out, e)
		}
	}
	return out
}

// world is two communities: X with households HA (owner A, family member
// FA) and HB (owner B), Y with HY (owner Y); staff of every role.
type world struct {
	svc   *Service
	bus   *bus
	clock *clock
	fs    *files.Store

	X, Y                          *community.Community
	HA, HB, HY                    *household.Household
	ownerA, familyA, ownerB, ownY *access.Caller

	butlerX, butlerX2, supervisorX, engineerX, securityX, cleanerX *access.Caller
	butlerY, supervisorY, admin                                    *access.Caller
}

func staffCaller(id string, role access.Role, communities ...string) *access.Caller {
	return &access.Caller{Kind: auth.KindStaff, ID: id, Roles: []access.Role{role}, Communities: communities}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clk := &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	communities := community.NewService(db, "co", clk.Now)
	households := household.NewService(db, communities, nil, nil, clk.Now)
	w := &world{bus: &bus{}, clock: clk, fs: files.NewStore(db, clk.Now)}
	w.svc = NewService(db, households, w.fs, w.bus, nil, clk.Now)
	w.admin = staffCaller("admin", access.Admin)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.X, err = communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "春晖苑"})
	must(err)
	w.Y, err = communities.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "桂香园"})
	must(err)
	xb, err := communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.X.ID, Name: "1", Units: []string{"1"}})
	must(err)
	yb, err := communities.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.Y.ID, Name: "1", Units: []string{"1"}})
	must(err)
	member := func(h *household.Household, name, phone string, role access.Role) *access.Caller {
		m, err := households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		must(err)
		c, err := households.Caller(ctx, m.PersonID, "")
		must(err)
		return c
	}
	flat := func(b *community.Building, room string) *household.Household {
		h, err := households.Create(ctx, w.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		must(err)
		return h
	}
	w.HA, w.HB, w.HY = flat(xb, "101"), flat(xb, "102"), flat(yb, "301")
	w.ownerA = member(w.HA, "王建国", "13900000001", access.Owner)
	w.familyA = member(w.HA, "王小红", "13900000011", access.Family)
	w.ownerB = member(w.HB, "李秀英", "13900000002", access.Owner)
	w.ownY = member(w.HY, "陈美兰", "13900000004", access.Owner)
	w.butlerX = staffCaller("butler-x", access.Butler, w.X.ID)
	w.butlerX2 = staffCaller("butler-x2", access.Butler, w.X.ID)
	w.supervisorX = staffCaller("supervisor-x", access.Supervisor, w.X.ID)
	w.engineerX = staffCaller("engineer-x", access.Engineer, w.X.ID)
	w.securityX = staffCaller("security-x", access.Security, w.X.ID)
	w.cleanerX = staffCaller("cleaner-x", access.Cleaner, w.X.ID)
	w.butlerY = staffCaller("butler-y", access.Butler, w.Y.ID)
	w.supervisorY = staffCaller("supervisor-y", access.Supervisor, w.Y.ID)
	return w
}

func (w *world) submit(t *testing.T, in SubmitInput) *Complaint {
	t.Helper()
	if in.HouseholdID == "" {
		in.HouseholdID = w.HA.ID
	}
	if in.Category == "" {
		in.Category = Noise
	}
	if in.Description == "" {
		in.Description = "楼上每晚十二点后仍有装修噪音"
	}
	x, err := w.svc.Submit(context.Background(), w.ownerA, in)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return x
}

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func field(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

// action is one step a test can take, by the right person for it.
type action struct {
	name string
	do   func(w *world, id string) (*Complaint, error)
}

var (
	ctx         = context.Background()
	acknowledge = action{"acknowledge", func(w *world, id string) (*Complaint, error) { return w.svc.Acknowledge(ctx, w.butlerX, id) }}
	reply       = action{"reply", func(w *world, id string) (*Complaint, error) {
		return w.svc.Reply(ctx, w.butlerX, id, "已联系楼上住户，承诺晚十点后停工")
	}}
	satisfied   = action{"callback satisfied", func(w *world, id string) (*Complaint, error) { return w.svc.Callback(ctx, w.butlerX, id, true, "") }}
	unsatisfied = action{"callback unsatisfied", func(w *world, id string) (*Complaint, error) {
		return w.svc.Callback(ctx, w.butlerX, id, false, "仍有噪音")
	}}
	withdraw = action{"withdraw", func(w *world, id string) (*Complaint, error) {
		return w.svc.Withdraw(ctx, w.ownerA, id, "已私下解决")
	}}
)

// reach brings a fresh complaint to state.
func (w *world) reach(t *testing.T, state Status) *Complaint {
	t.Helper()
	x := w.submit(t, SubmitInput{})
	path := map[Status][]action{
		Received:  nil,
		Handling:  {acknowledge},
		Answered:  {acknowledge, reply},
		Closed:    {acknowledge, reply, satisfied},
		Withdrawn: {withdraw},
	}[state]
	for _, a := range path {
		var err error
		if x, err = a.do(w, x.ID); err != nil {
			t.Fatalf("reach %s: %s: %v", state, a.name, err)
		}
	}
	if x.Status != state {
		t.Fatalf("reach %s: got %s", state, x.Status)
	}
	return x
}

func TestEveryTransition(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		from Status
		act  action
		want Status // "" = illegal
	}{
		{Received, acknowledge, Handling},
		{Received, reply, ""},
		{Received, satisfied, ""},
		{Received, unsatisfied, ""},
		{Received, withdraw, Withdrawn},
		{Handling, acknowledge, ""},
		{Handling, reply, Answered},
		{Handling, satisfied, ""},
		{Handling, unsatisfied, ""},
		{Handling, withdraw, Withdrawn},
		{Answered, acknowledge, ""},
		{Answered, reply, ""},
		{Answered, satisfied, Closed},
		{Answered, unsatisfied, Handling},
		{Answered, withdraw, ""},
		{Closed, acknowledge, ""},
		{Closed, reply, ""},
		{Closed, satisfied, ""},
		{Closed, unsatisfied, ""},
		{Closed, withdraw, ""},
		{Withdrawn, acknowledge, ""},
		{Withdrawn, reply, ""},
		{Withdrawn, satisfied, ""},
		{Withdrawn, unsatisfied, ""},
		{Withdrawn, withdraw, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.from, tc.act.name), func(t *testing.T) {
			x := w.reach(t, tc.from)
			got, err := tc.act.do(w, x.ID)
			after, gerr := w.svc.Get(ctx, w.supervisorX, x.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.want == "" {
				if !errors.Is(err, lifecycle.ErrIllegal) || code(err) != apperr.Conflict {
					t.Fatalf("want illegal (CONFLICT), got %v", err)
				}
				if after.Status != tc.from || after.Version != x.Version || len(after.Timeline) != len(x.Timeline) {
					t.Fatalf("illegal step changed the complaint: %s v%d -> %s v%d", tc.from, x.Version, after.Status, after.Version)
				}
				return
			}
			if err != nil {
				t.Fatalf("want %s, got %v", tc.want, err)
			}
			if got.Status != tc.want || after.Status != tc.want || after.Version != x.Version+1 {
				t.Fatalf("status %s (stored %s v%d), want %s v%d", got.Status, after.Status, after.Version, tc.want, x.Version+1)
			}
			last := after.Timeline[len(after.Timeline)-1]
			if last.From != string(tc.from) || last.To != string(tc.want) {
				t.Fatalf("timeline ends %s -> %s", last.From, last.To)
			}
		})
	}
}

func TestFullLoopTwoRounds(t *testing.T) {
	w := newWorld(t)
	x := w.submit(t, SubmitInput{Severity: High, Photos: []files.Upload{{Filename: "a.png", Content: bytes.NewReader(png)}}})
	if x.Status != Received || x.Round != 1 || x.NextDeadline == nil || !x.RespondBy.Equal(w.clock.Now().Add(2*time.Hour)) {
		t.Fatalf("submitted: %+v", x)
	}
	if len(x.Photos) != 1 {
		t.Fatalf("photos %v", x.Photos)
	}
	step := func(name string, f func() (*Complaint, error)) *Complaint {
		t.Helper()
		w.clock.Advance(time.Minute)
		y, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return y
	}
	x = step("acknowledge", func() (*Complaint, error) { return w.svc.Acknowledge(ctx, w.butlerX, x.ID) })
	if x.HandlerStaffID != w.butlerX.ID || x.NextDeadline != nil {
		t.Fatalf("after acknowledge: handler %q deadline %v", x.HandlerStaffID, x.NextDeadline)
	}
	x = step("reply 1", func() (*Complaint, error) { return w.svc.Reply(ctx, w.butlerX, x.ID, "已协调") })
	// 首问责任制: another butler may not call back until it is handed over.
	if _, err := w.svc.Callback(ctx, w.butlerX2, x.ID, false, "夜间仍有噪音"); !errors.Is(err, ErrNotHandler) {
		t.Fatalf("callback by a butler who does not own it: %v", err)
	}
	// A supervisor of the community may stand in.
	x = step("callback 1", func() (*Complaint, error) {
		return w.svc.Callback(ctx, w.supervisorX, x.ID, false, "夜间仍有噪音")
	})
	if x.Status != Handling || x.Round != 2 {
		t.Fatalf("after unsatisfied callback: %s round %d", x.Status, x.Round)
	}
	// The handler answers again; a supervisor may stand in too.
	x = step("reply 2", func() (*Complaint, error) {
		return w.svc.Reply(ctx, w.supervisorX, x.ID, "已约谈施工方并每晚巡查")
	})
	x = step("callback 2", func() (*Complaint, error) { return w.svc.Callback(ctx, w.butlerX, x.ID, true, "满意") })
	if x.Status != Closed || x.Round != 2 || x.HandlerStaffID != w.butlerX.ID {
		t.Fatalf("closed: %s round %d handler %s", x.Status, x.Round, x.HandlerStaffID)
	}
	x, err := w.svc.Get(ctx, w.ownerA, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ action, from, to, actor string }
	want := []line{
		{"submit", "", "RECEIVED", w.ownerA.ID},
		{"acknowledge", "RECEIVED", "HANDLING", "butler-x"},
		{"reply", "HANDLING", "ANSWERED", "butler-x"},
		{"callback_reopen", "ANSWERED", "HANDLING", "supervisor-x"},
		{"reply", "HANDLING", "ANSWERED", "supervisor-x"},
		{"callback_closed", "ANSWERED", "CLOSED", "butler-x"},
	}
	if len(x.Timeline) != len(want) {
		t.Fatalf("timeline has %d entries, want %d", len(x.Timeline), len(want))
	}
	for i, e := range x.Timeline {
		if got := (line{e.Action, e.From, e.To, e.ActorID}); got != want[i] {
			t.Errorf("timeline[%d] = %+v, want %+v", i, got, want[i])
		}
		if i > 0 && !e.At.After(x.Timeline[i-1].At) {
			t.Errorf("timeline[%d] not after the one before", i)
		}
	}
	if x.Timeline[3].Note != "夜间仍有噪音" {
		t.Errorf("reopen note %q", x.Timeline[3].Note)
	}
	if len(x.Replies) != 2 || x.Replies[0].StaffID != "butler-x" || x.Replies[1].StaffID != "supervisor-x" || x.Replies[1].Text != "已约谈施工方并每晚巡查" {
		t.Errorf("replies %+v", x.Replies)
	}
	if len(x.Callbacks) != 2 || x.Callbacks[0].Round != 1 || x.Callbacks[0].Satisfied || x.Callbacks[0].StaffID != "supervisor-x" ||
		x.Callbacks[1].Round != 2 || !x.Callbacks[1].Satisfied {
		t.Errorf("callbacks %+v", x.Callbacks)
	}

	// One event per step, with complete data.
	evs := w.bus.of(x.ID)
	wantTypes := []string{"submit", "acknowledge", "reply", "callback_reopen", "reply", "callback_closed"}
	wantStatus := []Status{Received, Handling, Answered, Handling, Answered, Closed}
	wantRound := []int{1, 1, 1, 2, 2, 2}
	wantActor := []string{w.ownerA.ID, "butler-x", "butler-x", "supervisor-x", "supervisor-x", "butler-x"}
	if len(evs) != len(wantTypes) {
		t.Fatalf("%d events, want %d", len(evs), len(wantTypes))
	}
	for i, e := range evs {
		if e.Type != "complaint."+wantTypes[i] || e.CommunityID != w.X.ID || e.HouseholdID != w.HA.ID || e.ActorID != wantActor[i] {
			t.Errorf("event %d: %+v", i, e)
		}
		from := ""
		if i > 0 {
			from = string(wantStatus[i-1])
		}
		handler := "butler-x"
		if i == 0 {
			handler = ""
		}
		d := e.Data
		if d["action"] != wantTypes[i] || d["status"] != string(wantStatus[i]) || d["from"] != from || d["round"] != wantRound[i] ||
			d["complainantId"] != w.ownerA.ID || d["handlerStaffId"] != handler || d["category"] != "NOISE" || d["severity"] != "HIGH" {
			t.Errorf("event %d data: %v", i, d)
		}
	}
}

func TestPermissions(t *testing.T) {
	w := newWorld(t)
	x := w.submit(t, SubmitInput{Photos: []files.Upload{{Filename: "a.png", Content: bytes.NewReader(png)}}})
	for _, tc := range []struct {
		name string
		c    *access.Caller
		sees bool
	}{
		{"complainant", w.ownerA, true},
		{"family member", w.familyA, true},
		{"butler of the community", w.butlerX, true},
		{"supervisor of the community", w.supervisorX, true},
		{"admin", w.admin, true},
		{"owner of another household", w.ownerB, false},
		{"owner in another community", w.ownY, false},
		{"butler of another community", w.butlerY, false},
		{"supervisor of another community", w.supervisorY, false},
		{"engineer", w.engineerX, false},
		{"security", w.securityX, false},
		{"cleaner", w.cleanerX, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.Get(ctx, tc.c, x.ID)
			if tc.sees != (err == nil) || (!tc.sees && code(err) != apperr.NotFound) {
				t.Fatalf("Get: %v (want sees=%v)", err, tc.sees)
			}
			ok, err := w.svc.MayReadFile(ctx, tc.c, files.Meta{Purpose: FilePurpose, SubjectID: x.ID})
			if err != nil || ok != tc.sees {
				t.Fatalf("MayReadFile = %v, %v", ok, err)
			}
			if !tc.sees {
				if _, err := w.svc.Acknowledge(ctx, tc.c, x.ID); code(err) != apperr.NotFound {
					t.Fatalf("Acknowledge: %v", err)
				}
				if _, err := w.svc.Withdraw(ctx, tc.c, x.ID, ""); code(err) != apperr.NotFound {
					t.Fatalf("Withdraw: %v", err)
				}
			}
		})
	}
	if ok, _ := w.svc.MayReadFile(ctx, w.ownerA, files.Meta{Purpose: "repair", SubjectID: x.ID}); ok {
		t.Error("another purpose's file is not ours to allow")
	}
	// Residents cannot take staff steps; staff cannot withdraw; a family
	// member sees the complaint but only the complainant withdraws it.
	if _, err := w.svc.Acknowledge(ctx, w.ownerA, x.ID); code(err) != apperr.Forbidden {
		t.Errorf("owner acknowledges: %v", err)
	}
	if _, err := w.svc.Withdraw(ctx, w.butlerX, x.ID, ""); !errors.Is(err, ErrNotComplainant) {
		t.Errorf("butler withdraws: %v", err)
	}
	if _, err := w.svc.Withdraw(ctx, w.familyA, x.ID, ""); !errors.Is(err, ErrNotComplainant) {
		t.Errorf("family member withdraws: %v", err)
	}
	// Only the handler or a supervisor replies.
	if _, err := w.svc.Acknowledge(ctx, w.butlerX, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Reply(ctx, w.butlerX2, x.ID, "答复"); !errors.Is(err, ErrNotHandler) || code(err) != apperr.Forbidden {
		t.Errorf("another butler replies: %v", err)
	}
	if _, err := w.svc.Reply(ctx, w.supervisorX, x.ID, "答复"); err != nil {
		t.Errorf("supervisor replies: %v", err)
	}
	// Submitting: members only; another household is NOT_FOUND, staff FORBIDDEN.
	in := SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Description: "噪音"}
	if _, err := w.svc.Submit(ctx, w.ownerB, in); code(err) != apperr.NotFound {
		t.Errorf("another household's owner submits: %v", err)
	}
	if _, err := w.svc.Submit(ctx, w.butlerX, in); code(err) != apperr.Forbidden {
		t.Errorf("butler submits: %v", err)
	}
	// Lists.
	if pg, err := w.svc.Mine(ctx, w.ownerB, page.Request{First: 10}); err != nil || len(pg.Items) != 0 {
		t.Errorf("another household's list: %v %v", pg.Items, err)
	}
	if pg, err := w.svc.Mine(ctx, w.familyA, page.Request{First: 10}); err != nil || len(pg.Items) != 1 {
		t.Errorf("family member's list: %v %v", pg.Items, err)
	}
	for _, c := range []*access.Caller{w.engineerX, w.securityX, w.ownerA} {
		if _, err := w.svc.List(ctx, c, Filter{}, page.Request{First: 10}); code(err) != apperr.Forbidden {
			t.Errorf("%s lists: %v", c.ID, err)
		}
	}
	if _, err := w.svc.List(ctx, w.butlerY, Filter{CommunityID: w.X.ID}, page.Request{First: 10}); code(err) != apperr.Forbidden {
		t.Errorf("butler of Y lists X: %v", err)
	}
	if pg, err := w.svc.List(ctx, w.butlerY, Filter{}, page.Request{First: 10}); err != nil || len(pg.Items) != 0 || pg.Total != 0 {
		t.Errorf("butler of Y sees X's complaints: %v %v", pg.Items, err)
	}
	if pg, err := w.svc.List(ctx, w.butlerX, Filter{}, page.Request{First: 10}); err != nil || len(pg.Items) != 1 || pg.Total != 1 {
		t.Errorf("butler of X: %v %v", pg.Items, err)
	}
}

func TestAnonymous(t *testing.T) {
	w := newWorld(t)
	x := w.submit(t, SubmitInput{Category: StaffAttitude, Description: "保安态度恶劣", Anonymous: true})
	for _, tc := range []struct {
		name    string
		c       *access.Caller
		visible bool
	}{
		{"complainant", w.ownerA, true},
		{"family member", w.familyA, true},
		{"supervisor of the community", w.supervisorX, true},
		{"butler of the community", w.butlerX, false},
		{"admin", w.admin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.svc.Get(ctx, tc.c, x.ID)
			if err != nil {
				t.Fatalf("sees the complaint: %v", err)
			}
			who, hh, visible := Identity(tc.c, got)
			if visible != tc.visible {
				t.Fatalf("identity visible = %v", visible)
			}
			if visible && (who != w.ownerA.ID || hh != w.HA.ID) {
				t.Fatalf("identity %q %q", who, hh)
			}
			if !visible {
				if who != "" || hh != "" || got.ComplainantID != "" || got.HouseholdID != "" || got.BuildingID != "" {
					t.Fatalf("hidden identity leaks: %q %q %+v", who, hh, got)
				}
				if got.Timeline[0].ActorID != "" {
					t.Fatalf("timeline names the complainant: %+v", got.Timeline[0])
				}
				// Even handed the stored document, Identity hides it.
				if _, _, v := Identity(tc.c, x); v {
					t.Fatal("Identity reveals the stored complainant")
				}
			}
		})
	}
	// Named complaints show their complainant to every handler.
	named := w.submit(t, SubmitInput{})
	if who, _, ok := Identity(w.butlerX, named); !ok || who != w.ownerA.ID {
		t.Errorf("named complaint hidden from butler")
	}
	if _, _, ok := Identity(w.butlerY, named); ok {
		t.Errorf("identity shown to someone who cannot see the complaint")
	}
	// A step's answer and the staff list are redacted the same way.
	y, err := w.svc.Acknowledge(ctx, w.butlerX, x.ID)
	if err != nil || y.ComplainantID != "" || y.HouseholdID != "" {
		t.Fatalf("acknowledge answer: %+v %v", y, err)
	}
	pg, err := w.svc.List(ctx, w.butlerX, Filter{CommunityID: w.X.ID}, page.Request{First: 10})
	if err != nil || len(pg.Items) != 2 {
		t.Fatalf("list: %v", err)
	}
	for _, it := range pg.Items {
		if it.ID == x.ID && (it.ComplainantID != "" || it.HouseholdID != "") {
			t.Errorf("butler's list shows anonymous complainant")
		}
		if it.ID == named.ID && it.ComplainantID != w.ownerA.ID {
			t.Errorf("butler's list hides named complainant")
		}
	}
	pg, _ = w.svc.List(ctx, w.supervisorX, Filter{CommunityID: w.X.ID}, page.Request{First: 10})
	for _, it := range pg.Items {
		if it.ComplainantID != w.ownerA.ID {
			t.Errorf("supervisor's list hides complainant of %s", it.ID)
		}
	}
	// Events of an anonymous complaint name neither complainant nor household.
	for _, e := range w.bus.of(x.ID) {
		if _, ok := e.Data["complainantId"]; ok || e.HouseholdID != "" || e.ActorID == w.ownerA.ID || e.Data["anonymous"] != true {
			t.Errorf("event leaks identity: %+v", e)
		}
	}
}

func TestConcurrentAcknowledgeOneWins(t *testing.T) {
	w := newWorld(t)
	x := w.submit(t, SubmitInput{})
	callers := []*access.Caller{w.butlerX, w.butlerX2, w.supervisorX, w.admin,
		staffCaller("butler-x3", access.Butler, w.X.ID), staffCaller("supervisor-x2", access.Supervisor, w.X.ID)}
	var wg sync.WaitGroup
	errs := make([]error, len(callers))
	for i, c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.Acknowledge(ctx, c, x.ID)
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if winner != "" {
				t.Fatalf("two winners: %s and %s", winner, callers[i].ID)
			}
			winner = callers[i].ID
		case errors.Is(err, lifecycle.ErrStale), errors.Is(err, lifecycle.ErrIllegal):
			if code(err) != apperr.Conflict {
				t.Errorf("loser's code %s", code(err))
			}
		default:
			t.Errorf("%s: %v", callers[i].ID, err)
		}
	}
	if winner == "" {
		t.Fatal("nobody won")
	}
	got, err := w.svc.Get(ctx, w.supervisorX, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HandlerStaffID != winner || got.Version != 1 || len(got.Timeline) != 2 || got.Timeline[1].ActorID != winner {
		t.Fatalf("stored: handler %s version %d timeline %d", got.HandlerStaffID, got.Version, len(got.Timeline))
	}
	if n := len(w.bus.of(x.ID)); n != 2 {
		t.Fatalf("%d events, want submit + one acknowledge", n)
	}
}

func TestValidation(t *testing.T) {
	w := newWorld(t)
	x := w.submit(t, SubmitInput{})
	tenPhotos := make([]files.Upload, 10)
	for i := range tenPhotos {
		tenPhotos[i] = files.Upload{Filename: "p.png", Content: bytes.NewReader(png)}
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		code  apperr.Code
		field string
	}{
		{"bad household id", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: "nope", Category: Noise, Description: "d"})
			return err
		}, apperr.BadUserInput, "input.householdId"},
		{"bad category", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: "LOUD", Description: "d"})
			return err
		}, apperr.BadUserInput, "input.category"},
		{"bad severity", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Severity: "URGENT", Description: "d"})
			return err
		}, apperr.BadUserInput, "input.severity"},
		{"no description", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Description: "  "})
			return err
		}, apperr.BadUserInput, "input.description"},
		{"description too long", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Description: strings.Repeat("吵", 1001)})
			return err
		}, apperr.BadUserInput, "input.description"},
		{"too many photos", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Description: "d", Photos: tenPhotos})
			return err
		}, apperr.BadUserInput, "input.photos"},
		{"photo not an image", func() error {
			_, err := w.svc.Submit(ctx, w.ownerA, SubmitInput{HouseholdID: w.HA.ID, Category: Noise, Description: "d",
				Photos: []files.Upload{{Filename: "a.png", Content: bytes.NewReader(png)}, {Filename: "b.png", Content: strings.NewReader("not an image")}}})
			return err
		}, apperr.BadUserInput, "input.photos.1"},
		{"bad id", func() error { _, err := w.svc.Get(ctx, w.ownerA, "x"); return err }, apperr.BadUserInput, "id"},
		{"unknown id", func() error { _, err := w.svc.Get(ctx, w.ownerA, "0123456789abcdef01234567"); return err }, apperr.NotFound, ""},
		{"empty reply", func() error { _, err := w.svc.Reply(ctx, w.butlerX, x.ID, " "); return err }, apperr.BadUserInput, "text"},
		{"reply too long", func() error { _, err := w.svc.Reply(ctx, w.butlerX, x.ID, strings.Repeat("a", 1001)); return err }, apperr.BadUserInput, "text"},
		{"unsatisfied without notes", func() error { _, err := w.svc.Callback(ctx, w.butlerX, x.ID, false, ""); return err }, apperr.BadUserInput, "notes"},
		{"withdraw reason too long", func() error { _, err := w.svc.Withdraw(ctx, w.ownerA, x.ID, strings.Repeat("因", 201)); return err }, apperr.BadUserInput, "reason"},
		{"bad status filter", func() error {
			_, err := w.svc.List(ctx, w.butlerX, Filter{Statuses: []Status{"OPEN"}}, page.Request{First: 10})
			return err
		}, apperr.BadUserInput, "filter.statuses"},
		{"bad category filter", func() error {
			_, err := w.svc.List(ctx, w.butlerX, Filter{Category: "X"}, page.Request{First: 10})
			return err
		}, apperr.BadUserInput, "filter.category"},
		{"bad severity filter", func() error {
			_, err := w.svc.List(ctx, w.butlerX, Filter{Severity: "X"}, page.Request{First: 10})
			return err
		}, apperr.BadUserInput, "filter.severity"},
		{"bad community filter", func() error {
			_, err := w.svc.List(ctx, w.butlerX, Filter{CommunityID: "x"}, page.Request{First: 10})
			return err
		}, apperr.BadUserInput, "filter.communityId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if code(err) != tc.code || field(err) != tc.field {
				t.Fatalf("got %v (code %s field %q), want %s %q", err, code(err), field(err), tc.code, tc.field)
			}
		})
	}
	// A refused submission leaves no complaint and no photos behind.
	pg, err := w.svc.Mine(ctx, w.ownerA, page.Request{First: 10})
	if err != nil || len(pg.Items) != 1 {
		t.Fatalf("after refused submissions: %d complaints, %v", len(pg.Items), err)
	}
	if got, _ := w.svc.Get(ctx, w.ownerA, x.ID); got.Version != 0 {
		t.Fatalf("refused steps changed the complaint: v%d", got.Version)
	}
}

func TestDeadlinesAndFilters(t *testing.T) {
	w := newWorld(t)
	bySev := map[Severity]*Complaint{}
	for _, s := range Severities {
		w.clock.Advance(time.Minute) // distinct times: newest first is well defined
		bySev[s] = w.submit(t, SubmitInput{Severity: s, Category: Parking})
		if want := w.clock.Now().Add(ResponseTime[s]); !bySev[s].RespondBy.Equal(want) || !bySev[s].NextDeadline.Equal(want) {
			t.Errorf("%s respondBy %v, want %v", s, bySev[s].RespondBy, want)
		}
	}
	def := w.submit(t, SubmitInput{Category: Hygiene})
	if def.Severity != Normal {
		t.Errorf("default severity %s", def.Severity)
	}
	w.clock.Advance(3 * time.Hour) // past CRITICAL (30m) and HIGH (2h)
	if _, err := w.svc.Acknowledge(ctx, w.butlerX, bySev[High].ID); err != nil {
		t.Fatal(err)
	}
	overdue, err := w.svc.List(ctx, w.butlerX, Filter{Overdue: true}, page.Request{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(overdue.Items) != 1 || overdue.Items[0].ID != bySev[Critical].ID || !w.svc.Overdue(overdue.Items[0]) {
		t.Fatalf("overdue: %d items", len(overdue.Items))
	}
	if w.svc.Overdue(bySev[Low]) {
		t.Error("LOW overdue after 3h")
	}
	// Filters combine; pages are newest first and counted.
	pg, err := w.svc.List(ctx, w.butlerX, Filter{CommunityID: w.X.ID, Category: Parking, Statuses: []Status{Received}}, page.Request{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if pg.Total != 3 || len(pg.Items) != 2 || !pg.HasNext {
		t.Fatalf("page 1: total %d items %d next %v", pg.Total, len(pg.Items), pg.HasNext)
	}
	pg2, err := w.svc.List(ctx, w.butlerX, Filter{CommunityID: w.X.ID, Category: Parking, Statuses: []Status{Received}}, page.Request{First: 2, After: pg.Keys[1]})
	if err != nil || len(pg2.Items) != 1 || pg2.HasNext {
		t.Fatalf("page 2: %v %v", pg2.Items, err)
	}
	var got []string
	for _, it := range append(pg.Items, pg2.Items...) {
		got = append(got, string(it.Severity))
	}
	if !slices.Equal(got, []string{"CRITICAL", "NORMAL", "LOW"}) { // newest first; HIGH is HANDLING
		t.Errorf("order %v", got)
	}
	sev, err := w.svc.List(ctx, w.supervisorX, Filter{Severity: Critical}, page.Request{First: 10})
	if err != nil || sev.Total != 1 {
		t.Errorf("severity filter: %v %v", sev.Total, err)
	}
}

// png is the smallest thing files.SniffImage takes for a PNG.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
