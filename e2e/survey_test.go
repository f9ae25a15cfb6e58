package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
)

const surveyFields = `id title status open anonymous responsePer audienceSize responseCount answered opensAt closesAt
	questions { id number type text options dimension dimensionLabel required }`

const resultFields = `responseCount audienceSize responseRate meanImportance meanSatisfaction csvUrl quadrantSvgUrl
	satisfactionRate { satisfied rated rate target met }
	questions { question { id type } responseCount options { index option count share } ratings { score count } meanRating
		textAnswers { text household { id label } } }
	dimensions { dimension label questionId responseCount meanImportance meanSatisfaction satisfiedCount quadrant quadrantLabel
		importance { score count } satisfaction { score count } }`

type surveyResultsView struct {
	ResponseCount, AudienceSize      int
	ResponseRate                     *float64
	MeanImportance, MeanSatisfaction *float64
	CsvURL, QuadrantSvgURL           string
	SatisfactionRate                 struct {
		Satisfied, Rated int
		Rate             *float64
		Target           float64
		Met              bool
	}
	Questions []struct {
		Question      struct{ ID, Type string }
		ResponseCount int
		Options       []struct{ Index, Count int }
		Ratings       []struct{ Score, Count int }
		MeanRating    *float64
		TextAnswers   []struct {
			Text      string
			Household *struct{ ID, Label string }
		}
	}
	Dimensions []struct {
		Dimension, Label, QuestionID, Quadrant, QuadrantLabel string
		ResponseCount, SatisfiedCount                         int
		MeanImportance, MeanSatisfaction                      *float64
	}
}

func (c *client) surveyResults(id string) surveyResultsView {
	var out struct{ SurveyResults surveyResultsView }
	c.ok(`query($id:ID!){ surveyResults(surveyId:$id){ `+resultFields+` } }`, map[string]any{"id": id}, &out)
	return out.SurveyResults
}

// populate adds n households with one owner each to building b, through
// the services; phones 1380000NNNN.
func (e *env) populate(w *world, b string, n int) (ids, phones []string) {
	e.t.Helper()
	ctx := context.Background()
	s := e.App.Services
	for i := 0; i < n; i++ {
		h, err := s.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: b, Unit: "1", Room: fmt.Sprintf("%d", 1001+i)})
		if err != nil {
			e.t.Fatal(err)
		}
		phone := fmt.Sprintf("1380000%04d", i)
		in := household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: fmt.Sprintf("业主%d", i), Phone: phone}, Role: access.Owner}
		_, err = s.Households.AddMember(ctx, w.admin, in)
		for j := 0; j < 20 && errors.Is(err, household.ErrNotFound); j++ {
			time.Sleep(50 * time.Millisecond) // see world(): FerretDB under load
			_, err = s.Households.AddMember(ctx, w.admin, in)
		}
		if err != nil {
			e.t.Fatal(err)
		}
		ids, phones = append(ids, h.ID), append(phones, phone)
	}
	return ids, phones
}

// dimensionBias is where each dimension's answers centre (importance,
// satisfaction), so the population lands in every quadrant.
var dimensionBias = []struct {
	dim      string
	imp, sat float64
}{
	{"CLEANING", 4.5, 4.4}, {"SECURITY", 4.7, 3.1}, {"GREENING", 3.1, 4.3}, {"REPAIRS", 4.4, 3.0},
	{"CUSTOMER_SERVICE", 4.1, 4.2}, {"FEE_TRANSPARENCY", 4.3, 2.8}, {"PARKING", 3.0, 2.9},
}

type generated struct {
	choice, rating int
	imp, sat       []int // per dimension
}

func generate(rng *rand.Rand) generated {
	score := func(base float64) int { return max(1, min(5, int(math.Round(base+rng.Float64()*2-1)))) }
	g := generated{choice: rng.IntN(3), rating: score(3.9)}
	for _, b := range dimensionBias {
		g.imp, g.sat = append(g.imp, score(b.imp)), append(g.sat, score(b.sat))
	}
	return g
}

// answers of a generated response: q1 choice, q2 rating, q3 text, then one
// dimension question each.
func (g generated) vars(surveyID, householdID string) map[string]any {
	as := []any{map[string]any{"questionId": "q1", "choices": []int{g.choice}}, map[string]any{"questionId": "q2", "rating": g.rating},
		map[string]any{"questionId": "q3", "text": fmt.Sprintf("建议%d", g.rating)}}
	for i := range dimensionBias {
		as = append(as, map[string]any{"questionId": fmt.Sprintf("q%d", 4+i), "importance": g.imp[i], "satisfaction": g.sat[i]})
	}
	return map[string]any{"s": surveyID, "h": householdID, "a": as}
}

const submitSurvey = `mutation($s:ID!,$h:ID!,$a:[SurveyAnswerInput!]!){ submitSurveyResponse(surveyId:$s, householdId:$h, answers:$a){
	household { id } answers { questionId choices rating text importance satisfaction } submittedAt updatedAt } }`

// A survey with dimension questions answered through the API by a seeded
// population (answers from a fixed seed, some changed while open); the
// expected means, quadrants, satisfaction rate and response rate are
// computed here from the generated answers, then compared with
// surveyResults, the CSV and the SVG.
func TestSurveyResultsOfASeededPopulation(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ids, phones := e.populate(w, w.XB2.ID, 36)
	sup := e.staff(w.supervisorX, w.Password)
	questions := []any{
		map[string]any{"type": "SINGLE_CHOICE", "text": "您的居住年限", "options": []string{"不到一年", "一到五年", "五年以上"}},
		map[string]any{"type": "RATING", "text": "总体满意度"},
		map[string]any{"type": "TEXT", "text": "意见建议"},
	}
	for _, b := range dimensionBias {
		questions = append(questions, map[string]any{"type": "DIMENSION", "dimension": b.dim})
	}
	now := e.Clock.Now()
	var created struct{ CreateSurvey struct{ ID string } }
	sup.ok(`mutation($in:CreateSurveyInput!){ createSurvey(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "2026年冬季满意度调查", "questions": questions, "responsePer": "HOUSEHOLD", "anonymous": true,
		"opensAt": now.Format(time.RFC3339), "closesAt": now.Add(14 * 24 * time.Hour).Format(time.RFC3339)}}, &created)
	id := created.CreateSurvey.ID
	sup.ok(`mutation($id:ID!){ publishSurvey(id:$id){ id } }`, map[string]any{"id": id}, nil)

	// 30 of the 36 answer; the first five change their answer later. The
	// login code limit is 20 an hour per address: a second round signs in
	// after the hour.
	rng := rand.New(rand.NewPCG(2026, 11))
	latest := map[string]generated{}
	respondents := 30
	var clients []*client
	for i := 0; i < respondents; i++ {
		if i == 20 {
			e.Clock.Advance(61 * time.Minute)
		}
		c := e.owner(phones[i])
		g := generate(rng)
		c.ok(submitSurvey, g.vars(id, ids[i]), nil)
		latest[ids[i]] = g
		clients = append(clients, c)
	}
	for i := 20; i < 25; i++ { // signed in within the last quarter hour
		g := generate(rng)
		clients[i].ok(submitSurvey, g.vars(id, ids[i]), nil)
		latest[ids[i]] = g
	}

	// Expected, from the generated answers.
	n := len(latest)
	var satisfiedAll, ratedAll, ratingSum int
	var choices [3]int
	sumImp, sumSat, dimSatisfied := make([]int, len(dimensionBias)), make([]int, len(dimensionBias)), make([]int, len(dimensionBias))
	expected := make([]struct{ imp, sat float64 }, len(dimensionBias))
	count := func(score int) {
		ratedAll++
		if score >= 4 {
			satisfiedAll++
		}
	}
	for _, g := range latest {
		choices[g.choice]++
		ratingSum += g.rating
		count(g.rating)
		for d := range dimensionBias {
			sumImp[d] += g.imp[d]
			sumSat[d] += g.sat[d]
			count(g.sat[d])
			if g.sat[d] >= 4 {
				dimSatisfied[d]++
			}
		}
	}
	var grandImp, grandSat float64
	for d := range dimensionBias {
		expected[d].imp, expected[d].sat = float64(sumImp[d])/float64(n), float64(sumSat[d])/float64(n)
		grandImp += expected[d].imp / float64(len(dimensionBias))
		grandSat += expected[d].sat / float64(len(dimensionBias))
	}
	quadrant := func(imp, sat float64) string {
		switch hi, hs := imp >= grandImp-1e-9, sat >= grandSat-1e-9; {
		case hi && hs:
			return "KEEP_UP"
		case hi:
			return "FIX_FIRST"
		case hs:
			return "POSSIBLE_OVERKILL"
		}
		return "LOW_PRIORITY"
	}
	near := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }

	sup = e.staff(w.supervisorX, w.Password) // the clock moved past the token's life
	r := sup.surveyResults(id)
	audience := 36 + 3 // with HA, HB and HC of the world
	if r.ResponseCount != respondents || r.AudienceSize != audience || !near(r.ResponseRate, float64(respondents)/float64(audience)) {
		t.Fatalf("responses %d of %d (%v)", r.ResponseCount, r.AudienceSize, r.ResponseRate)
	}
	wantRate := float64(satisfiedAll) / float64(ratedAll)
	if st := r.SatisfactionRate; st.Satisfied != satisfiedAll || st.Rated != ratedAll || !near(st.Rate, wantRate) || st.Met != (wantRate >= 0.9) || st.Target != 0.9 {
		t.Fatalf("satisfaction %+v, want %d/%d", st, satisfiedAll, ratedAll)
	}
	if !near(r.MeanImportance, grandImp) || !near(r.MeanSatisfaction, grandSat) {
		t.Fatalf("split %v %v, want %v %v", *r.MeanImportance, *r.MeanSatisfaction, grandImp, grandSat)
	}
	quadrants := map[string]bool{}
	for d, b := range dimensionBias {
		got := r.Dimensions[d]
		want := quadrant(expected[d].imp, expected[d].sat)
		quadrants[want] = true
		if got.Dimension != b.dim || got.ResponseCount != n || !near(got.MeanImportance, expected[d].imp) || !near(got.MeanSatisfaction, expected[d].sat) ||
			got.Quadrant != want || got.SatisfiedCount != dimSatisfied[d] || got.QuadrantLabel == "" {
			t.Errorf("%s: %+v, want %.4f/%.4f %s", b.dim, got, expected[d].imp, expected[d].sat, want)
		}
	}
	t.Logf("satisfaction %d/%d, split %.3f/%.3f, quadrants %v", satisfiedAll, ratedAll, grandImp, grandSat, quadrants)
	// The same scores are the survey half of the community's KPIs.
	var k struct {
		ServiceKpis struct {
			Satisfaction struct {
				Surveys struct {
					Numerator, Denominator int
					Available              bool
				}
			}
		}
	}
	sup.ok(`query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ satisfaction { surveys { numerator denominator available } } } }`,
		map[string]any{"c": w.X.ID, "f": now.Format(time.RFC3339), "t": now.Add(30 * 24 * time.Hour).Format(time.RFC3339)}, &k)
	if sv := k.ServiceKpis.Satisfaction.Surveys; !sv.Available || sv.Numerator != satisfiedAll || sv.Denominator != ratedAll {
		t.Fatalf("serviceKpis survey satisfaction %+v, want %d/%d", sv, satisfiedAll, ratedAll)
	}
	if len(quadrants) < 3 || !quadrants["FIX_FIRST"] {
		t.Fatalf("the seeded population should spread over the quadrants: %v", quadrants)
	}
	q1, q2 := r.Questions[0], r.Questions[1]
	for i, o := range q1.Options {
		if o.Count != choices[i] {
			t.Errorf("option %d: %d, want %d", i, o.Count, choices[i])
		}
	}
	if !near(q2.MeanRating, float64(ratingSum)/float64(n)) || len(r.Questions[2].TextAnswers) != n {
		t.Fatalf("rating mean %v, %d texts", q2.MeanRating, len(r.Questions[2].TextAnswers))
	}

	// The CSV says the same: one row per dimension with its means and quadrant.
	status, ctype, body := sup.get(r.CsvURL)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("CSV: %d %s", status, ctype)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"CLEANING": "环境卫生", "SECURITY": "安全秩序", "GREENING": "绿化养护", "REPAIRS": "维修服务",
		"CUSTOMER_SERVICE": "客服管家", "FEE_TRANSPARENCY": "收费透明", "PARKING": "停车管理"}
	quadrantNames := map[string]string{"KEEP_UP": "继续保持区", "FIX_FIRST": "优先改进区", "LOW_PRIORITY": "次要改进区", "POSSIBLE_OVERKILL": "过度投入区"}
	found := 0
	for _, row := range rows {
		for d, b := range dimensionBias {
			if row[3] == "维度题" && row[4] == labels[b.dim] {
				found++
				if row[9] != fmt.Sprintf("%.2f", expected[d].imp) || row[10] != fmt.Sprintf("%.2f", expected[d].sat) ||
					row[11] != quadrantNames[quadrant(expected[d].imp, expected[d].sat)] {
					t.Errorf("CSV row %v", row)
				}
			}
		}
	}
	if found != len(dimensionBias) || rows[2][4] != "满意率（4–5 分占比）" || rows[2][5] != fmt.Sprint(satisfiedAll) {
		t.Fatalf("CSV rows:\n%v", rows)
	}

	// The SVG: well-formed, one dot per dimension in its quadrant, both
	// axes labelled, the two quadrant lines at the means.
	status, ctype, body = sup.get(r.QuadrantSvgURL)
	if status != 200 || !strings.HasPrefix(ctype, "image/svg+xml") {
		t.Fatalf("SVG: %d %s", status, ctype)
	}
	chart := parseSVG(t, body)
	if chart.root != "svg" || len(chart.dots) != len(dimensionBias) || len(chart.lines) != 2 || len(chart.quadrantNames) != 4 {
		t.Fatalf("SVG structure: %+v", chart)
	}
	if !chart.axisLabels["重要性"] || !chart.axisLabels["满意度"] {
		t.Fatalf("axis labels %v", chart.axisLabels)
	}
	for d, b := range dimensionBias {
		if got := chart.dots[b.dim]; got.label != labels[b.dim] || got.quadrant != quadrant(expected[d].imp, expected[d].sat) {
			t.Errorf("dot %s: %+v", b.dim, got)
		}
	}
	if chart.lines["importance"] != fmt.Sprintf("%.4f", grandImp) || chart.lines["satisfaction"] != fmt.Sprintf("%.4f", grandSat) {
		t.Fatalf("quadrant lines %v", chart.lines)
	}
}
