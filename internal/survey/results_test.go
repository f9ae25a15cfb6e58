package survey

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

func TestClassify(t *testing.T) {
	const mi, ms = 4.0, 3.5
	cases := []struct {
		name     string
		imp, sat float64
		want     Quadrant
	}{
		{"important and well rated", 4.6, 4.2, KeepUp},
		{"important and poorly rated", 4.6, 2.9, FixFirst},
		{"less important and poorly rated", 3.1, 2.9, LowPriority},
		{"less important and well rated", 3.1, 4.2, PossibleOverkill},
		{"at both means counts as high", 4.0, 3.5, KeepUp},
		{"at the importance mean, below satisfaction", 4.0, 3.49, FixFirst},
		{"below importance, at the satisfaction mean", 3.99, 3.5, PossibleOverkill},
		{"floating-point noise at the mean", 4.0 - 1e-12, 3.5 - 1e-12, KeepUp},
	}
	for _, tc := range cases {
		if got := Classify(tc.imp, tc.sat, mi, ms); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// classify splits at the mean of the dimension means; an unrated dimension
// has no quadrant and does not move the split.
func TestClassifySplitsAtTheMeans(t *testing.T) {
	dim := func(d Dimension, imp, sat float64, n int) *DimensionResult {
		if n == 0 {
			return &DimensionResult{Dimension: d}
		}
		return &DimensionResult{Dimension: d, Responses: n, MeanImportance: &imp, MeanSatisfaction: &sat}
	}
	dims := []*DimensionResult{
		dim(Cleaning, 4.5, 4.5, 10), dim(Security, 4.5, 3.0, 10), dim(Greening, 3.0, 3.0, 10), dim(Parking, 3.0, 4.5, 10), dim(Facilities, 0, 0, 0),
	}
	mi, ms := classify(dims)
	if *mi != 3.75 || *ms != 3.75 {
		t.Fatalf("split at %v, %v", *mi, *ms)
	}
	want := []Quadrant{KeepUp, FixFirst, LowPriority, PossibleOverkill}
	for i, q := range want {
		if *dims[i].Quadrant != q {
			t.Errorf("%s: %s, want %s", dims[i].Dimension, *dims[i].Quadrant, q)
		}
	}
	if dims[4].Quadrant != nil {
		t.Fatal("an unrated dimension has a quadrant")
	}
	if a, b := classify(nil); a != nil || b != nil {
		t.Fatal("a split without dimensions")
	}
}

// Results over the database: distributions, means, quadrants, the
// satisfaction rate and the response rate, against hand-computed values;
// SatisfactionIn sums the same counts over a time range; the CSV and SVG
// render them.
func TestResultsAndSatisfactionIn(t *testing.T) {
	f := newFixture(t)
	sv := f.published(f.input(PerHousehold, true))
	// HA: rating 5, cleaning 5/5, security 5/2; HB: rating 3, cleaning 4/4,
	// security 5/1; HC: rating 4, cleaning 2/5, security 3/3.
	_, err := f.svc.Submit(ctx, f.ownerA, sv.ID, f.ha.ID, answers(0, 5, "=HYPERLINK(\"x\")", 5, 5, 5, 2))
	f.must(err)
	_, err = f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(1, 3, "电梯太慢", 4, 4, 5, 1))
	f.must(err)
	_, err = f.svc.Submit(ctx, f.ownerA, sv.ID, f.hc.ID, answers(1, 4, "", 2, 5, 3, 3))
	f.must(err)
	r, err := f.svc.Results(ctx, f.supervisor, sv.ID)
	f.must(err)
	near := func(a *float64, b float64) bool { return a != nil && math.Abs(*a-b) < 1e-9 }
	choice, rating, text := r.Questions[0], r.Questions[1], r.Questions[2]
	if r.Responses != 3 || r.Audience != 3 || !near(r.ResponseRate, 1) || choice.Options[0].Count != 1 || choice.Options[1].Count != 2 ||
		!near(choice.Options[1].Share, 2.0/3) || !near(rating.MeanRating, 4) || rating.Ratings[4].Count != 1 || len(text.Texts) != 2 || text.Responses != 2 {
		t.Fatalf("results %+v", r)
	}
	cleaning, security := r.Dimensions[0], r.Dimensions[1]
	// Means: cleaning 11/3, 14/3; security 13/3, 6/3. Split: 4, 10/3.
	if !near(cleaning.MeanImportance, 11.0/3) || !near(cleaning.MeanSatisfaction, 14.0/3) || !near(security.MeanSatisfaction, 2) ||
		!near(r.MeanImportance, 4) || !near(r.MeanSatisfaction, 10.0/3) {
		t.Fatalf("dimension means %+v %+v", cleaning, security)
	}
	if *cleaning.Quadrant != PossibleOverkill || *security.Quadrant != FixFirst || cleaning.Satisfied != 3 || security.Satisfied != 0 {
		t.Fatalf("quadrants %s %s", *cleaning.Quadrant, *security.Quadrant)
	}
	// Satisfaction scores: ratings 5,3,4 and dimension satisfaction
	// 5,2,4,1,5,3: 4 or 5 in 5 of 9.
	st := r.Satisfaction
	if st.Satisfied != 5 || st.Rated != 9 || !near(st.Rate, 5.0/9) || st.Met || st.Target != 0.9 {
		t.Fatalf("satisfaction %+v", st)
	}
	day := 24 * time.Hour
	for _, tc := range []struct {
		name                 string
		from, to             time.Time
		satisfied, ratedWant int
	}{
		{"window inside the range", sv.OpensAt.Add(-day), sv.ClosesAt.Add(day), 5, 9},
		{"range overlapping the window's end", sv.ClosesAt.Add(-time.Hour), sv.ClosesAt.Add(30 * day), 5, 9},
		{"range after the window", sv.ClosesAt, sv.ClosesAt.Add(day), 0, 0},
		{"range before the window", sv.OpensAt.Add(-day), sv.OpensAt, 0, 0},
	} {
		sat, rated, err := f.svc.SatisfactionIn(ctx, f.x.ID, tc.from, tc.to)
		f.must(err)
		if sat != tc.satisfied || rated != tc.ratedWant {
			t.Errorf("%s: %d/%d, want %d/%d", tc.name, sat, rated, tc.satisfied, tc.ratedWant)
		}
	}
	// Closed early: the window ends then.
	f.clock.Advance(day)
	_, err = f.svc.Close(ctx, f.supervisor, sv.ID)
	f.must(err)
	if _, rated, _ := f.svc.SatisfactionIn(ctx, f.x.ID, f.clock.Now().Add(time.Hour), sv.ClosesAt); rated != 0 {
		t.Fatalf("a survey closed early still counts after it closed: %d", rated)
	}

	var csvOut bytes.Buffer
	f.must(WriteCSV(&csvOut, r, apperr.ZH, nil))
	if !strings.HasPrefix(csvOut.String(), "\ufeff部分,题号") {
		t.Fatalf("CSV starts %q", csvOut.String()[:20])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvOut.String(), "\ufeff"))).ReadAll()
	f.must(err)
	// Header, 4 summary rows, 3 options, 5 scores + mean, 2 texts, 2 dimensions.
	if len(rows) != 1+4+3+6+2+2 {
		t.Fatalf("%d CSV rows", len(rows))
	}
	defused := false
	for _, row := range rows {
		for _, c := range row {
			if strings.HasPrefix(c, "=") {
				t.Fatalf("a formula in the CSV: %q", c)
			}
			defused = defused || c == `'=HYPERLINK("x")`
		}
	}
	if !defused || !strings.Contains(csvOut.String(), "优先改进区") || !strings.Contains(csvOut.String(), "55.6%") {
		t.Fatalf("CSV:\n%s", csvOut.String())
	}
}
