package repair

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/staff"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var allStatuses = []Status{Submitted, Taken, Dispatched, Accepted, InProgress, Completed, Confirmed, Closed, Cancelled}

// The business rules of the repair loop, written out step by step. "" as a
// target means the step keeps the state it was taken from.
var wantLegal = map[string]struct {
	from []Status
	to   Status
	why  string
}{
	"cancel":          {[]Status{Submitted, Taken, Dispatched}, Cancelled, "the household may cancel while nobody is on the way yet"},
	"take":            {[]Status{Submitted}, Taken, "only a request nobody has taken can be taken (首问责任制)"},
	"hand_over":       {[]Status{Taken, Dispatched, Accepted, InProgress, Completed, Confirmed}, "", "ownership passes while someone owns it and it is not finished; the state stays"},
	"dispatch":        {[]Status{Taken}, Dispatched, "the owner dispatches a taken request (again after a decline or a reopen)"},
	"accept":          {[]Status{Dispatched}, Accepted, "an engineer accepts only a pending order"},
	"decline":         {[]Status{Dispatched}, Taken, "an engineer declines only a pending order; it goes back to its owner"},
	"start":           {[]Status{Accepted}, InProgress, "work starts once the engineer has accepted"},
	"complete":        {[]Status{InProgress}, Completed, "only work in progress can be completed"},
	"confirm":         {[]Status{Completed}, Confirmed, "the owner signs only for completed work"},
	"sign_off_close":  {[]Status{Completed}, Closed, "a supervisor's sign-off closes a staff-filed public-area fault: nobody to call back"},
	"rate":            {[]Status{Confirmed}, "", "an owner who signed without rating may rate until the callback; the state stays"},
	"callback_closed": {[]Status{Confirmed}, Closed, "a callback follows the owner's sign-off"},
	"callback_reopen": {[]Status{Confirmed}, Taken, "an unsatisfied callback reopens it for the owning staff member"},
}

func TestMachineEveryActionFromEveryState(t *testing.T) {
	var actions, want []string
	for a := range Machine {
		actions = append(actions, a)
	}
	for a := range wantLegal {
		want = append(want, a)
	}
	sort.Strings(actions)
	sort.Strings(want)
	if !slices.Equal(actions, want) {
		t.Fatalf("machine actions = %v, business rules cover %v", actions, want)
	}
	for _, action := range append(actions, "reopen", "", "CANCEL") {
		rule := wantLegal[action]
		for _, from := range allStatuses {
			t.Run(fmt.Sprintf("%s/%s", action, from), func(t *testing.T) {
				to, err := Machine.Next(action, from)
				if slices.Contains(rule.from, from) {
					if err != nil {
						t.Fatalf("%s from %s refused (%v): %s", action, from, err, rule.why)
					}
					if to != rule.to {
						t.Fatalf("%s from %s leads to %q, want %q", action, from, to, rule.to)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s from %s allowed (to %q): %s", action, from, to, rule.why)
				}
				if !errors.Is(err, lifecycle.ErrIllegal) {
					t.Fatalf("%s from %s: err %v, want lifecycle.ErrIllegal", action, from, err)
				}
				if apperr.CodeOf(err) != apperr.Conflict {
					t.Fatalf("%s from %s: code %s, want CONFLICT", action, from, apperr.CodeOf(err))
				}
				if to != from {
					t.Fatalf("refused %s from %s returns %q, want the state unchanged", action, from, to)
				}
			})
		}
	}
	// Finished requests admit no step at all.
	for _, from := range []Status{Closed, Cancelled} {
		for a := range Machine {
			if _, err := Machine.Next(a, from); err == nil {
				t.Errorf("%s allowed from finished state %s", a, from)
			}
		}
	}
}

func TestWorkOrderCharges(t *testing.T) {
	materials := []Material{
		{Name: "水龙头阀芯", Quantity: 2, Unit: "个", UnitPriceFen: 1850},        // 3700
		{Name: "软管", Quantity: 1.5, Unit: "米", UnitPriceFen: 333},          // 499.5
		{Name: "生料带", Quantity: 3, UnitPriceFen: 300, SuppliedByOwn: true}, // the owner's own: never charged
	}
	for _, tc := range []struct {
		name              string
		w                 WorkOrder
		materials, labour int64
	}{
		{"free repair charges nothing, whatever is recorded", WorkOrder{Paid: false, Materials: materials, LabourFeeFen: 5000}, 0, 0},
		{"free repair without materials", WorkOrder{}, 0, 0},
		{"paid: company materials rounded, plus labour", WorkOrder{Paid: true, Materials: materials, LabourFeeFen: 5000}, 4200, 5000},
		{"paid: labour only", WorkOrder{Paid: true, LabourFeeFen: 8000}, 0, 8000},
		{"paid: owner-supplied only", WorkOrder{Paid: true, Materials: materials[2:], LabourFeeFen: 0}, 0, 0},
		{"paid: rounds down below half a fen", WorkOrder{Paid: true, Materials: []Material{{Name: "螺丝", Quantity: 0.333, UnitPriceFen: 100}}}, 33, 0},
		{"paid: rounds half a fen up", WorkOrder{Paid: true, Materials: []Material{{Name: "胶", Quantity: 0.5, UnitPriceFen: 101}}}, 51, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, l := tc.w.Charges()
			if m != tc.materials || l != tc.labour {
				t.Fatalf("charges = %d materials + %d labour, want %d + %d", m, l, tc.materials, tc.labour)
			}
		})
	}
}

// fixture is a small estate built with the real services on a real database.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *mongo.DB
	svc *Service
	now time.Time

	admin                       *access.Caller
	x, y                        *community.Community
	ha, hb                      *household.Household
	ownerA, ownerB              *access.Caller
	butler, butler2, supervisor *access.Caller
	eng1, eng2, engY, butlerY   *access.Caller
	security                    *access.Caller
	nextAccount                 int
	staffSvc                    *staff.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.now }
	communities := community.NewService(db, "co", now)
	households := household.NewService(db, communities, nil, nil, now)
	staffSvc := staff.NewService(db, "co", communities, households, now)
	f.staffSvc = staffSvc
	f.svc = NewService(db, households, staffSvc, files.NewStore(db, now), nil, nil, now)
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "test-admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	b, err := communities.CreateBuilding(f.ctx, f.admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "1", Units: []string{"1"}})
	f.must(err)
	mk := func(room, name, phone string) (*household.Household, *access.Caller) {
		h, err := households.Create(f.ctx, f.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		f.must(err)
		m, err := households.AddMember(f.ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: access.Owner})
		f.must(err)
		return h, &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: f.x.ID, Role: access.Owner}}}
	}
	f.ha, f.ownerA = mk("101", "王建国", "13900000001")
	f.hb, f.ownerB = mk("102", "李秀英", "13900000002")
	f.butler = f.staff(access.Butler, f.x.ID)
	f.butler2 = f.staff(access.Butler, f.x.ID)
	f.supervisor = f.staff(access.Supervisor, f.x.ID)
	f.eng1 = f.staff(access.Engineer, f.x.ID)
	f.eng2 = f.staff(access.Engineer, f.x.ID)
	f.security = f.staff(access.Security, f.x.ID)
	f.engY = f.staff(access.Engineer, f.y.ID)
	f.butlerY = f.staff(access.Butler, f.y.ID)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// staff stores an active staff member with one role in one community and
// returns them as a caller.
func (f *fixture) staff(role access.Role, communityID string) *access.Caller {
	f.t.Helper()
	f.nextAccount++
	st, err := f.staffSvc.Upsert(f.ctx, &staff.Staff{Account: fmt.Sprintf("staff%02d", f.nextAccount), Name: "员工", Roles: []access.Role{role}, CommunityIDs: []string{communityID}})
	f.must(err)
	return &access.Caller{Kind: auth.KindStaff, ID: st.ID, Roles: st.Roles, Communities: st.CommunityIDs}
}

func (f *fixture) submit(owner *access.Caller, householdID string) *Request {
	f.t.Helper()
	r, err := f.svc.Submit(f.ctx, owner, SubmitInput{HouseholdID: householdID, Category: "WATER", Description: "厨房水龙头漏水", InHome: true, Urgency: Urgent})
	f.must(err)
	return r
}

// ok requires a step to succeed into want.
func (f *fixture) ok(name string, want Status) func(*Request, error) *Request {
	return func(r *Request, err error) *Request {
		f.t.Helper()
		if err != nil {
			f.t.Fatalf("%s: %v", name, err)
		}
		if r.Status != want {
			f.t.Fatalf("%s: status %s, want %s", name, r.Status, want)
		}
		return r
	}
}

// refused requires a step to fail with want and to leave the stored request
// exactly as before: same version, status, timeline, owner and orders.
func (f *fixture) refused(name string, before *Request, want error) func(*Request, error) {
	return func(_ *Request, err error) {
		f.t.Helper()
		if err == nil {
			f.t.Errorf("%s: allowed from %s", name, before.Status)
		} else if !errors.Is(err, want) {
			f.t.Errorf("%s from %s: err %v, want %v", name, before.Status, err, want)
		}
		after, gerr := f.svc.byID(f.ctx, before.ID)
		f.must(gerr)
		if after.Version != before.Version || after.Status != before.Status || len(after.Timeline) != len(before.Timeline) ||
			after.OwnerStaffID != before.OwnerStaffID || after.EngineerID != before.EngineerID || len(after.WorkOrders) != len(before.WorkOrders) ||
			len(after.Acceptances) != len(before.Acceptances) || len(after.Callbacks) != len(before.Callbacks) {
			f.t.Errorf("%s changed the request: v%d %s (%d steps, owner %q, engineer %q) → v%d %s (%d steps, owner %q, engineer %q)", name,
				before.Version, before.Status, len(before.Timeline), before.OwnerStaffID, before.EngineerID,
				after.Version, after.Status, len(after.Timeline), after.OwnerStaffID, after.EngineerID)
		}
	}
}

func (f *fixture) fileCount() int64 {
	f.t.Helper()
	n, err := f.db.Collection("files.files").CountDocuments(f.ctx, map[string]any{})
	f.must(err)
	return n
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func upload() files.Upload { return files.Upload{Filename: "p.png", Content: bytes.NewReader(png)} }

// Illegal steps from real states are refused and change nothing.
func TestIllegalStepsChangeNothing(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	illegal := lifecycle.ErrIllegal

	r := f.submit(f.ownerA, f.ha.ID)
	files0 := f.fileCount()
	// SUBMITTED: nobody owns it yet.
	f.refused("dispatch before take", r, illegal)(s.Dispatch(ctx, f.butler, r.ID, f.eng1.ID, ""))
	f.refused("hand over before take", r, illegal)(s.HandOver(ctx, f.supervisor, r.ID, f.butler2.ID, ""))
	f.refused("confirm unfinished work", r, illegal)(s.Confirm(ctx, f.ownerA, r.ID, upload(), 5, ""))
	f.refused("callback before any work", r, illegal)(s.Callback(ctx, f.butler, r.ID, true, ""))
	f.refused("engineer not on it accepts", r, ErrNotFound)(s.Accept(ctx, f.eng1, r.ID))
	f.refused("neighbour cancels", r, ErrNotFound)(s.Cancel(ctx, f.ownerB, r.ID, ""))
	f.refused("staff cancels for the household", r, apperr.ErrForbidden)(s.Cancel(ctx, f.butler, r.ID, ""))
	f.refused("security takes", r, ErrNotFound)(s.Take(ctx, f.security, r.ID))
	f.refused("butler of another community takes", r, ErrNotFound)(s.Take(ctx, f.butlerY, r.ID))

	r = f.ok("take", Taken)(s.Take(ctx, f.butler, r.ID))
	f.refused("take twice", r, illegal)(s.Take(ctx, f.supervisor, r.ID))
	f.refused("accept before dispatch", r, ErrNotYourOrder)(s.Accept(ctx, f.butler, r.ID))
	f.refused("dispatch to a butler", r, ErrNotEngineer)(s.Dispatch(ctx, f.butler, r.ID, f.butler2.ID, ""))
	f.refused("dispatch to an engineer of another community", r, ErrNotEngineer)(s.Dispatch(ctx, f.butler, r.ID, f.engY.ID, ""))
	f.refused("dispatch by security", r, ErrNotFound)(s.Dispatch(ctx, f.security, r.ID, f.eng1.ID, ""))
	// 首问责任制: another butler of the community neither hands it over nor
	// dispatches it; the owner must hand it over first.
	f.refused("hand over by a butler who does not own it", r, ErrNotOwner)(s.HandOver(ctx, f.butler2, r.ID, f.supervisor.ID, ""))
	f.refused("dispatch by a butler who does not own it", r, ErrNotOwner)(s.Dispatch(ctx, f.butler2, r.ID, f.eng1.ID, ""))
	if _, err := s.HandOver(ctx, f.butler, r.ID, f.eng1.ID, ""); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("hand over to an engineer: %v", err)
	}
	if _, err := s.HandOver(ctx, f.butler, r.ID, f.butlerY.ID, ""); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("hand over to a butler of another community: %v", err)
	}

	r = f.ok("dispatch", Dispatched)(s.Dispatch(ctx, f.butler, r.ID, f.eng1.ID, ""))
	f.refused("dispatch twice", r, illegal)(s.Dispatch(ctx, f.butler, r.ID, f.eng2.ID, ""))
	f.refused("start before accepting", r, illegal)(s.Start(ctx, f.eng1, r.ID, []files.Upload{upload()}))
	f.refused("another engineer accepts", r, ErrNotFound)(s.Accept(ctx, f.eng2, r.ID))
	f.refused("owner accepts", r, ErrNotYourOrder)(s.Accept(ctx, f.ownerA, r.ID))

	r = f.ok("decline", Taken)(s.Decline(ctx, f.eng1, r.ID, "今天在另一小区"))
	f.refused("accept a declined order", r, illegal)(s.Accept(ctx, f.eng1, r.ID))
	r = f.ok("dispatch again", Dispatched)(s.Dispatch(ctx, f.butler, r.ID, f.eng2.ID, ""))
	// Two engineers: the one who declined still sees it, but it is not theirs.
	f.refused("previous engineer accepts", r, ErrNotYourOrder)(s.Accept(ctx, f.eng1, r.ID))
	r = f.ok("accept", Accepted)(s.Accept(ctx, f.eng2, r.ID))
	f.refused("accept twice", r, illegal)(s.Accept(ctx, f.eng2, r.ID))
	f.refused("decline after accepting", r, illegal)(s.Decline(ctx, f.eng2, r.ID, "不想去"))
	f.refused("cancel once the engineer is on the way", r, illegal)(s.Cancel(ctx, f.ownerA, r.ID, ""))
	f.refused("complete before starting", r, illegal)(s.Complete(ctx, f.eng2, r.ID, CompleteInput{}))
	f.refused("previous engineer starts", r, ErrNotYourOrder)(s.Start(ctx, f.eng1, r.ID, nil))

	r = f.ok("start", InProgress)(s.Start(ctx, f.eng2, r.ID, nil))
	f.refused("labour fee on a free repair", r, ErrChargesWhenFree)(s.Complete(ctx, f.eng2, r.ID, CompleteInput{Paid: false, LabourFeeFen: 100}))
	f.refused("start twice", r, illegal)(s.Start(ctx, f.eng2, r.ID, nil))
	r = f.ok("complete", Completed)(s.Complete(ctx, f.eng2, r.ID, CompleteInput{Paid: false}))
	f.refused("complete twice", r, illegal)(s.Complete(ctx, f.eng2, r.ID, CompleteInput{}))
	f.refused("callback before the owner signs", r, illegal)(s.Callback(ctx, f.butler, r.ID, true, ""))
	f.refused("neighbour signs", r, ErrNotFound)(s.Confirm(ctx, f.ownerB, r.ID, upload(), 5, ""))
	f.refused("engineer signs for the owner", r, apperr.ErrForbidden)(s.Confirm(ctx, f.eng2, r.ID, upload(), 5, ""))
	r = f.ok("confirm", Confirmed)(s.Confirm(ctx, f.ownerA, r.ID, upload(), 5, ""))
	f.refused("confirm twice", r, illegal)(s.Confirm(ctx, f.ownerA, r.ID, upload(), 4, ""))
	f.refused("engineer records the callback", r, apperr.ErrForbidden)(s.Callback(ctx, f.eng2, r.ID, true, ""))
	r = f.ok("callback", Closed)(s.Callback(ctx, f.butler, r.ID, true, ""))
	for name, step := range map[string]func() (*Request, error){
		"cancel":    func() (*Request, error) { return s.Cancel(ctx, f.ownerA, r.ID, "") },
		"take":      func() (*Request, error) { return s.Take(ctx, f.supervisor, r.ID) },
		"hand over": func() (*Request, error) { return s.HandOver(ctx, f.butler, r.ID, f.butler2.ID, "") },
		"dispatch":  func() (*Request, error) { return s.Dispatch(ctx, f.butler, r.ID, f.eng1.ID, "") },
		"complete":  func() (*Request, error) { return s.Complete(ctx, f.eng2, r.ID, CompleteInput{}) },
		"callback":  func() (*Request, error) { return s.Callback(ctx, f.butler, r.ID, false, "还是漏") },
	} {
		out, err := step()
		f.refused(name+" a closed request", r, illegal)(out, err)
	}
	// Only the signature was stored: refused steps with photos stored none.
	if n := f.fileCount(); n != files0+1 {
		t.Errorf("files: %d before, %d after; want one signature more", files0, n)
	}

	// A request cancelled while dispatched: nothing more happens to it.
	c := f.submit(f.ownerA, f.ha.ID)
	f.ok("take", Taken)(s.Take(ctx, f.butler, c.ID))
	f.ok("dispatch", Dispatched)(s.Dispatch(ctx, f.butler, c.ID, f.eng1.ID, ""))
	c = f.ok("cancel", Cancelled)(s.Cancel(ctx, f.ownerA, c.ID, "自己修好了"))
	f.refused("accept a cancelled request", c, illegal)(s.Accept(ctx, f.eng1, c.ID))
	f.refused("complete a cancelled request", c, illegal)(s.Complete(ctx, f.eng1, c.ID, CompleteInput{Paid: false}))
	f.refused("cancel twice", c, illegal)(s.Cancel(ctx, f.ownerA, c.ID, ""))
	f.refused("take a cancelled request", c, illegal)(s.Take(ctx, f.butler2, c.ID))
	f.refused("dispatch a cancelled request", c, illegal)(s.Dispatch(ctx, f.butler, c.ID, f.eng2.ID, ""))
	f.refused("hand over a cancelled request", c, illegal)(s.HandOver(ctx, f.butler, c.ID, f.butler2.ID, ""))
	f.refused("confirm a cancelled request", c, illegal)(s.Confirm(ctx, f.ownerA, c.ID, upload(), 5, ""))
}

// Eight butlers take the same request at once: exactly one owns it.
func TestConcurrentTakeHasOneWinner(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 3; round++ {
		r := f.submit(f.ownerA, f.ha.ID)
		butlers := make([]*access.Caller, 8)
		for i := range butlers {
			butlers[i] = f.staff(access.Butler, f.x.ID)
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, len(butlers))
		)
		for i, b := range butlers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.svc.Take(f.ctx, b, r.ID)
			}()
		}
		close(start)
		wg.Wait()
		winner, stale := -1, 0
		for i, err := range errs {
			if errors.Is(err, lifecycle.ErrStale) {
				stale++
			}
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: butlers %d and %d both took it", round, winner, i)
				}
				winner = i
			case errors.Is(err, lifecycle.ErrStale) || errors.Is(err, lifecycle.ErrIllegal):
				if apperr.CodeOf(err) != apperr.Conflict {
					t.Errorf("round %d: loser %d: code %s", round, i, apperr.CodeOf(err))
				}
			default:
				t.Errorf("round %d: loser %d: %v, want CONFLICT", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody took it: %v", round, errs)
		}
		t.Logf("round %d: %d lost the race (stale), %d found it taken (illegal)", round, stale, len(errs)-1-stale)
		got, err := f.svc.byID(f.ctx, r.ID)
		f.must(err)
		if got.Status != Taken || got.OwnerStaffID != butlers[winner].ID || got.Version != r.Version+1 || len(got.Timeline) != 2 ||
			got.Timeline[1].ActorID != butlers[winner].ID {
			t.Fatalf("round %d: after the race: %s v%d owner %q (winner %q), %d steps", round, got.Status, got.Version, got.OwnerStaffID, butlers[winner].ID, len(got.Timeline))
		}
	}
}

// The household cancels while a butler takes it: one of the two, never both.
func TestConcurrentCancelAndTake(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 5; round++ {
		r := f.submit(f.ownerA, f.ha.ID)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var cancelErr, takeErr error
		wg.Add(2)
		go func() { defer wg.Done(); <-start; _, cancelErr = f.svc.Cancel(f.ctx, f.ownerA, r.ID, "") }()
		go func() { defer wg.Done(); <-start; _, takeErr = f.svc.Take(f.ctx, f.butler, r.ID) }()
		close(start)
		wg.Wait()
		// An owner may cancel a taken request (nobody is on the way yet), so
		// both may succeed, but only one after the other: no step is lost and
		// none is applied to a state it was not decided on.
		got, err := f.svc.byID(f.ctx, r.ID)
		f.must(err)
		var want Status
		var steps int
		switch {
		case cancelErr == nil && takeErr == nil:
			want, steps = Cancelled, 2 // take, then cancel
		case cancelErr == nil:
			want, steps = Cancelled, 1
		case takeErr == nil:
			want, steps = Taken, 1
		default:
			t.Fatalf("round %d: cancel %v, take %v: neither won", round, cancelErr, takeErr)
		}
		if got.Status != want || got.Version != steps || len(got.Timeline) != steps+1 {
			t.Fatalf("round %d: cancel %v, take %v: %s v%d with %d steps, want %s v%d with %d",
				round, cancelErr, takeErr, got.Status, got.Version, len(got.Timeline), want, steps, steps+1)
		}
		if steps == 2 && (got.Timeline[1].Action != "take" || got.Timeline[2].Action != "cancel") {
			t.Fatalf("round %d: both won out of order: %v", round, got.Timeline)
		}
	}
}
