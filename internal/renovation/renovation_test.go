package renovation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// cleaningOrders stands in for the orders service of another branch: it
// records calls and, like the real one, makes one order per source.
type cleaningOrders struct {
	mu       sync.Mutex
	calls    []string
	bySource map[string]string
}

func (o *cleaningOrders) CreateFreeCleaning(_ context.Context, householdID, source, note string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, householdID+" "+source)
	if o.bySource == nil {
		o.bySource = map[string]string{}
	}
	if id, ok := o.bySource[source]; ok {
		return id, nil
	}
	id := fmt.Sprintf("order-%d", len(o.bySource)+1)
	o.bySource[source] = id
	return id, nil
}

type fixture struct {
	t      *testing.T
	db     *mongo.DB
	clock  *clock
	cfg    Config
	svc    *Service
	engine *notify.Engine

	x, y                        *community.Community
	ha, hb, hy                  *household.Household
	ownerA, familyA, ownerB     *access.Caller
	supervisor, butler, guard   *access.Caller
	supervisorY, butlerY, admin *access.Caller
}

func staff(id string, role access.Role, communityID string) *access.Caller {
	return &access.Caller{Kind: auth.KindStaff, ID: id, Roles: []access.Role{role}, Communities: []string{communityID}}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// 09:00 on 2026-11-22 in Shanghai.
	f := &fixture{t: t, db: db, clock: &clock{t: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}}
	communities := community.NewService(db, "co", f.clock.Now)
	households := household.NewService(db, communities, nil, nil, f.clock.Now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: f.clock.Now})
	f.cfg = Config{DB: db, Households: households, Files: files.NewStore(db, f.clock.Now), Sender: f.engine, Now: f.clock.Now}
	f.svc = NewService(f.cfg)
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	mk := func(c *community.Community, room, name, phone string, role access.Role, h *household.Household) (*household.Household, *access.Caller) {
		if h == nil {
			b, err := communities.CreateBuilding(ctx, f.admin, community.CreateBuildingInput{CommunityID: c.ID, Name: "楼" + room, Units: []string{"1"}})
			f.must(err)
			h, err = households.Create(ctx, f.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
			f.must(err)
		}
		m, err := households.AddMember(ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		f.must(err)
		return h, &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: c.ID, Role: role}}}
	}
	f.ha, f.ownerA = mk(f.x, "101", "王建国", "13900000001", access.Owner, nil)
	_, f.familyA = mk(f.x, "101", "王小丽", "13900000005", access.Family, f.ha)
	f.hb, f.ownerB = mk(f.x, "102", "李秀英", "13900000002", access.Owner, nil)
	f.hy, _ = mk(f.y, "301", "陈美兰", "13900000004", access.Owner, nil)
	f.supervisor = staff("sup-x", access.Supervisor, f.x.ID)
	f.butler = staff("butler-x", access.Butler, f.x.ID)
	f.guard = staff("guard-x", access.Security, f.x.ID)
	f.supervisorY = staff("sup-y", access.Supervisor, f.y.ID)
	f.butlerY = staff("butler-y", access.Butler, f.y.ID)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func photo() *files.Upload { return &files.Upload{Filename: "p.png", Content: bytes.NewReader(png)} }

// application is a complete one starting tomorrow.
func application() Application {
	return Application{
		Company:   Company{Name: "安居装饰", Contact: "刘经理", Phone: "13800000009"},
		Workers:   []Worker{{Name: "张师傅", Phone: "13800000010", IDCardNo: "11010519491231002X"}, {Name: "李师傅"}},
		StartDate: "2026-11-23", EndDate: "2027-01-20",
		Scope: "厨房卫生间翻新，改水电", ScopeTags: []ScopeTag{"KITCHEN_BATH", "PLUMBING_ELECTRICAL"},
		Documents: DocumentsInput{Agreement: DocumentInput{Provided: true, Photo: photo()}, FireSafetyPledge: DocumentInput{Provided: true},
			WaterproofingTest: DocumentInput{Provided: true}},
	}
}

// refused requires err to be want and the stored renovation to be exactly
// as before: version, state, timeline and every embedded list.
func (f *fixture) refused(name string, before *Renovation, want error) func(*Renovation, error) {
	return func(_ *Renovation, err error) {
		f.t.Helper()
		if !errors.Is(err, want) {
			f.t.Errorf("%s from %s: err %v, want %v", name, before.Status, err, want)
		}
		after, gerr := f.svc.byID(ctx, before.ID)
		f.must(gerr)
		if after.Version != before.Version || after.Status != before.Status || len(after.Timeline) != len(before.Timeline) ||
			len(after.Reviews) != len(before.Reviews) || len(after.Inspections) != len(before.Inspections) ||
			len(after.Extensions) != len(before.Extensions) || after.EndDate != before.EndDate || after.CleaningPending != before.CleaningPending {
			f.t.Errorf("%s changed the renovation: v%d %s → v%d %s", name, before.Version, before.Status, after.Version, after.Status)
		}
	}
}

func pageOf(n int) page.Request { return page.Request{First: n} }

func (f *fixture) fileCount() int64 {
	n, err := f.db.Collection("files.files").CountDocuments(ctx, bson.D{})
	f.must(err)
	return n
}

// The whole life of an application, with every illegal step tried from the
// state it is refused in: CONFLICT, and nothing stored.
func TestLifecycleAndIllegalSteps(t *testing.T) {
	f := newFixture(t)
	s, illegal := f.svc, lifecycle.ErrIllegal
	r, err := s.Apply(ctx, f.ownerA, f.ha.ID, application())
	f.must(err)
	if r.Status != Submitted || r.Documents.Agreement.PhotoID == "" || len(r.Workers) != 2 || r.BuildingID != f.ha.BuildingID {
		t.Fatalf("applied: %+v", r)
	}
	type try struct {
		name string
		do   func(*Renovation) (*Renovation, error)
		want error // nil: must succeed
		to   Status
	}
	inspect := func(res Result, vt ViolationType, desc string) func(*Renovation) (*Renovation, error) {
		return func(r *Renovation) (*Renovation, error) {
			return s.Inspect(ctx, f.guard, r.ID, InspectionInput{Result: res, ViolationType: vt, Description: desc, Photos: []files.Upload{*photo()}})
		}
	}
	approve := func(r *Renovation) (*Renovation, error) { return s.Review(ctx, f.supervisor, r.ID, true, nil, "") }
	ret := func(r *Renovation) (*Renovation, error) {
		return s.Review(ctx, f.supervisor, r.ID, false, []string{"缺少施工人员身份证", "防水范围不明确"}, "")
	}
	complete := func(r *Renovation) (*Renovation, error) { return s.Complete(ctx, f.butler, r.ID, "") }
	resubmit := func(r *Renovation) (*Renovation, error) { return s.Resubmit(ctx, f.ownerA, r.ID, application()) }
	extend := func(r *Renovation) (*Renovation, error) {
		return s.RequestExtension(ctx, f.ownerA, r.ID, "2027-02-10", "瓷砖到货延迟")
	}
	decide := func(r *Renovation) (*Renovation, error) { return s.DecideExtension(ctx, f.supervisor, r.ID, true, "") }
	files0 := f.fileCount()
	steps := []try{
		{"inspect before approval", inspect(OK, "", ""), illegal, ""},
		{"complete a submitted application", complete, illegal, ""},
		{"resubmit one not returned", resubmit, illegal, ""},
		{"extend before approval", extend, illegal, ""},
		{"butler reviews", func(r *Renovation) (*Renovation, error) { return s.Review(ctx, f.butler, r.ID, true, nil, "") }, apperr.ErrForbidden, ""},
		{"guard completes", func(r *Renovation) (*Renovation, error) { return s.Complete(ctx, f.guard, r.ID, "") }, apperr.ErrForbidden, ""},
		{"return", ret, nil, Returned},
		{"approve a returned application", approve, illegal, ""},
		{"return twice", ret, illegal, ""},
		{"inspect a returned application", inspect(OK, "", ""), illegal, ""},
		{"resubmit", resubmit, nil, Submitted},
		{"approve", approve, nil, Approved},
		{"approve twice", approve, illegal, ""},
		{"complete before the works start", complete, illegal, ""},
		{"decide an extension nobody asked for", decide, ErrNoPendingExtension, ""},
		{"first inspection starts the works", inspect(Violation, "DEBRIS", "楼道堆放建筑垃圾"), nil, InProgress},
		{"resubmit during the works", resubmit, illegal, ""},
		{"extend", extend, nil, InProgress},
		{"extend again while one waits", extend, ErrExtensionPending, ""},
		{"approve the extension", decide, nil, InProgress},
		{"inspect again", inspect(OK, "", ""), nil, InProgress},
		{"complete", complete, nil, Completed},
		{"complete twice", complete, illegal, ""},
		{"inspect a completed renovation", inspect(OK, "", ""), illegal, ""},
		{"extend a completed renovation", extend, illegal, ""},
		{"review a completed renovation", ret, illegal, ""},
	}
	for _, st := range steps {
		if st.want != nil {
			f.refused(st.name, r, st.want)(st.do(r))
			if apperr.CodeOf(st.want) == apperr.Conflict {
				_, err := st.do(r)
				if apperr.CodeOf(err) != apperr.Conflict {
					t.Errorf("%s: code %s, want CONFLICT", st.name, apperr.CodeOf(err))
				}
			}
			continue
		}
		out, err := st.do(r)
		if err != nil || out.Status != st.to {
			t.Fatalf("%s: %v (status %v), want %s", st.name, err, out, st.to)
		}
		r = out
	}
	// The resubmitted agreement's photo and two inspection photos stored;
	// refused steps stored none.
	if n := f.fileCount(); n != files0+3 {
		t.Errorf("files: %d before, %d after; want three photos more", files0, n)
	}
	if r.EndDate != "2027-02-10" || r.Violations != 1 || len(r.Inspections) != 2 || len(r.Reviews) != 2 || r.Reviews[0].Approved ||
		len(r.Reviews[0].Reasons) != 2 || !r.CleaningPending || r.CleaningOrderID != "" || r.StartedAt == nil || r.CompletedAt == nil {
		t.Errorf("completed renovation: end %s, violations %d, inspections %d, reviews %+v, cleaning %v %q",
			r.EndDate, r.Violations, len(r.Inspections), r.Reviews, r.CleaningPending, r.CleaningOrderID)
	}
	var actions []string
	for _, e := range r.Timeline {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "apply,return,resubmit,approve,inspect,request_extension,decide_extension,inspect,complete" {
		t.Errorf("timeline %s", got)
	}
	// The owner and the family member were told of every owner-visible step.
	for _, who := range []*access.Caller{f.ownerA, f.familyA} {
		ns, err := f.engine.Latest(ctx, who.ID, 20)
		f.must(err)
		var titles []string
		for _, n := range ns {
			titles = append(titles, n.Title)
		}
		joined := strings.Join(titles, "|")
		for _, want := range []string{"装修申请被退回", "装修申请已通过", "装修巡查：发现违规", "延期申请已批准", "装修巡查：合格", "装修已完工"} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s's inbox lacks %q: %s", who.ID, want, joined)
			}
		}
		if len(ns) != 6 {
			t.Errorf("%s got %d notices, want 6: %s", who.ID, len(ns), joined)
		}
	}
}

// Who may do what: outsiders get NOT_FOUND, members without the right role
// or staff without the right role get FORBIDDEN.
func TestPermissions(t *testing.T) {
	f := newFixture(t)
	s := f.svc
	if _, err := s.Apply(ctx, f.ownerB, f.ha.ID, application()); !errors.Is(err, household.ErrNotFound) {
		t.Errorf("owner applies for another household: %v", err)
	}
	if _, err := s.Apply(ctx, f.familyA, f.ha.ID, application()); !errors.Is(err, ErrOwnerOnly) {
		t.Errorf("family member applies: %v", err)
	}
	if _, err := s.Apply(ctx, f.butler, f.ha.ID, application()); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("butler applies: %v", err)
	}
	r, err := s.Apply(ctx, f.ownerA, f.ha.ID, application())
	f.must(err)
	for name, c := range map[string]*access.Caller{"neighbour": f.ownerB, "supervisor of Y": f.supervisorY, "butler of Y": f.butlerY} {
		if _, err := s.Get(ctx, c, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s reads: %v", name, err)
		}
		if _, err := s.Review(ctx, c, r.ID, true, nil, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s reviews: %v", name, err)
		}
		if ok, _ := s.MayReadFile(ctx, c, files.Meta{Purpose: FilePurpose, SubjectID: r.ID}); ok {
			t.Errorf("%s may read the document photos", name)
		}
		if MayReadWorkers(c, r) {
			t.Errorf("%s may read the workers", name)
		}
	}
	for name, c := range map[string]*access.Caller{"owner": f.ownerA, "family": f.familyA, "guard": f.guard, "admin": f.admin} {
		if ok, _ := s.MayReadFile(ctx, c, files.Meta{Purpose: FilePurpose, SubjectID: r.ID}); !ok || !MayReadWorkers(c, r) {
			t.Errorf("%s may not read photos or workers", name)
		}
	}
	if _, err := s.Review(ctx, f.ownerA, r.ID, true, nil, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("owner approves own: %v", err)
	}
	if _, err := s.Review(ctx, f.admin, r.ID, true, nil, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("admin (not a supervisor) approves: %v", err)
	}
	if _, err := s.Review(ctx, f.supervisor, r.ID, false, nil, ""); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("return without reasons: %v", err)
	}
	r, err = s.Review(ctx, f.supervisor, r.ID, true, nil, "")
	f.must(err)
	if _, err := s.Inspect(ctx, f.ownerA, r.ID, InspectionInput{Result: OK}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("owner inspects: %v", err)
	}
	if _, err := s.RequestExtension(ctx, f.familyA, r.ID, "2027-02-01", "晚了"); !errors.Is(err, ErrOwnerOnly) {
		t.Errorf("family asks for an extension: %v", err)
	}
	// Lists: staff of Y see nothing of X; a resident sees only their own.
	if _, err := s.List(ctx, f.supervisorY, Filter{CommunityID: f.x.ID}, pageOf(20)); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("staff of Y list X: %v", err)
	}
	if _, err := s.List(ctx, f.supervisorY, Filter{HouseholdID: f.ha.ID}, pageOf(20)); !errors.Is(err, household.ErrNotFound) {
		t.Errorf("staff of Y list a household of X: %v", err)
	}
	if pg, err := s.List(ctx, f.ownerB, Filter{}, pageOf(20)); err != nil || len(pg.Items) != 0 {
		t.Errorf("neighbour's own list: %v %d", err, len(pg.Items))
	}
	if pg, err := s.List(ctx, f.familyA, Filter{}, pageOf(20)); err != nil || len(pg.Items) != 1 {
		t.Errorf("family's own list: %v", err)
	}
	if pg, err := s.List(ctx, f.butler, Filter{CommunityID: f.x.ID, Status: Approved}, pageOf(20)); err != nil || len(pg.Items) != 1 || pg.Total != 1 {
		t.Errorf("butler's community list: %v", err)
	}
}

// Approval needs the documents: the agreement and the fire pledge always,
// the waterproofing confirmation for wet works only.
func TestApprovalNeedsDocuments(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		tags    []ScopeTag
		docs    DocumentsInput
		approve bool
	}{
		{"everything provided", []ScopeTag{"KITCHEN_BATH"}, DocumentsInput{Agreement: DocumentInput{Provided: true}, FireSafetyPledge: DocumentInput{Provided: true}, WaterproofingTest: DocumentInput{Provided: true}}, true},
		{"dry works need no waterproofing test", []ScopeTag{"WALLS"}, DocumentsInput{Agreement: DocumentInput{Provided: true}, FireSafetyPledge: DocumentInput{Provided: true}}, true},
		{"wet works need the waterproofing test", []ScopeTag{"WATERPROOFING"}, DocumentsInput{Agreement: DocumentInput{Provided: true}, FireSafetyPledge: DocumentInput{Provided: true}}, false},
		{"no fire pledge", []ScopeTag{"WALLS"}, DocumentsInput{Agreement: DocumentInput{Provided: true}}, false},
	} {
		in := application()
		in.ScopeTags, in.Documents = tc.tags, tc.docs
		r, err := f.svc.Apply(ctx, f.ownerA, f.ha.ID, in)
		f.must(err)
		_, err = f.svc.Review(ctx, f.supervisor, r.ID, true, nil, "")
		if tc.approve && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.approve {
			f.refused(tc.name, r, ErrDocumentsMissing)(nil, err)
		}
	}
}

func TestApplicationValidation(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		field string
		edit  func(*Application)
	}{
		{"input.company.name", func(a *Application) { a.Company.Name = " " }},
		{"input.company.phone", func(a *Application) { a.Company.Phone = "12345" }},
		{"input.workers.0.idCardNo", func(a *Application) { a.Workers[0].IDCardNo = "110105194912310021" }},
		{"input.workers.1.phone", func(a *Application) { a.Workers[1].Phone = "555" }},
		{"input.period", func(a *Application) { a.StartDate = "2026-11-21" }},
		{"input.period", func(a *Application) { a.EndDate = "2026-11-22" }},
		{"input.period", func(a *Application) { a.EndDate = "2027-06-01" }},
		{"input.scope", func(a *Application) { a.Scope = "" }},
		{"input.scopeTags", func(a *Application) { a.ScopeTags = []ScopeTag{"ROOF"} }},
		{"input.documents.fireSafetyPledge.provided", func(a *Application) {
			a.Documents.FireSafetyPledge = DocumentInput{Provided: false, Photo: photo()}
		}},
		{"input.documents.agreement.photo", func(a *Application) {
			a.Documents.Agreement.Photo = &files.Upload{Filename: "x.txt", Content: strings.NewReader("not an image")}
		}},
	} {
		in := application()
		tc.edit(&in)
		_, err := f.svc.Apply(ctx, f.ownerA, f.ha.ID, in)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadUserInput || e.Field != tc.field {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if n, _ := f.db.Collection("renovations").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("%d renovations stored from invalid applications", n)
	}
	if n := f.fileCount(); n != 0 {
		t.Errorf("%d photos stored from invalid applications", n)
	}
}
