package patrol

import (
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

const estate = "aaaaaaaaaaaaaaaaaaaaaaaa"

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func setup(t *testing.T) (*Service, *testClock, *Route) {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// 21:00 local on 1 Dec: an hour before the night shift.
	clk := &testClock{t: time.Date(2026, 12, 1, 21, 0, 0, 0, shanghai)}
	s := NewService(Config{DB: db, Zone: func(string) *time.Location { return shanghai }, Now: clk.now})
	r, err := s.UpsertRoute(context.Background(), lead, RouteInput{CommunityID: estate, Name: "夜间巡更", Active: true,
		ShiftStart: "22:00", ShiftEnd: "06:00", EveryMinutes: 120,
		Checkpoints: []CheckpointInput{
			{Name: "东门", Place: "东门岗亭", OffsetMinutes: 0, ToleranceMinutes: 10},
			{Name: "地下车库", Place: "B1 出口", OffsetMinutes: 30, ToleranceMinutes: 10},
		}})
	if err != nil {
		t.Fatalf("upsert route: %v", err)
	}
	return s, clk, r
}

var (
	lead   = &access.Caller{Kind: auth.KindStaff, ID: "lead", Roles: []access.Role{access.SecuritySupervisor}, Communities: []string{estate}}
	guard  = &access.Caller{Kind: auth.KindStaff, ID: "guard", Roles: []access.Role{access.Security}, Communities: []string{estate}}
	guard2 = &access.Caller{Kind: auth.KindStaff, ID: "guard2", Roles: []access.Role{access.Security}, Communities: []string{estate}}
)

func at(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, shanghai) }

func TestSlotsPlaceScansInRounds(t *testing.T) {
	sh := Shift{Start: "22:00", End: "06:00", Every: 2 * time.Hour}
	cp := &Checkpoint{Offset: 30 * time.Minute, Tolerance: 10 * time.Minute}
	for _, tc := range []struct {
		at         time.Time
		ok         bool
		start, due time.Time
	}{
		{at(1, 22, 20), true, at(1, 22, 0), at(1, 22, 30)}, // window opens
		{at(1, 22, 19), false, time.Time{}, time.Time{}},   // before the first window
		{at(2, 0, 19), true, at(1, 22, 0), at(1, 22, 30)},  // late for round 1
		{at(2, 0, 20), true, at(2, 0, 0), at(2, 0, 30)},    // round 2's window
		{at(2, 4, 45), true, at(2, 4, 0), at(2, 4, 30)},    // after midnight, last round
		{at(2, 6, 19), true, at(2, 4, 0), at(2, 4, 30)},    // late, after the shift
		{at(2, 6, 20), false, time.Time{}, time.Time{}},
		{at(2, 12, 0), false, time.Time{}, time.Time{}},
	} {
		start, due, ok := sh.slot(cp, tc.at, shanghai)
		if ok != tc.ok || !start.Equal(tc.start) || !due.Equal(tc.due) {
			t.Errorf("%s: got %v %s %s, want %v %s %s", tc.at, ok, start, due, tc.ok, tc.start, tc.due)
		}
	}
	if o, on := sh.current(at(2, 5, 59), shanghai); !on || !o.start.Equal(at(1, 22, 0)) || o.rounds != 4 {
		t.Errorf("current at 05:59: %v %+v", on, o)
	}
	if _, on := sh.current(at(2, 6, 0), shanghai); on {
		t.Error("shift on at 06:00")
	}
}

func TestRouteInputIsChecked(t *testing.T) {
	s, _, r := setup(t)
	ctx := context.Background()
	if len(r.Checkpoints[0].Code) != 16 || r.Checkpoints[0].Code == r.Checkpoints[1].Code {
		t.Fatalf("codes %q %q", r.Checkpoints[0].Code, r.Checkpoints[1].Code)
	}
	base := RouteInput{CommunityID: estate, Name: "x", ShiftStart: "22:00", ShiftEnd: "06:00", EveryMinutes: 120,
		Checkpoints: []CheckpointInput{{Name: "a", OffsetMinutes: 30, ToleranceMinutes: 10}, {Name: "b", OffsetMinutes: 0, ToleranceMinutes: 10}}}
	if _, err := s.UpsertRoute(ctx, lead, base); fieldOf(err) != "input.checkpoints.1.offsetMinutes" {
		t.Errorf("out of order: %v", err)
	}
	base.Checkpoints[1].OffsetMinutes, base.ShiftStart = 40, "25:00"
	if _, err := s.UpsertRoute(ctx, lead, base); fieldOf(err) != "input.shiftStart" {
		t.Errorf("bad start: %v", err)
	}
	base.ShiftStart = "22:00"
	if _, err := s.UpsertRoute(ctx, guard, base); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("a guard set a route up: %v", err)
	}
	// Editing keeps the codes of the checkpoints kept.
	edit := RouteInput{ID: r.ID, Name: "夜巡", Active: true, ShiftStart: "22:00", ShiftEnd: "06:00", EveryMinutes: 120,
		Checkpoints: []CheckpointInput{{ID: r.Checkpoints[1].ID, Name: "车库", OffsetMinutes: 20, ToleranceMinutes: 5}}}
	r2, err := s.UpsertRoute(ctx, lead, edit)
	if err != nil || r2.Checkpoints[0].Code != r.Checkpoints[1].Code || r2.Version != 1 {
		t.Fatalf("edit: %v %+v", err, r2)
	}
	rs, err := s.Routes(ctx, guard, estate)
	if err != nil || len(rs) != 1 || rs[0].Checkpoints[0].Code != "" {
		t.Errorf("a guard's routes: %v %+v", err, rs)
	}
	rs, _ = s.Routes(ctx, lead, estate)
	if rs[0].Checkpoints[0].Code == "" {
		t.Error("a lead does not see the codes")
	}
}

func fieldOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

func TestScansAreOnTimeLateOnceAndChecked(t *testing.T) {
	s, clk, r := setup(t)
	ctx := context.Background()
	gate, garage := r.Checkpoints[0], r.Checkpoints[1]
	clk.t = at(1, 22, 5)
	sc, err := s.RecordScan(ctx, guard, ScanInput{CommunityID: estate, Code: gate.Code, DoneAt: at(1, 22, 3), IdempotencyKey: "k1"})
	if err != nil || sc.Status != OnTime || !sc.DoneAt.Equal(at(1, 22, 3)) {
		t.Fatalf("on time: %v %+v", err, sc)
	}
	again, err := s.RecordScan(ctx, guard, ScanInput{CommunityID: estate, Code: gate.Code, DoneAt: at(1, 22, 3), IdempotencyKey: "k1"})
	if err != nil || again.ID != sc.ID {
		t.Fatalf("retry: %v %+v", err, again)
	}
	if n, _ := s.scans.CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d scans after a retry", n)
	}
	if _, err := s.RecordScan(ctx, guard2, ScanInput{CommunityID: estate, Code: gate.Code, DoneAt: at(1, 22, 4), IdempotencyKey: "k9"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("second guard, same round: %v", err)
	}
	// Uploaded at 23:30, done at 22:50: late for the 22:30 window, kept at 22:50.
	clk.t = at(1, 23, 30)
	sc, err = s.RecordScan(ctx, guard, ScanInput{CommunityID: estate, Code: garage.Code, DoneAt: at(1, 22, 50), IdempotencyKey: "k2"})
	if err != nil || sc.Status != Late || !sc.DoneAt.Equal(at(1, 22, 50)) || !sc.DueAt.Equal(at(1, 22, 30)) {
		t.Fatalf("late: %v %+v", err, sc)
	}
	for name, in := range map[string]ScanInput{
		"wrong code":     {CommunityID: estate, Code: "AAAAAAAAAAAAAAAA", DoneAt: at(1, 23, 29), IdempotencyKey: "k3"},
		"future":         {CommunityID: estate, Code: gate.Code, DoneAt: at(1, 23, 40), IdempotencyKey: "k4"},
		"key reused":     {CommunityID: estate, Code: gate.Code, DoneAt: at(1, 23, 29), IdempotencyKey: "k2"},
		"other estate's": {CommunityID: "bbbbbbbbbbbbbbbbbbbbbbbb", Code: gate.Code, DoneAt: at(1, 23, 29), IdempotencyKey: "k5"},
	} {
		if _, err := s.RecordScan(ctx, guard, in); err == nil {
			t.Errorf("%s: recorded", name)
		} else if name == "wrong code" && (fieldOf(err) != "input.code" || apperr.CodeOf(err) != apperr.BadUserInput) {
			t.Errorf("wrong code: %v", err)
		}
	}
	clk.t = at(2, 12, 0)
	if _, err := s.RecordScan(ctx, guard, ScanInput{CommunityID: estate, Code: gate.Code, DoneAt: at(2, 12, 0), IdempotencyKey: "k6"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("off shift: %v", err)
	}
}

func TestTickMarksMissesOnceWhileTheShiftIsOn(t *testing.T) {
	s, clk, r := setup(t)
	ctx := context.Background()
	clk.t = at(1, 22, 5)
	if _, err := s.RecordScan(ctx, guard, ScanInput{CommunityID: estate, Code: r.Checkpoints[0].Code, DoneAt: at(1, 22, 5), IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	misses := func() int64 {
		n, err := s.misses.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, now := range []time.Time{at(1, 21, 0), at(1, 22, 40)} {
		if err := s.Tick(ctx, now); err != nil || misses() != 0 {
			t.Fatalf("tick at %s: %v, %d misses", now, err, misses())
		}
	}
	// 22:41: the garage's 22:30±10 window has passed; the gate was scanned.
	for range 2 {
		if err := s.Tick(ctx, at(1, 22, 41)); err != nil || misses() != 1 {
			t.Fatalf("tick at 22:41: %v, %d misses", err, misses())
		}
	}
	// 05:59: rounds 00:00, 02:00, 04:00 both checkpoints (04:30 closed at 04:40).
	if err := s.Tick(ctx, at(2, 5, 59)); err != nil || misses() != 7 {
		t.Fatalf("tick at 05:59: %v, %d misses", err, misses())
	}
	if err := s.Tick(ctx, at(2, 7, 0)); err != nil || misses() != 7 {
		t.Fatalf("tick after the shift: %v, %d misses", err, misses())
	}
}

func TestGuardsListTheirOwnRounds(t *testing.T) {
	s, clk, r := setup(t)
	ctx := context.Background()
	clk.t = at(2, 0, 35)
	for i, sc := range []struct {
		who  *access.Caller
		cp   int
		done time.Time
	}{{guard, 0, at(1, 22, 1)}, {guard2, 1, at(1, 22, 31)}, {guard2, 0, at(2, 0, 2)}} {
		if _, err := s.RecordScan(ctx, sc.who, ScanInput{CommunityID: estate, Code: r.Checkpoints[sc.cp].Code, DoneAt: sc.done, IdempotencyKey: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Tick(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	all, err := s.Patrols(ctx, lead, estate, "", page.Request{First: 10, Count: true})
	if err != nil || len(all.Items) != 2 || all.Total != 2 || !all.Items[0].Start.Equal(at(2, 0, 0)) {
		t.Fatalf("lead: %v %+v", err, all)
	}
	if n, m := len(all.Items[1].Scans), len(all.Items[0].Misses); n != 2 || m != 0 {
		t.Errorf("lead: %d scans in round 1, %d misses in round 2 (garage due 00:30 still open)", n, m)
	}
	mine, err := s.Patrols(ctx, guard, estate, r.ID, page.Request{First: 10})
	if err != nil || len(mine.Items) != 1 || len(mine.Items[0].Scans) != 1 || mine.Items[0].Scans[0].GuardID != "guard" {
		t.Fatalf("guard: %v %+v", err, mine)
	}
	other := &access.Caller{Kind: auth.KindStaff, ID: "x", Roles: []access.Role{access.Security}, Communities: []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}}
	if _, err := s.Patrols(ctx, other, estate, "", page.Request{First: 10}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("another estate's guard: %v", err)
	}
}
