package e2e

import (
	"testing"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// What the outcomes list costs in database round trips does not grow with
// the periods on the page, their versions or their actions: one page of
// periods, one query for every version of them, one count, one community
// batch (plus the caller's own load), whatever is listed.
func TestOutcomesListRoundTrips(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db, func(c *config.Config) { c.OutboxInterval = time.Hour })
	w := e.world()
	e.Clock.Set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	sup, owner := e.staff(w.supervisorX, w.Password), e.owner(w.OwnerA.Phone)
	publish := func(period, note string) {
		in := map[string]any{"improvements": []any{map[string]any{"text": "楼道照明改为声控灯", "due": "2027-01-31"},
			map[string]any{"text": "增设分类垃圾桶", "due": "2027-02-28"}}}
		if note != "" {
			in["changeNote"] = note
		}
		sup.ok(publishOutcomesQ, map[string]any{"c": w.X.ID, "p": period, "in": in}, nil)
	}
	q := `query($c:ID!){ publishedOutcomes(communityId:$c, first:5){ totalCount edges { node { id community { name } complaints { count }
		improvements { id status overdue history { status } } versions { id community { name } } } } } }`
	cost := func(periods int) int64 {
		t.Helper()
		best := int64(-1)
		for range 3 { // fewest of three: a background job may add one, never take one away
			var out struct {
				PublishedOutcomes struct{ TotalCount int }
			}
			rt.n.Store(0)
			owner.ok(q, map[string]any{"c": w.X.ID}, &out)
			if n := rt.n.Load(); best < 0 || n < best {
				best = n
			}
			if out.PublishedOutcomes.TotalCount != periods {
				t.Fatalf("listed %d periods, want %d", out.PublishedOutcomes.TotalCount, periods)
			}
		}
		return best
	}
	publish("2026-10", "")
	one := cost(1)
	publish("2026-11", "")
	publish("2026-11", "更正一")
	publish("2026-11", "更正二")
	publish("2026-Q3", "")
	four := cost(3)
	t.Logf("round trips of publishedOutcomes: 1 period %d, 3 periods with 5 versions %d", one, four)
	if four != one {
		t.Fatalf("round trips grow with the periods listed: %d for 1, %d for 3", one, four)
	}
}
