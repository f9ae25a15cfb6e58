package hotline

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// MaxWindow bounds a summary window, as the KPIs' is bounded.
const MaxWindow = 366 * 24 * time.Hour

// Summary is how a community's calls in [From, To) were answered and what
// they became.
type Summary struct {
	CommunityID    string
	From, To       time.Time
	Calls          int // every call logged, both directions
	Inbound        int
	Outbound       int
	WithinStandard int // inbound, answered within the standard
	// Measured is the inbound calls with rings or seconds noted (all of
	// them, as logCall requires one): the denominator of the standard.
	Measured int
	Rings    Spread // inbound calls with rings noted
	Seconds  Spread // inbound calls with seconds noted
	// RingCounts is how many inbound calls were answered after each number
	// of rings, fewest rings first.
	RingCounts []ValueCount
	ByOutcome  []OutcomeCount // every outcome, in Outcomes order
}

// Rate is WithinStandard/Measured; nil when nothing was measured.
func (s *Summary) Rate() *float64 {
	if s.Measured == 0 {
		return nil
	}
	v := float64(s.WithinStandard) / float64(s.Measured)
	return &v
}

// Spread describes counted values: how many, their average, median and
// 90th percentile (nearest rank); nil figures when Count is 0.
type Spread struct {
	Count            int
	Average          *float64
	Median, P90, Max *int
}

// ValueCount is how many calls had one value.
type ValueCount struct{ Value, Count int }

// OutcomeCount is how many calls became one outcome.
type OutcomeCount struct {
	Outcome Outcome
	Count   int
}

// mayReadSummary: the community's supervisors and admins, as for the KPIs.
func mayReadSummary(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || c.IsAdmin()
}

// Summarize is the summary of the community's calls received in
// [from, to): for its supervisors (and admins).
func (s *Service) Summarize(ctx context.Context, c *access.Caller, communityID string, from, to time.Time) (*Summary, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !mayReadSummary(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	if !to.After(from) || to.Sub(from) > MaxWindow {
		return nil, apperr.Invalid("to", "hotline.bad_window")
	}
	return s.summarize(ctx, communityID, from, to)
}

// AnsweredWithinStandardIn is the KPI: inbound calls of the community
// received in [from, to) answered within the standard, of those measured.
func (s *Service) AnsweredWithinStandardIn(ctx context.Context, communityID string, from, to time.Time) (within, measured int, err error) {
	sum, err := s.summarize(ctx, communityID, from, to)
	if err != nil {
		return 0, 0, err
	}
	return sum.WithinStandard, sum.Measured, nil
}

// group is one row of the summary's aggregation: a combination of
// direction, outcome, rings and seconds, and how many calls had it.
type group struct {
	ID struct {
		D Direction `bson:"d"`
		O Outcome   `bson:"o"`
		R *int      `bson:"r"`
		S *int      `bson:"s"`
	} `bson:"_id"`
	N int `bson:"n"`
}

// summarize counts in one aggregation with one $sum (what FerretDB
// offers); averages and percentiles are worked out here from the counts.
// Rows are few: rings and seconds take a small range of values each.
func (s *Service) summarize(ctx context.Context, communityID string, from, to time.Time) (*Summary, error) {
	from, to = from.UTC(), to.UTC()
	cur, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID},
			{Key: "receivedAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}}}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "d", Value: "$direction"}, {Key: "o", Value: "$outcome"}, {Key: "r", Value: "$rings"}, {Key: "s", Value: "$answerSeconds"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("summarize calls: %w", err)
	}
	var rows []group
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("summarize calls: %w", err)
	}
	sum := &Summary{CommunityID: communityID, From: from, To: to}
	outcomes := map[Outcome]int{}
	rings, secs := map[int]int{}, map[int]int{}
	for _, g := range rows {
		sum.Calls += g.N
		outcomes[g.ID.O] += g.N
		if g.ID.D != Inbound {
			sum.Outbound += g.N
			continue
		}
		sum.Inbound += g.N
		if ok := withinStandard(g.ID.D, g.ID.R, g.ID.S); ok != nil {
			sum.Measured += g.N
			if *ok {
				sum.WithinStandard += g.N
			}
		}
		if g.ID.R != nil {
			rings[*g.ID.R] += g.N
		}
		if g.ID.S != nil {
			secs[*g.ID.S] += g.N
		}
	}
	sum.Rings, sum.RingCounts = spread(rings)
	sum.Seconds, _ = spread(secs)
	for _, o := range Outcomes {
		sum.ByOutcome = append(sum.ByOutcome, OutcomeCount{Outcome: o, Count: outcomes[o]})
	}
	return sum, nil
}

// spread works out a Spread from value counts, and the counts in order.
func spread(counts map[int]int) (Spread, []ValueCount) {
	vs := make([]ValueCount, 0, len(counts))
	var sp Spread
	total := 0
	for v, n := range counts {
		vs = append(vs, ValueCount{Value: v, Count: n})
		sp.Count += n
		total += v * n
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Value < vs[j].Value })
	if sp.Count == 0 {
		return sp, vs
	}
	avg := float64(total) / float64(sp.Count)
	sp.Average = &avg
	sp.Median, sp.P90 = rank(vs, sp.Count, 50), rank(vs, sp.Count, 90)
	sp.Max = &vs[len(vs)-1].Value
	return sp, vs
}

// rank is the pct-th percentile by nearest rank: the smallest value with
// at least pct% of the counts at or below it.
func rank(vs []ValueCount, total, pct int) *int {
	need := (total*pct + 99) / 100
	seen := 0
	for i := range vs {
		seen += vs[i].Count
		if seen >= need {
			return &vs[i].Value
		}
	}
	return &vs[len(vs)-1].Value
}
