package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// dimensionAnswers answers a survey of one RATING (q1), one TEXT (q2) and
// two DIMENSION questions (q3, q4).
func dimensionAnswers(rating int, text string, imp, sat int) []any {
	return []any{
		map[string]any{"questionId": "q1", "rating": rating}, map[string]any{"questionId": "q2", "text": text},
		map[string]any{"questionId": "q3", "importance": imp, "satisfaction": sat}, map[string]any{"questionId": "q4", "importance": imp, "satisfaction": sat},
	}
}

// createSmallSurvey creates and publishes, as sup, a survey of X for
// buildings (none: the whole community), open now for a week.
func createSmallSurvey(t *testing.T, e *env, sup *client, communityID string, buildings []string, anonymous bool) string {
	t.Helper()
	now := e.Clock.Now()
	var created struct{ CreateSurvey struct{ ID string } }
	sup.ok(`mutation($in:CreateSurveyInput!){ createSurvey(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": communityID, "title": "秋季服务回访", "buildingIds": buildings, "responsePer": "HOUSEHOLD", "anonymous": anonymous,
		"opensAt": now.Format(time.RFC3339), "closesAt": now.Add(7 * 24 * time.Hour).Format(time.RFC3339),
		"questions": []any{map[string]any{"type": "RATING", "text": "总体满意度"}, map[string]any{"type": "TEXT", "text": "建议"},
			map[string]any{"type": "DIMENSION", "dimension": "CLEANING"}, map[string]any{"type": "DIMENSION", "dimension": "SECURITY"}},
	}}, &created)
	id := created.CreateSurvey.ID
	sup.ok(`mutation($id:ID!){ publishSurvey(id:$id){ id } }`, map[string]any{"id": id}, nil)
	return id
}

// Who may do what through the API: owners neither create nor read results
// (FORBIDDEN); staff of Y see nothing of X (NOT_FOUND); a resident outside
// the audience can neither see nor answer (NOT_FOUND); the CSV and SVG are
// authorised exactly as surveyResults (404 for everyone else). Owners in
// the audience are invited, answer, are told what is wrong by field, are
// reminded only while they have not answered, and cannot answer once it
// has closed.
func TestSurveyAccessThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup, butler, supY := e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.staff(w.supervisorY, w.Password)
	ownerA, ownerB, ownerC, ownerY := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner("13900000003"), e.owner(w.OwnerY.Phone)
	now := e.Clock.Now()
	create := `mutation($in:CreateSurveyInput!){ createSurvey(input:$in){ id } }`
	in := map[string]any{"communityId": w.X.ID, "title": "试", "responsePer": "HOUSEHOLD", "anonymous": false,
		"opensAt": now.Format(time.RFC3339), "closesAt": now.Add(time.Hour).Format(time.RFC3339),
		"questions": []any{map[string]any{"type": "RATING", "text": "总体"}}}
	ownerA.fails("FORBIDDEN", create, map[string]any{"in": in})
	butler.fails("FORBIDDEN", create, map[string]any{"in": in})
	supY.fails("NOT_FOUND", create, map[string]any{"in": in})
	template := `mutation($c:ID!,$o:Time!,$z:Time!){ createSurveyFromTemplate(communityId:$c, template:SEMI_ANNUAL_SATISFACTION, opensAt:$o, closesAt:$z){ id title questions { type } } }`
	ownerA.fails("FORBIDDEN", template, map[string]any{"c": w.X.ID, "o": now.Format(time.RFC3339), "z": now.Add(time.Hour).Format(time.RFC3339)})

	// Building 1 only: HA and HB; HC (building 2) is outside.
	id := createSmallSurvey(t, e, sup, w.X.ID, []string{w.XB1.ID}, false)
	get := `query($id:ID!){ survey(id:$id){ id open answered responseCount myResponse { answers { questionId } } } }`
	for name, c := range map[string]*client{"owner outside the audience": ownerC, "owner of Y": ownerY, "supervisor of Y": supY} {
		if r := c.fails("NOT_FOUND", get, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
			t.Fatalf("%s: %v", name, r.Errors)
		}
	}
	submit := `mutation($s:ID!,$h:ID!,$a:[SurveyAnswerInput!]!){ submitSurveyResponse(surveyId:$s, householdId:$h, answers:$a){ household { id } updatedAt } }`
	ownerC.fails("NOT_FOUND", submit, map[string]any{"s": id, "h": w.HC.ID, "a": dimensionAnswers(4, "", 4, 4)})
	ownerB.fails("NOT_FOUND", submit, map[string]any{"s": id, "h": w.HA.ID, "a": dimensionAnswers(4, "", 4, 4)})
	results := `query($id:ID!){ surveyResults(surveyId:$id){ responseCount } }`
	ownerA.fails("FORBIDDEN", results, map[string]any{"id": id})
	supY.fails("NOT_FOUND", results, map[string]any{"id": id})
	butler.ok(results, map[string]any{"id": id}, nil)

	// A is invited, answers (a bad score is named), and sees the answer.
	if in := ownerA.inbox(); len(in.Notifications.Edges) != 1 || in.Notifications.Edges[0].Node.Kind != "SURVEY_INVITATION" ||
		!strings.Contains(in.Notifications.Edges[0].Node.Title, "秋季服务回访") {
		t.Fatalf("A's inbox %+v", in)
	}
	bad := dimensionAnswers(4, "", 4, 4)
	bad[3] = map[string]any{"questionId": "q4", "importance": 4, "satisfaction": 7}
	if r := ownerA.fails("BAD_USER_INPUT", submit, map[string]any{"s": id, "h": w.HA.ID, "a": bad}); r.field() != "answers.3.satisfaction" {
		t.Fatalf("bad score field %q", r.field())
	}
	ownerA.ok(submit, map[string]any{"s": id, "h": w.HA.ID, "a": dimensionAnswers(5, "保洁很用心", 5, 4)}, nil)
	var mine struct {
		Survey struct {
			Open, Answered bool
			MyResponse     *struct{ Answers []struct{ QuestionID string } }
		}
	}
	ownerA.ok(get, map[string]any{"id": id}, &mine)
	if !mine.Survey.Open || !mine.Survey.Answered || mine.Survey.MyResponse == nil || len(mine.Survey.MyResponse.Answers) != 4 {
		t.Fatalf("A's view %+v", mine)
	}

	// The resident's list carries the same, for every survey at once.
	var listed struct {
		Surveys struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Answered   bool
					MyResponse *struct{ Household struct{ ID string } }
				}
			}
		}
	}
	ownerA.ok(`query($c:ID!){ surveys(communityId:$c){ totalCount edges { node { answered myResponse { household { id } } } } } }`,
		map[string]any{"c": w.X.ID}, &listed)
	if n := listed.Surveys; n.TotalCount != 1 || !n.Edges[0].Node.Answered || n.Edges[0].Node.MyResponse == nil || n.Edges[0].Node.MyResponse.Household.ID != w.HA.ID {
		t.Fatalf("A's list %+v", listed)
	}
	var cList struct{ Surveys struct{ TotalCount int } }
	ownerC.ok(`query($c:ID!){ surveys(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID}, &cList)
	if cList.Surveys.TotalCount != 0 {
		t.Fatalf("a resident outside the audience lists %d surveys", cList.Surveys.TotalCount)
	}
	ownerC.fails("NOT_FOUND", `query($c:ID!){ surveys(communityId:$c){ totalCount } }`, map[string]any{"c": w.Y.ID})

	// Reports: authorised as the query is.
	csvPath, svgPath := "/reports/surveys/"+id+"/results.csv", "/reports/surveys/"+id+"/quadrant.svg"
	for _, path := range []string{csvPath, svgPath} {
		if status, _, _ := e.anon().get(path); status != 401 {
			t.Fatalf("%s without a token: %d", path, status)
		}
		for name, c := range map[string]*client{"owner": ownerA, "supervisor of Y": supY} {
			if status, _, _ := c.get(path); status != 404 {
				t.Fatalf("%s for %s: %d", path, name, status)
			}
		}
		if status, _, body := butler.get(path); status != 200 || len(body) == 0 {
			t.Fatalf("%s for the butler of X: %d", path, status)
		}
	}
	if status, _, _ := sup.get("/reports/surveys/000000000000000000000000/results.csv"); status != 404 {
		t.Fatalf("unknown survey: %d", status)
	}

	// The reminder, a day before closing, reaches B (no answer) only.
	var sv struct{ Survey struct{ ClosesAt time.Time } }
	sup.ok(`query($id:ID!){ survey(id:$id){ closesAt } }`, map[string]any{"id": id}, &sv)
	e.Clock.Set(sv.Survey.ClosesAt.Add(-23 * time.Hour))
	if err := e.App.Services.Surveys.Tick(context.Background(), e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	ownerA, ownerB = e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	reminders := func(c *client) int {
		n := 0
		for _, x := range c.inbox().Notifications.Edges {
			if strings.Contains(x.Node.Body, "还没有作答") {
				n++
			}
		}
		return n
	}
	if reminders(ownerA) != 0 || reminders(ownerB) != 1 {
		t.Fatalf("reminders: A %d, B %d", reminders(ownerA), reminders(ownerB))
	}

	// After closing: refused, and the scheduler marks it closed.
	e.Clock.Set(sv.Survey.ClosesAt.Add(time.Minute))
	if err := e.App.Services.Surveys.Tick(context.Background(), e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	ownerB = e.owner(w.OwnerB.Phone)
	ownerB.fails("CONFLICT", submit, map[string]any{"s": id, "h": w.HB.ID, "a": dimensionAnswers(4, "", 4, 4)})
	var closed struct {
		Surveys struct {
			Edges []struct{ Node struct{ Status string } }
		}
	}
	ownerB.ok(`query($c:ID!){ surveys(communityId:$c){ edges { node { status } } } }`, map[string]any{"c": w.X.ID}, &closed)
	if len(closed.Surveys.Edges) != 1 || closed.Surveys.Edges[0].Node.Status != "CLOSED" {
		t.Fatalf("B's list %+v", closed)
	}
}

// Anonymity: after A and B answer an anonymous survey, nothing staff can
// fetch about it — the list, the survey, its results, the CSV, the SVG, the
// delivery reports of its invitation — names who answered or what they
// said. The same probe on a named survey finds them, so it is looking at
// the right things.
func TestAnonymousSurveyRevealsNoRespondent(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup := e.staff(w.supervisorX, w.Password)
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	submit := `mutation($s:ID!,$h:ID!,$a:[SurveyAnswerInput!]!){ submitSurveyResponse(surveyId:$s, householdId:$h, answers:$a){ updatedAt } }`
	identities := []string{w.HA.ID, w.HB.ID, w.OwnerA.ID, w.OwnerB.ID, w.OwnerA.Name, w.OwnerB.Name, w.OwnerA.Phone, w.OwnerB.Phone, w.HA.Label, w.HB.Label}

	staffSees := func(id string) string {
		var all strings.Builder
		for _, q := range []struct {
			query string
			vars  map[string]any
		}{
			{`query($c:ID!){ surveys(communityId:$c){ totalCount edges { cursor node { ` + surveyFields + ` myResponse { household { id } }
				timeline { action actor actorKind } createdBy { id } } } } }`, map[string]any{"c": w.X.ID}},
			{`query($id:ID!){ survey(id:$id){ ` + surveyFields + ` myResponse { household { id } answers { questionId } } } }`, map[string]any{"id": id}},
			{`query($id:ID!){ surveyResults(surveyId:$id){ ` + resultFields + ` } }`, map[string]any{"id": id}},
			{`query($c:ID!,$k:String!){ deliveryReport(communityId:$c, key:$k){ key recipients byChannel { channel status count } } }`,
				map[string]any{"c": w.X.ID, "k": "survey:" + id + ":invitation"}},
		} {
			r := sup.do(q.query, q.vars)
			if len(r.Errors) > 0 {
				t.Fatalf("staff query: %+v", r.Errors)
			}
			all.Write(r.Data)
		}
		for _, path := range []string{"/results.csv", "/quadrant.svg"} {
			status, _, body := sup.get("/reports/surveys/" + id + path)
			if status != 200 {
				t.Fatalf("%s: %d", path, status)
			}
			all.Write(body)
		}
		return all.String()
	}

	for _, anonymous := range []bool{true, false} {
		id := createSmallSurvey(t, e, sup, w.X.ID, nil, anonymous)
		ownerB.ok(submit, map[string]any{"s": id, "h": w.HB.ID, "a": dimensionAnswers(2, "B 觉得停车太乱", 5, 2)}, nil)
		ownerA.ok(submit, map[string]any{"s": id, "h": w.HA.ID, "a": dimensionAnswers(5, "A 觉得保洁很好", 4, 5)}, nil)
		seen := staffSees(id)
		var leaked []string
		for _, s := range identities {
			if strings.Contains(seen, s) {
				leaked = append(leaked, s)
			}
		}
		if anonymous && len(leaked) > 0 {
			t.Fatalf("an anonymous survey shows staff %v", leaked)
		}
		if !anonymous && (!strings.Contains(seen, w.HA.ID) || !strings.Contains(seen, w.HB.Label)) {
			t.Fatalf("the named survey's text answers should name the households; the probe is blind")
		}
		// What was said is there, without who said it, in text order (not
		// the order it was said in).
		var r struct {
			SurveyResults surveyResultsView
		}
		if err := json.Unmarshal(sup.do(`query($id:ID!){ surveyResults(surveyId:$id){ `+resultFields+` } }`, map[string]any{"id": id}).Data, &r); err != nil {
			t.Fatal(err)
		}
		texts := r.SurveyResults.Questions[1].TextAnswers
		if anonymous && (len(texts) != 2 || texts[0].Text != "A 觉得保洁很好" || texts[0].Household != nil || texts[1].Household != nil) {
			t.Fatalf("anonymous text answers %+v", texts)
		}
	}
}
