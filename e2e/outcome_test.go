package e2e

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const outcomeFields = `id communityId period periodKind periodLabel version previousId changeNote remarks latest publishedAt
	complaintsTotal complaints { category label count } enquiriesTotal enquiries { category label count }
	examples { kind category categoryLabel summary resolution }
	improvements { ` + outcomeActionFields + ` }
	surveys { surveyId title endedAt responses items { dimension label rated meanImportance meanSatisfaction satisfied action { ` + outcomeActionFields + ` } } }
	versions { id version latest }`

const outcomeActionFields = `id text due status statusChangedAt overdue surveyId dimension history { status note at }`

const publishOutcomesQ = `mutation($c:ID!,$p:String!,$in:PublishOutcomesInput!){ publishOutcomes(communityId:$c, period:$p, input:$in){ ` + outcomeFields + ` } }`

const updateActionQ = `mutation($id:ID!,$s:OutcomeActionStatus!,$n:String){ updateOutcomeAction(id:$id, status:$s, note:$n){ ` + outcomeActionFields + ` } }`

type outcomeAction struct {
	ID, Text, Due, Status, StatusChangedAt string
	Overdue                                bool
	SurveyID, Dimension                    *string
	History                                []struct {
		Status string
		Note   *string
		At     string
	}
}

type categoryCount struct {
	Category, Label string
	Count           int
}

type outcomes struct {
	ID, CommunityID, Period, PeriodKind, PeriodLabel string
	Version                                          int
	PreviousID, ChangeNote, Remarks                  *string
	Latest                                           bool
	ComplaintsTotal, EnquiriesTotal                  int
	Complaints, Enquiries                            []categoryCount
	Examples                                         []struct{ Kind, Category, CategoryLabel, Summary, Resolution string }
	Improvements                                     []outcomeAction
	Surveys                                          []struct {
		SurveyID, Title string
		Responses       int
		Items           []struct {
			Dimension, Label                 string
			Rated, Satisfied                 int
			MeanImportance, MeanSatisfaction *float64
			Action                           outcomeAction
		}
	}
	Versions []struct {
		ID      string
		Version int
		Latest  bool
	}
}

// outcomeSurvey is a survey of X with four dimensions answered by the
// three households of X and closed: CLEANING and PARKING land in the
// improve-first quadrant, SECURITY and GREENING do not.
func outcomeSurvey(t *testing.T, e *env, w *world, sup *client, owners map[string]*client) string {
	t.Helper()
	dims := []string{"CLEANING", "SECURITY", "GREENING", "PARKING"}
	var qs []any
	for _, d := range dims {
		qs = append(qs, map[string]any{"type": "DIMENSION", "dimension": d})
	}
	now := e.Clock.Now()
	var created struct{ CreateSurvey struct{ ID string } }
	sup.ok(`mutation($in:CreateSurveyInput!){ createSurvey(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "11月服务满意度调查", "questions": qs, "responsePer": "HOUSEHOLD", "anonymous": false,
		"opensAt": now.Format(time.RFC3339), "closesAt": now.Add(3 * 24 * time.Hour).Format(time.RFC3339)}}, &created)
	id := created.CreateSurvey.ID
	sup.ok(`mutation($id:ID!){ publishSurvey(id:$id){ id } }`, map[string]any{"id": id}, nil)
	scores := map[string][4][2]int{ // household -> per dimension (importance, satisfaction)
		w.HA.ID: {{5, 2}, {5, 5}, {2, 4}, {4, 1}},
		w.HB.ID: {{5, 2}, {5, 5}, {2, 5}, {5, 2}},
		w.HC.ID: {{5, 3}, {4, 4}, {3, 5}, {5, 2}},
	}
	for h, owner := range owners {
		var as []any
		for i, s := range scores[h] {
			as = append(as, map[string]any{"questionId": "q" + string(rune('1'+i)), "importance": s[0], "satisfaction": s[1]})
		}
		owner.ok(submitSurvey, map[string]any{"s": id, "h": h, "a": as}, nil)
	}
	sup.ok(`mutation($id:ID!){ closeSurvey(id:$id){ id } }`, map[string]any{"id": id}, nil)
	return id
}

// countIn counts a community's documents of col by category in [from,
// to) of field, read from the database independently of the services.
func countIn(t *testing.T, e *env, col, field, communityID string, from, to time.Time) map[string]int {
	t.Helper()
	cur, err := e.DB.Collection(col).Find(context.Background(), bson.D{{Key: "communityId", Value: communityID}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range docs {
		at := d[field].(bson.DateTime).Time()
		if !at.Before(from) && at.Before(to) {
			out[d["category"].(string)]++
		}
	}
	return out
}

// Published outcomes through the API: counts that match the record of the
// period (and only of it, and only of the community), anonymised text,
// every improve-first survey item answered, who may publish and read, the
// notice to residents.
func TestOutcomesThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w, _ := enqSetup(t, e)
	sup, desk, deskY := e.staff(w.supervisorX, w.Password), e.staff(enqDesk, w.Password), e.staff(enqDeskY, w.Password)
	ownerA, ownerB, ownerY := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner(w.OwnerY.Phone)

	// November's record: complaints and enquiries in X and in Y.
	complain := func(c *client, h, cat, text string) {
		c.ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`,
			map[string]any{"in": map[string]any{"householdId": h, "category": cat, "severity": "NORMAL", "description": text}}, nil)
	}
	secrets := []string{"楼上每晚装修到十二点", "垃圾桶三天没清", "车位被外来车辆占用"}
	complain(ownerA, w.HA.ID, "NOISE", secrets[0])
	complain(ownerB, w.HB.ID, "HYGIENE", secrets[1])
	complain(ownerA, w.HA.ID, "NOISE", "电梯口有人吸烟")
	complain(ownerY, w.HY.ID, "PARKING", secrets[2])
	enquire := func(c *client, h, cat, q string) {
		c.ok(recordQ, map[string]any{"in": map[string]any{"householdId": h, "channel": "PHONE", "question": q, "category": cat}}, nil)
	}
	enquire(desk, w.HA.ID, "FEES", "物业费怎么开发票？")
	enquire(desk, w.HB.ID, "FEES", "车位费可以按年交吗？")
	enquire(desk, w.HC.ID, "FACILITIES", "健身器材什么时候修？")
	enquire(deskY, w.HY.ID, "FEES", "桂香园的物业费标准？")
	surveyID := outcomeSurvey(t, e, w, sup, map[string]*client{w.HA.ID: ownerA, w.HB.ID: ownerB, w.HC.ID: e.owner("13900000003")})

	// The last hour of November in Shanghai counts; the first of December does not.
	e.Clock.Set(time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC))
	e.owner(w.OwnerB.Phone).ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"householdId": w.HB.ID, "category": "FEES", "severity": "LOW", "description": "本月账单金额有误"}}, nil)
	good := map[string]any{
		"examples": []any{
			map[string]any{"kind": "COMPLAINT", "category": "NOISE", "summary": "业主反映夜间装修噪音", "resolution": "已约谈装修户，限定施工时间并加强巡查"},
			map[string]any{"kind": "ENQUIRY", "category": "FEES", "summary": "咨询物业费发票开具方式", "resolution": "客服中心可现场开具，也可在应用内申请电子发票"},
		},
		"improvements": []any{
			map[string]any{"text": "装修施工时段每日巡查两次", "due": "2026-11-30"},
			map[string]any{"text": "增设两处分类垃圾桶", "due": "2027-01-15"},
		},
		"surveyActions": []any{
			map[string]any{"surveyId": surveyID, "dimension": "CLEANING", "text": "保洁频次由每日一次增至两次", "due": "2026-12-31"},
			map[string]any{"surveyId": surveyID, "dimension": "PARKING", "text": "清理僵尸车并加装道闸识别", "due": "2027-02-28"},
		},
		"remarks": "本月投诉以噪音为主",
	}
	vars := func(p string, in map[string]any) map[string]any { return map[string]any{"c": w.X.ID, "p": p, "in": in} }
	e.Clock.Set(time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)) // 1 December, 01:00 in Shanghai
	sup, ownerA, ownerB, ownerY = e.staff(w.supervisorX, w.Password), e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner(w.OwnerY.Phone)
	ownerB.ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`,
		map[string]any{"in": map[string]any{"householdId": w.HB.ID, "category": "SECURITY", "severity": "LOW", "description": "十二月的投诉"}}, nil)

	// Refused by field, and by who is asking.
	with := func(key string, v any) map[string]any {
		in := map[string]any{}
		for k, x := range good {
			in[k] = x
		}
		in[key] = v
		return in
	}
	for name, c := range map[string]struct {
		period, field string
		in            map[string]any
	}{
		"open period":         {"2026-12", "period", good},
		"phone in summary":    {"2026-11", "input.examples.0.summary", with("examples", []any{map[string]any{"kind": "COMPLAINT", "category": "NOISE", "summary": "业主139 0000 0001反映噪音", "resolution": "已处理"}})},
		"room in answer":      {"2026-11", "input.examples.0.resolution", with("examples", []any{map[string]any{"kind": "COMPLAINT", "category": "NOISE", "summary": "噪音", "resolution": "已约谈1-1-101业主"}})},
		"wrong category":      {"2026-11", "input.examples.0.category", with("examples", []any{map[string]any{"kind": "ENQUIRY", "category": "NOISE", "summary": "噪音", "resolution": "已处理"}})},
		"building in promise": {"2026-11", "input.improvements.0.text", with("improvements", []any{map[string]any{"text": "2栋1单元302门口加装照明", "due": "2027-01-01"}})},
		"item unanswered":     {"2026-11", "input.surveyActions", with("surveyActions", []any{good["surveyActions"].([]any)[0]})},
		"not improve-first":   {"2026-11", "input.surveyActions.2.dimension", with("surveyActions", append(slices.Clone(good["surveyActions"].([]any)), map[string]any{"surveyId": surveyID, "dimension": "SECURITY", "text": "保持", "due": "2027-01-01"}))},
		"answered twice":      {"2026-11", "input.surveyActions.1.dimension", with("surveyActions", []any{good["surveyActions"].([]any)[0], good["surveyActions"].([]any)[0]})},
	} {
		if r := sup.fails("BAD_USER_INPUT", publishOutcomesQ, vars(c.period, c.in)); r.field() != c.field {
			t.Errorf("%s: field %q, want %q", name, r.field(), c.field)
		}
	}
	for name, c := range map[string]struct {
		client *client
		code   string
	}{
		"butler": {e.staff(w.butlerX, w.Password), "FORBIDDEN"}, "desk": {e.staff(enqDesk, w.Password), "FORBIDDEN"}, "owner": {ownerA, "FORBIDDEN"},
		"supervisor of Y": {e.staff(w.supervisorY, w.Password), "NOT_FOUND"}, "owner of Y": {ownerY, "NOT_FOUND"},
	} {
		if r := c.client.do(publishOutcomesQ, vars("2026-11", good)); r.code() != c.code {
			t.Errorf("%s publishes: %+v, want %s", name, r.Errors, c.code)
		}
	}

	var v1 struct{ PublishOutcomes outcomes }
	sup.ok(publishOutcomesQ, vars("2026-11", good), &v1)
	o := v1.PublishOutcomes
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	wantC, wantE := countIn(t, e, "complaints", "submittedAt", w.X.ID, from, to), countIn(t, e, "enquiries", "createdAt", w.X.ID, from, to)
	if wantC["NOISE"] != 2 || wantC["HYGIENE"] != 1 || wantC["FEES"] != 1 || wantC["SECURITY"] != 0 || wantE["FEES"] != 2 || wantE["FACILITIES"] != 1 {
		t.Fatalf("the record is not what the test made: complaints %v, enquiries %v", wantC, wantE)
	}
	checkCounts := func(what string, got []categoryCount, total int, want map[string]int, n int) {
		t.Helper()
		sum := 0
		for _, c := range got {
			if c.Count != want[c.Category] || c.Label == "" {
				t.Errorf("%s %s: %d (%q), want %d", what, c.Category, c.Count, c.Label, want[c.Category])
			}
			sum += want[c.Category]
		}
		if len(got) != n || total != sum {
			t.Errorf("%s: %d categories, total %d, want %d and %d", what, len(got), total, n, sum)
		}
	}
	checkCounts("complaints", o.Complaints, o.ComplaintsTotal, wantC, 7)
	checkCounts("enquiries", o.Enquiries, o.EnquiriesTotal, wantE, 10)
	if o.Version != 1 || !o.Latest || o.PeriodKind != "MONTH" || o.PeriodLabel != "2026年11月" || len(o.Examples) != 2 ||
		o.Examples[0].CategoryLabel != "噪音扰民" || len(o.Improvements) != 2 || o.Improvements[0].Status != "PROMISED" ||
		!o.Improvements[0].Overdue || o.Improvements[1].Overdue || len(o.Improvements[0].History) != 1 {
		t.Fatalf("version 1: %+v", o)
	}

	// The survey's improve-first items, as surveyResults classifies them, each with its action.
	var res struct {
		SurveyResults struct {
			Dimensions []struct {
				Dimension, Quadrant              string
				MeanImportance, MeanSatisfaction float64
				SatisfiedCount                   int
			}
		}
	}
	sup.ok(`query($id:ID!){ surveyResults(surveyId:$id){ dimensions { dimension quadrant meanImportance meanSatisfaction satisfiedCount } } }`, map[string]any{"id": surveyID}, &res)
	if len(o.Surveys) != 1 || o.Surveys[0].SurveyID != surveyID || o.Surveys[0].Responses != 3 {
		t.Fatalf("surveys: %+v", o.Surveys)
	}
	var fixFirst []string
	for _, d := range res.SurveyResults.Dimensions {
		if d.Quadrant == "FIX_FIRST" {
			fixFirst = append(fixFirst, d.Dimension)
			i := slices.IndexFunc(o.Surveys[0].Items, func(it struct {
				Dimension, Label                 string
				Rated, Satisfied                 int
				MeanImportance, MeanSatisfaction *float64
				Action                           outcomeAction
			}) bool {
				return it.Dimension == d.Dimension
			})
			if i < 0 {
				t.Fatalf("improve-first %s not answered: %+v", d.Dimension, o.Surveys[0].Items)
			}
			it := o.Surveys[0].Items[i]
			if it.Rated != 3 || it.Satisfied != d.SatisfiedCount || *it.MeanImportance != d.MeanImportance || *it.MeanSatisfaction != d.MeanSatisfaction ||
				it.Action.Status != "PROMISED" || it.Action.SurveyID == nil || *it.Action.SurveyID != surveyID || it.Action.Dimension == nil {
				t.Errorf("item %s: %+v, results %+v", d.Dimension, it, d)
			}
		}
	}
	if !slices.Equal(fixFirst, []string{"CLEANING", "PARKING"}) || len(o.Surveys[0].Items) != 2 {
		t.Fatalf("improve-first %v, items %+v", fixFirst, o.Surveys[0].Items)
	}
	acts, err := e.App.Services.Outcomes.SurveyActions(context.Background(), w.X.ID, "2026-11")
	if err != nil || len(acts) != 2 || acts[0].Dimension != "CLEANING" || acts[1].Text != "清理僵尸车并加装道闸识别" || acts[0].SurveyTitle != "11月服务满意度调查" {
		t.Fatalf("SurveyActions: %+v %v", acts, err)
	}

	// The month's management report says what is being done about each
	// improve-first item (with its status in words) and, from the month's
	// statement, the maintenance fund: the app wires both into the report.
	sup.ok(`mutation($c:ID!,$p:String!,$in:PublishFinanceStatementInput!){ publishFinanceStatement(communityId:$c, period:$p, input:$in){ id } }`,
		map[string]any{"c": w.X.ID, "p": "2026-11", "in": map[string]any{"lines": financeLines(100),
			"maintenanceFund": map[string]any{"opening": 500000, "deposits": 20000, "interest": 300, "spent": 120000}}}, nil)
	var rep struct {
		GenerateManagementReport struct {
			Sections []struct {
				Section string
				Items   []struct{ Label, Text string }
				Figures []struct {
					Key   string
					Value int64
				}
			}
		}
	}
	sup.ok(`mutation($c:ID!,$p:String!){ generateManagementReport(communityId:$c, period:$p){ sections { section items { label text } figures { key value } } } }`,
		map[string]any{"c": w.X.ID, "p": "2026-11"}, &rep)
	var surveyTexts []string
	fund := map[string]int64{}
	for _, sec := range rep.GenerateManagementReport.Sections {
		switch sec.Section {
		case "SURVEYS":
			for _, it := range sec.Items {
				surveyTexts = append(surveyTexts, it.Text)
			}
		case "FINANCE":
			for _, f := range sec.Figures {
				if strings.HasPrefix(f.Key, "fund.") {
					fund[f.Key] = f.Value
				}
			}
		}
	}
	if !slices.Equal(surveyTexts, []string{"保洁频次由每日一次增至两次（已承诺）", "清理僵尸车并加装道闸识别（已承诺）"}) {
		t.Errorf("report's survey items: %q", surveyTexts)
	}
	if want := map[string]int64{"fund.opening": 500000, "fund.deposits": 20000, "fund.interest": 300, "fund.spent": 120000, "fund.closing": 400300}; !reflect.DeepEqual(fund, want) {
		t.Errorf("report's fund figures %v, want %v", fund, want)
	}

	// Owners of X read it, naming nobody; the notice reached them.
	get := `query($id:ID!){ publishedOutcome(id:$id){ ` + outcomeFields + ` } }`
	list := `query($c:ID!){ publishedOutcomes(communityId:$c, first:5){ totalCount edges { node { ` + outcomeFields + ` } } } }`
	r := ownerB.do(list, map[string]any{"c": w.X.ID})
	var l struct {
		PublishedOutcomes struct {
			TotalCount int
			Edges      []struct{ Node outcomes }
		}
	}
	if err := json.Unmarshal(r.Data, &l); err != nil || len(r.Errors) > 0 || l.PublishedOutcomes.TotalCount != 1 || l.PublishedOutcomes.Edges[0].Node.ID != o.ID {
		t.Fatalf("owner B's list: %+v %s", r.Errors, r.Data)
	}
	for _, leak := range append(secrets, "电梯口有人吸烟", "物业费怎么开发票？", w.OwnerA.Name, w.OwnerB.Name, "赵小明", w.OwnerA.Phone, w.OwnerB.Phone,
		w.HA.ID, w.HB.ID, w.HC.ID, w.OwnerA.ID, w.OwnerB.ID, w.HA.Label, w.HB.Label) {
		if strings.Contains(string(r.Data), leak) {
			t.Errorf("the owners' outcomes show %q", leak)
		}
	}
	waitFor(t, "the owner's notice", func() bool {
		for _, n := range ownerA.inbox().Notifications.Edges {
			if n.Node.Kind == "OUTCOMES_PUBLISHED" && strings.Contains(n.Node.Body, "投诉 4 件、咨询 3 件") && strings.Contains(n.Node.Body, "4 项整改承诺") {
				return true
			}
		}
		return false
	})
	for _, n := range ownerY.inbox().Notifications.Edges {
		if n.Node.Kind == "OUTCOMES_PUBLISHED" {
			t.Fatalf("an owner of Y told of X's outcomes: %+v", n.Node)
		}
	}
	e.staff(w.butlerX, w.Password).ok(get, map[string]any{"id": o.ID}, nil)
	for name, c := range map[string]*client{"owner of Y": ownerY, "supervisor of Y": e.staff(w.supervisorY, w.Password)} {
		c.fails("NOT_FOUND", list, map[string]any{"c": w.X.ID})
		if r := c.do(get, map[string]any{"id": o.ID}); r.code() != "NOT_FOUND" {
			t.Fatalf("%s reads X's outcomes: %+v %s", name, r.Errors, r.Data)
		}
		if r := c.do(updateActionQ, map[string]any{"id": o.Improvements[0].ID, "s": "DONE"}); r.code() != "NOT_FOUND" {
			t.Fatalf("%s moves X's action: %+v", name, r.Errors)
		}
	}
}
