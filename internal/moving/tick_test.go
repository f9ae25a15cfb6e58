package moving

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// taskList stands in for internal/tasks (the lead's package, not on this
// branch): a real implementation of the interface that records every call
// and, like the real one, keeps one task per key.
type taskList struct {
	mu    sync.Mutex
	calls []taskCall
	byKey map[string]taskCall
}

type taskCall struct {
	key, kind, communityID, householdID, title string
	due                                        time.Time
}

func (l *taskList) AddButlerTask(_ context.Context, key, kind, communityID, householdID, title string, due time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := taskCall{key, kind, communityID, householdID, title, due}
	l.calls = append(l.calls, c)
	if l.byKey == nil {
		l.byKey = map[string]taskCall{}
	}
	if _, ok := l.byKey[key]; !ok {
		l.byKey[key] = c
	}
	return nil
}

func (l *taskList) snapshot() []taskCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]taskCall(nil), l.calls...)
	sort.Slice(out, func(i, j int) bool { return out[i].kind < out[j].kind })
	return out
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func at(date, hm string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", date+" "+hm, shanghai)
	return t
}

// After a move in, the butler gets the congratulation visit and the move-in
// callback, once, with their due dates, however many servers tick; a move
// out gets none; the evening before, the household is reminded once.
func TestTickCreatesMoveInTasksOnce(t *testing.T) {
	f := newFixture(t)
	tasks := &taskList{}
	cfg := f.cfg
	cfg.Tasks = tasks
	servers := []*Service{NewService(cfg), NewService(cfg), NewService(cfg)}
	in, err := servers[0].Book(ctx, f.ownerA, move(f.ha, "2026-11-25", "09:00", "11:00", "1"))
	f.must(err)
	outIn := move(f.hb, "2026-11-25", "13:00", "15:00", "1")
	outIn.Direction = MoveOut
	out, err := servers[0].Book(ctx, f.ownerB, outIn)
	f.must(err)

	tick := func(now time.Time) {
		t.Helper()
		f.clock.Set(now)
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Add(1)
			go func(s *Service) {
				defer wg.Done()
				if err := s.Tick(ctx, now); err != nil {
					t.Error(err)
				}
			}(s)
		}
		wg.Wait()
	}
	inbox := func(c string) int {
		ns, err := f.engine.Latest(ctx, c, 20)
		f.must(err)
		return len(ns)
	}
	tick(at("2026-11-24", "17:59"))
	if inbox(f.ownerA.ID) != 0 {
		t.Fatal("reminded before the evening before")
	}
	tick(at("2026-11-24", "18:00"))
	tick(at("2026-11-24", "20:00"))
	if inbox(f.ownerA.ID) != 1 || inbox(f.ownerB.ID) != 1 {
		t.Fatalf("reminders: A %d, B %d; want one each", inbox(f.ownerA.ID), inbox(f.ownerB.ID))
	}
	if ns, _ := f.engine.Latest(ctx, f.ownerA.ID, 1); ns[0].Title != "服务进度：明日搬家提醒" {
		t.Errorf("reminder title %q", ns[0].Title)
	}
	tick(at("2026-11-25", "20:00")) // moving day, evening: not yet
	if len(tasks.snapshot()) != 0 {
		t.Fatal("tasks made on the moving day")
	}
	tick(at("2026-11-26", "00:01"))
	tick(at("2026-11-26", "08:00"))
	calls := tasks.snapshot()
	if len(calls) != 2 {
		t.Fatalf("task calls: %+v; want exactly two", calls)
	}
	want := []taskCall{
		{"move:" + in.ID + ":congratulation", TaskCongratulation, f.x.ID, f.ha.ID, "", at("2026-11-28", "18:00")},
		{"move:" + in.ID + ":callback", TaskCallback, f.x.ID, f.ha.ID, "", at("2026-12-02", "18:00")},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].kind < want[j].kind })
	for i, w := range want {
		g := calls[i]
		if g.key != w.key || g.kind != w.kind || g.communityID != w.communityID || g.householdID != w.householdID || !g.due.Equal(w.due) || g.title == "" {
			t.Errorf("task %d = %+v, want %+v", i, g, w)
		}
	}
	for _, id := range []string{in.ID, out.ID} {
		b, err := f.svc.Get(ctx, f.butler, id)
		f.must(err)
		if b.Status != Moved || b.TasksPending {
			t.Errorf("booking %s after the date: %s pending %v", b.Direction, b.Status, b.TasksPending)
		}
	}
	if n := f.cellCount(); n != 0 {
		t.Errorf("%d cells still held after the moves", n)
	}
}

// With no task list wired, a move in keeps its tasks pending; once the list
// is wired the next tick makes them.
func TestTasksWaitForTheTaskList(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Book(ctx, f.ownerA, move(f.ha, "2026-11-22", "14:00", "15:00", "1"))
	f.must(err)
	f.clock.Set(at("2026-11-23", "09:00"))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	got, err := f.svc.Get(ctx, f.ownerA, b.ID)
	f.must(err)
	if got.Status != Moved || !got.TasksPending {
		t.Fatalf("without a task list: %s pending %v", got.Status, got.TasksPending)
	}
	tasks := &taskList{}
	cfg := f.cfg
	cfg.Tasks = tasks
	wired := NewService(cfg)
	f.must(wired.Tick(ctx, f.clock.Now())) // just moved: left to its server a minute
	if len(tasks.snapshot()) != 0 {
		t.Fatal("retried at once")
	}
	f.clock.Set(at("2026-11-23", "09:05"))
	f.must(wired.Tick(ctx, f.clock.Now()))
	f.must(wired.Tick(ctx, f.clock.Now()))
	if calls := tasks.snapshot(); len(calls) != 2 || !calls[0].due.Equal(at("2026-11-25", "18:00")) || !calls[1].due.Equal(at("2026-11-29", "18:00")) {
		t.Fatalf("retried tasks: %+v", calls)
	}
	if got, _ := f.svc.Get(ctx, f.ownerA, b.ID); got.TasksPending {
		t.Error("still pending")
	}
}
