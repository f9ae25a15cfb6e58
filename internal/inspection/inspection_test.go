package inspection

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/files/imagetest"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/staff"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// outbox records what would be sent: the notification engine has its own
// tests, and the e2e test reads the real inbox.
type outbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (o *outbox) Send(_ context.Context, m notify.Message) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return len(m.Recipients), nil
}

type fixture struct {
	svc        *Service
	clock      *clock
	out        *outbox
	community  string
	inspector  *access.Caller
	supervisor *staff.Staff
	cleaner    *access.Caller
	outsider   *access.Caller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	ck := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	st := staff.NewService(db, "co", nil, nil, ck.Now)
	community := mongo.NewID()
	add := func(account string, role access.Role) *staff.Staff {
		s, err := st.Upsert(ctx, &staff.Staff{Account: account, Name: account, Roles: []access.Role{role}, CommunityIDs: []string{community}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	caller := func(s *staff.Staff) *access.Caller {
		return &access.Caller{Kind: auth.KindStaff, ID: s.ID, Roles: s.Roles, Communities: s.CommunityIDs}
	}
	f := &fixture{clock: ck, out: &outbox{}, community: community}
	f.svc = NewService(db, st, files.NewStore(db, ck.Now), f.out, nil, ck.Now)
	f.inspector = caller(add("x.inspector", access.Inspector))
	f.supervisor = add("x.lead", access.Supervisor)
	f.cleaner = caller(add("x.cleaner", access.Cleaner))
	f.outsider = &access.Caller{Kind: auth.KindStaff, ID: mongo.NewID(), Roles: []access.Role{access.Inspector}, Communities: []string{mongo.NewID()}}
	return f
}

// lobby records a lobby inspection on the default checklist, failing the
// items in fail.
func (f *fixture) lobby(key string, doneAt time.Time, fail ...int) RecordInput {
	in := RecordInput{CommunityID: f.community, Area: Lobby, TemplateVersion: 1, DoneAt: doneAt, IdempotencyKey: key}
	for i := range Default(f.community, Lobby).Items {
		r := ResultInput{Seq: i + 1, Passed: true}
		for _, s := range fail {
			if s == i+1 {
				r.Passed, r.Note = false, "烟头 5 个"
				r.Photos = []files.Upload{{Filename: "a.jpg", Content: bytes.NewReader(imagetest.JPEG(imagetest.Photo(32, 24), 80))}}
			}
		}
		in.Results = append(in.Results, r)
	}
	return in
}

func code(err error) apperr.Code { return apperr.CodeOf(err) }

func TestFailedItemBecomesATaskAndAFailedRecheckEscalates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	x, replayed, err := f.svc.Record(ctx, f.inspector, f.lobby("k1", f.clock.Now().Add(-time.Hour), 4))
	if err != nil || replayed {
		t.Fatalf("record: %v %v", err, replayed)
	}
	if x.Passed != 7 || x.Total != 8 || x.Results[3].TaskID == "" || len(x.Results[3].Photos) != 1 {
		t.Fatalf("inspection %+v", x)
	}
	// The cleaners' team sees the task; the inspector manages it.
	pg, err := f.svc.Tasks(ctx, f.cleaner, TaskFilter{CommunityID: f.community}, page.Request{First: 10})
	if err != nil || len(pg.Items) != 1 {
		t.Fatalf("cleaner's tasks: %v %d", err, len(pg.Items))
	}
	task := pg.Items[0]
	if task.AssigneeTeam != access.Cleaner || task.Status != Open || !task.Deadline.Equal(x.DoneAt.Add(DefaultFixIn)) {
		t.Fatalf("task %+v", task)
	}
	if _, err := f.svc.Recheck(ctx, f.cleaner, RecheckInput{TaskID: task.ID, Version: task.Version, Passed: true}); code(err) != apperr.Forbidden {
		t.Fatalf("cleaner re-checks own task: %v", err)
	}
	f.clock.Advance(25 * time.Hour)
	esc, err := f.svc.Recheck(ctx, f.inspector, RecheckInput{TaskID: task.ID, Version: task.Version, Passed: false, Note: "仍有烟头"})
	if err != nil {
		t.Fatal(err)
	}
	if esc.Status != Escalated || esc.Escalations != 1 || !esc.Deadline.Equal(f.clock.Now().Add(EscalateFixIn)) || len(esc.Rechecks) != 1 {
		t.Fatalf("escalated %+v", esc)
	}
	if len(f.out.msgs) != 1 || f.out.msgs[0].Kind != notify.InspectionEscalated || f.out.msgs[0].Recipients[0].ID != f.supervisor.ID {
		t.Fatalf("escalation notices %+v", f.out.msgs)
	}
	if _, err := f.svc.Recheck(ctx, f.inspector, RecheckInput{TaskID: task.ID, Version: task.Version, Passed: true}); !errors.Is(err, lifecycle.ErrStale) {
		t.Fatalf("re-check on an old version: %v", err)
	}
	done, err := f.svc.Recheck(ctx, f.inspector, RecheckInput{TaskID: task.ID, Version: esc.Version, Passed: true})
	if err != nil || done.Status != Closed {
		t.Fatalf("pass: %v %+v", err, done)
	}
	if _, err := f.svc.Task(ctx, f.outsider, task.ID); code(err) != apperr.NotFound {
		t.Fatalf("other community sees the task: %v", err)
	}
}

func TestOfflineInspectionKeepsDoneAtAndRecordsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doneAt := f.clock.Now().Add(-3 * 24 * time.Hour)
	x, _, err := f.svc.Record(ctx, f.inspector, f.lobby("offline-1", doneAt, 2))
	if err != nil || !x.DoneAt.Equal(doneAt) || !x.RecordedAt.Equal(f.clock.Now()) {
		t.Fatalf("offline record: %v %+v", err, x)
	}
	again, replayed, err := f.svc.Record(ctx, f.inspector, f.lobby("offline-1", doneAt, 2))
	if err != nil || !replayed || again.ID != x.ID {
		t.Fatalf("retry: %v %v %+v", err, replayed, again)
	}
	pg, err := f.svc.Inspections(ctx, f.inspector, InspectionFilter{CommunityID: f.community}, page.Request{First: 10, Count: true})
	if err != nil || pg.Total != 1 {
		t.Fatalf("inspections after retry: %v %d", err, pg.Total)
	}
	tasks, err := f.svc.Tasks(ctx, f.inspector, TaskFilter{CommunityID: f.community}, page.Request{First: 10, Count: true})
	if err != nil || tasks.Total != 1 {
		t.Fatalf("tasks after retry: %v %d", err, tasks.Total)
	}
	for _, tc := range []struct {
		name   string
		doneAt time.Time
		reason string
	}{
		{"future", f.clock.Now().Add(MaxSkew + time.Minute), "input.offline_future"},
		{"stale", f.clock.Now().Add(-MaxAge - time.Hour), "input.offline_old"},
	} {
		_, _, err := f.svc.Record(ctx, f.inspector, f.lobby("k-"+tc.name, tc.doneAt))
		if e, ok := apperr.As(err); !ok || e.Field != "input.doneAt" || e.Key != tc.reason {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}

func TestTemplatesAreVersionedAndRecordsKeepTheirVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ts, err := f.svc.Templates(ctx, f.inspector, f.community, nil)
	if err != nil || len(ts) != len(Areas) || ts[0].Version != 1 {
		t.Fatalf("defaults: %v %d", err, len(ts))
	}
	x, _, err := f.svc.Record(ctx, f.inspector, f.lobby("v1", f.clock.Now(), 1))
	if err != nil {
		t.Fatal(err)
	}
	in := TemplateInput{CommunityID: f.community, Area: Lobby, Name: "大堂", BaseVersion: 1,
		Items: []ItemInput{{Text: "地面", Standard: "无水渍"}}}
	v2, err := f.svc.UpsertTemplate(ctx, f.inspector, in)
	if err != nil || v2.Version != 2 {
		t.Fatalf("edit: %v %+v", err, v2)
	}
	if _, err := f.svc.UpsertTemplate(ctx, f.inspector, in); !errors.Is(err, ErrTemplateConflict) {
		t.Fatalf("edit over another's: %v", err)
	}
	cur, _ := f.svc.Templates(ctx, f.inspector, f.community, &v2.Area)
	if len(cur) != 1 || cur[0].Version != 2 || len(cur[0].Items) != 1 {
		t.Fatalf("current %+v", cur)
	}
	got, _ := f.svc.Inspection(ctx, f.inspector, x.ID)
	if got.TemplateVersion != 1 || got.Results[0].Text != Default(f.community, Lobby).Items[0].Text {
		t.Fatalf("recorded inspection changed with the template: %+v", got)
	}
	// A phone that downloaded version 1 before the edit still uploads.
	if _, _, err := f.svc.Record(ctx, f.inspector, f.lobby("v1-late", f.clock.Now())); err != nil {
		t.Fatalf("late upload on v1: %v", err)
	}
	if _, err := f.svc.UpsertTemplate(ctx, f.cleaner, in); code(err) != apperr.Forbidden {
		t.Fatalf("cleaner edits: %v", err)
	}
	if _, err := f.svc.Templates(ctx, f.outsider, f.community, nil); code(err) != apperr.NotFound {
		t.Fatalf("outsider reads: %v", err)
	}
}
