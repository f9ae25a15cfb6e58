package incident

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

const (
	estate = "aaaaaaaaaaaaaaaaaaaaaaaa"
	other  = "bbbbbbbbbbbbbbbbbbbbbbbb"
)

var lead = &access.Caller{Kind: auth.KindStaff, ID: "lead", Roles: []access.Role{access.SecuritySupervisor}, Communities: []string{estate, other}}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// StatsIn counts by type the incidents that occurred in the window, those
// of them closed by now and their total time to close, in one aggregation;
// incidents outside the window or of another community do not count.
func TestStatsInCountsTheWindowByType(t *testing.T) {
	var aggregates atomic.Int32
	db := mongo.NewTestDB(t, mongo.Options{Monitor: &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "aggregate" {
			aggregates.Add(1)
		}
	}}})
	ctx := context.Background()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clk := &testClock{t: from}
	s := NewService(Config{DB: db, Now: clk.now})
	n := 0
	report := func(community string, typ Type, at time.Time, closeAfter time.Duration) {
		t.Helper()
		n++
		clk.t = at.Add(time.Minute)
		x, err := s.Report(ctx, lead, ReportInput{CommunityID: community, Type: typ, OccurredAt: at, Location: "东门",
			Description: "记录", IdempotencyKey: string(rune('a' + n))})
		if err != nil {
			t.Fatal(err)
		}
		if closeAfter > 0 {
			clk.t = at.Add(closeAfter)
			if _, err := s.Close(ctx, lead, x.ID, x.Version, "已处理"); err != nil {
				t.Fatal(err)
			}
		}
	}
	report(estate, WaterLeak, from.Add(time.Hour), 2*time.Hour)
	report(estate, WaterLeak, from.Add(2*time.Hour), 30*time.Minute)
	report(estate, WaterLeak, from.Add(3*time.Hour), 0) // still open
	report(estate, Dispute, from.Add(4*time.Hour), 10*time.Minute)
	report(estate, Theft, from.Add(-time.Minute), time.Hour)              // before the window
	report(estate, Theft, from.Add(24*time.Hour), time.Hour)              // at its end: outside
	report(other, WaterLeak, from.Add(time.Hour), time.Hour)              // another community
	report(estate, FireAlarm, from.Add(24*time.Hour-time.Millisecond), 0) // last instant inside

	aggregates.Store(0)
	got, err := s.StatsIn(ctx, estate, from, from.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []TypeStats{
		{Type: "FIRE_ALARM", Reported: 1},
		{Type: "WATER_LEAK", Reported: 3, Closed: 2, CloseSeconds: int64((2*time.Hour + 30*time.Minute) / time.Second)},
		{Type: "DISPUTE", Reported: 1, Closed: 1, CloseSeconds: 600},
	}
	if len(got) != len(want) {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stats[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if a := aggregates.Load(); a != 1 {
		t.Errorf("%d aggregations, want 1", a)
	}
	empty, err := s.StatsIn(ctx, estate, from.Add(-48*time.Hour), from.Add(-24*time.Hour))
	if err != nil || len(empty) != 0 {
		t.Fatalf("an empty window: %+v %v", empty, err)
	}
}
