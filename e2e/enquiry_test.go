package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/identity"
	"qinqing/internal/staff"
)

const enquiryFields = `id status channel question category outcome answer referredTo answeredOnTheSpot answeredOnTime overdue
  owner { account } asker { name } household { id } faqEntry { id } callbacks { reached notes } timeline { action actor note }`

type enquiryView struct {
	ID, Status, Channel, Question, Category string
	Outcome, Answer, ReferredTo             *string
	AnsweredOnTheSpot, AnsweredOnTime       bool
	Overdue                                 bool
	Owner                                   *struct{ Account string }
	Asker                                   *struct{ Name string }
	Household                               *struct{ ID string }
	FaqEntry                                *struct{ ID string }
	Callbacks                               []struct {
		Reached bool
		Notes   *string
	}
	Timeline []struct {
		Action, Actor string
		Note          *string
	}
}

const (
	enqDesk  = "x.desk"  // CUSTOMER_SERVICE of X
	enqDesk2 = "x.desk2" // another CUSTOMER_SERVICE of X
	enqDeskY = "y.desk"  // CUSTOMER_SERVICE of Y
)

// enqSetup is world() with front-desk staff, and every staff id by account.
func enqSetup(t *testing.T, e *env) (*world, map[string]string) {
	t.Helper()
	w := e.world()
	ctx := context.Background()
	s := e.App.Services
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		t.Fatal(err)
	}
	for acct, community := range map[string]string{enqDesk: w.X.ID, enqDesk2: w.X.ID, enqDeskY: w.Y.ID} {
		if _, err := s.Staff.Upsert(ctx, &staff.Staff{Account: acct, Name: acct, PasswordHash: hash, Roles: []access.Role{access.CustomerService}, CommunityIDs: []string{community}}); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	for _, acct := range []string{enqDesk, enqDesk2, enqDeskY, w.butlerX, w.supervisorX, w.supervisorY} {
		id, _, ok, err := s.Staff.StaffCredentials(ctx, acct)
		if err != nil || !ok {
			t.Fatalf("staff %s: %v", acct, err)
		}
		ids[acct] = id
	}
	return w, ids
}

func enqDo(t *testing.T, c *client, q, field string, vars map[string]any) enquiryView {
	t.Helper()
	r := c.do(q, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]enquiryView
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

const (
	recordQ   = `mutation($in:RecordEnquiryInput!){ recordEnquiry(input:$in){ ` + enquiryFields + ` } }`
	answerQ   = `mutation($id:ID!,$a:EnquiryAnswerInput!){ answerEnquiry(id:$id, input:$a){ ` + enquiryFields + ` } }`
	handOverQ = `mutation($id:ID!,$to:ID!){ handOverEnquiry(id:$id, toStaffId:$to, note:"工程问题转主管"){ ` + enquiryFields + ` } }`
	callbackQ = `mutation($id:ID!){ recordEnquiryCallback(id:$id, reached:true, notes:"已电话告知"){ ` + enquiryFields + ` } }`
	enquiryQ  = `query($id:ID!){ enquiry(id:$id){ ` + enquiryFields + ` } }`
)

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Every outcome through the API: answered on the spot, referred after a
// handover, not possible now with its callback, out of scope, and an app
// question taken at the desk; an overdue one shows on its owner's task list
// and reaches the supervisor once.
func TestEnquiryOutcomesHandoverAndEscalation(t *testing.T) {
	e := newEnv(t)
	w, ids := enqSetup(t, e)
	desk := e.staff(enqDesk, w.Password)
	owner := e.owner(w.OwnerA.Phone)

	// 1. Answered on the spot at the desk, for the owner by name.
	x := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "askerId": w.OwnerA.ID, "channel": "PHONE", "question": "停车证怎么办理？", "category": "PARKING",
		"answer": map[string]any{"outcome": "ANSWERED", "text": "带行驶证和房产证到客服中心办理。"}}})
	if x.Status != "CLOSED" || !x.AnsweredOnTheSpot || !x.AnsweredOnTime || str(x.Outcome) != "ANSWERED" || x.Owner == nil || x.Owner.Account != enqDesk || x.Asker == nil {
		t.Fatalf("on the spot: %+v", x)
	}
	desk.fails("BAD_USER_INPUT", callbackQ, map[string]any{"id": x.ID}) // nothing to call back

	// 2. Taken by the desk, handed over to the supervisor, referred on.
	y := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "askerName": "路过的访客", "channel": "DESK", "question": "小区外墙什么时候翻新？", "category": "FACILITIES"}})
	if y.Status != "OPEN" || y.AnsweredOnTheSpot {
		t.Fatalf("recorded: %+v", y)
	}
	e.staff(enqDesk2, w.Password).fails("FORBIDDEN", answerQ, map[string]any{"id": y.ID, "a": map[string]any{"outcome": "ANSWERED", "text": "x"}})
	y = enqDo(t, desk, handOverQ, "handOverEnquiry", map[string]any{"id": y.ID, "to": ids[w.supervisorX]})
	if y.Owner.Account != w.supervisorX || y.Timeline[len(y.Timeline)-1].Action != "HAND_OVER" {
		t.Fatalf("handed over: %+v", y)
	}
	desk.fails("FORBIDDEN", answerQ, map[string]any{"id": y.ID, "a": map[string]any{"outcome": "ANSWERED", "text": "x"}})
	sup := e.staff(w.supervisorX, w.Password)
	sup.fails("BAD_USER_INPUT", answerQ, map[string]any{"id": y.ID, "a": map[string]any{"outcome": "REFERRED", "text": "已转工程部"}})
	y = enqDo(t, sup, answerQ, "answerEnquiry", map[string]any{"id": y.ID, "a": map[string]any{"outcome": "REFERRED", "text": "已转工程部，由张工答复", "referredTo": "工程部 张工"}})
	if str(y.Outcome) != "REFERRED" || str(y.ReferredTo) != "工程部 张工" || y.AnsweredOnTheSpot {
		t.Fatalf("referred: %+v", y)
	}

	// 3. A resident asks in the app; the desk takes it and explains it
	// cannot be done now; then calls back.
	z := enqDo(t, owner, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "question": "能不能在楼下加装充电桩？", "category": "FACILITIES"}})
	if z.Channel != "APP" || z.Owner != nil || z.Asker == nil || z.Asker.Name != w.OwnerA.Name {
		t.Fatalf("asked in the app: %+v", z)
	}
	enqDo(t, desk, `mutation($id:ID!){ takeEnquiry(id:$id){ `+enquiryFields+` } }`, "takeEnquiry", map[string]any{"id": z.ID})
	z = enqDo(t, desk, answerQ, "answerEnquiry", map[string]any{"id": z.ID, "a": map[string]any{"outcome": "NOT_POSSIBLE_NOW", "text": "需业主大会表决后才能施工，已登记您的意见。"}})
	z = enqDo(t, desk, callbackQ, "recordEnquiryCallback", map[string]any{"id": z.ID})
	if str(z.Outcome) != "NOT_POSSIBLE_NOW" || len(z.Callbacks) != 1 || !z.Callbacks[0].Reached {
		t.Fatalf("not possible now: %+v", z)
	}
	// The later answer is told to the asker (by SMS too: she has no app);
	// the one given on the spot is not.
	waitFor(t, "the asker's notice of the answer", func() bool {
		for _, m := range e.SMS.texts(w.OwnerA.Phone) {
			if strings.Contains(m, "咨询答复：已答复") && strings.Contains(m, "能不能在楼下加装充电桩") {
				return true
			}
		}
		return false
	})
	told := map[string]int{}
	for _, n := range owner.inbox().Notifications.Edges {
		for _, d := range n.Node.Data {
			if d.Key == "enquiryId" && n.Node.Kind == "ENQUIRY_ANSWERED" {
				told[d.Value]++
			}
		}
	}
	if told[z.ID] != 1 || told[x.ID] != 0 {
		t.Fatalf("answer notices by enquiry: %v", told)
	}

	// 4. Out of scope, explained.
	o := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HB.ID, "channel": "WECHAT", "question": "户口迁移去哪里办？", "category": "PAPERWORK",
		"answer": map[string]any{"outcome": "OUT_OF_SCOPE", "text": "户口由派出所办理，不属物业服务范围；派出所地址已告知。"}}})
	if str(o.Outcome) != "OUT_OF_SCOPE" {
		t.Fatalf("out of scope: %+v", o)
	}

	// The resident sees their own, with answers; not the neighbour's.
	var mine struct {
		MyEnquiries struct {
			Edges []struct{ Node enquiryView }
		}
	}
	owner.ok(`{ myEnquiries { edges { node { id answer outcome } } } }`, nil, &mine)
	if len(mine.MyEnquiries.Edges) != 2 {
		t.Fatalf("owner A's enquiries: %+v", mine)
	}
	owner.fails("NOT_FOUND", enquiryQ, map[string]any{"id": o.ID})

	// 5. Overdue: promised within an hour, not answered.
	promisedBy := e.Clock.Now().Add(time.Hour)
	late := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "channel": "PHONE", "question": "明天停水几点恢复？", "category": "UTILITIES",
		"promisedBy": promisedBy.Format(time.RFC3339)}})
	e.Clock.Advance(2 * time.Hour)
	desk, sup = e.staff(enqDesk, w.Password), e.staff(w.supervisorX, w.Password)
	if v := enqDo(t, desk, enquiryQ, "enquiry", map[string]any{"id": late.ID}); !v.Overdue {
		t.Fatalf("not overdue: %+v", v)
	}
	var tl struct {
		ButlerTasks struct {
			Overdue int
			Edges   []struct {
				Node struct {
					Kind, SubjectID string
					Household       *struct{ ID string }
				}
			}
		}
	}
	desk.ok(`{ butlerTasks { overdue edges { node { kind subjectId household { id } } } } }`, nil, &tl)
	if len(tl.ButlerTasks.Edges) != 1 || tl.ButlerTasks.Edges[0].Node.Kind != "ENQUIRY_OVERDUE" || tl.ButlerTasks.Edges[0].Node.SubjectID != late.ID {
		t.Fatalf("owner's task list: %+v", tl)
	}
	e.staff(enqDesk2, w.Password).ok(`{ butlerTasks { overdue edges { node { kind subjectId } } } }`, nil, &tl)
	if len(tl.ButlerTasks.Edges) != 0 {
		t.Fatalf("another desk's list holds it: %+v", tl)
	}
	var filtered struct {
		Enquiries struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	sup.ok(`query($c:ID!){ enquiries(communityId:$c, filter:{overdue:true}){ totalCount edges { node { id } } } }`, map[string]any{"c": w.X.ID}, &filtered)
	if filtered.Enquiries.TotalCount != 1 || filtered.Enquiries.Edges[0].Node.ID != late.ID {
		t.Fatalf("overdue filter: %+v", filtered)
	}
	for range 2 {
		if err := e.App.Services.Enquiries.Escalate(context.Background(), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Its own kind, naming the owner and the promised time; the owner is
	// told in their own words.
	promised := promisedBy.In(time.FixedZone("CST", 8*3600)).Format("1月2日 15:04")
	for _, c := range []struct {
		who  *client
		want string
	}{
		{sup, enqDesk + " 负责的咨询「明天停水几点恢复？」承诺 " + promised + " 前答复，现已超时，请督办。"},
		{desk, "您负责的咨询「明天停水几点恢复？」承诺 " + promised + " 前答复，现已超时，请尽快答复或转交。"},
	} {
		var got []string
		for _, x := range c.who.inbox().Notifications.Edges {
			for _, d := range x.Node.Data {
				if d.Key == "enquiryId" && d.Value == late.ID {
					got = append(got, x.Node.Kind+" "+x.Node.Title+" "+x.Node.Body)
				}
			}
		}
		if len(got) != 1 || got[0] != "ENQUIRY_OVERDUE 咨询超时未答复 "+c.want {
			t.Fatalf("escalation notices: %q, want one saying %q", got, c.want)
		}
	}
	enqDo(t, desk, answerQ, "answerEnquiry", map[string]any{"id": late.ID, "a": map[string]any{"outcome": "ANSWERED", "text": "下午三点恢复供水。"}})
	desk.ok(`{ butlerTasks { overdue edges { node { kind subjectId } } } }`, nil, &tl)
	if len(tl.ButlerTasks.Edges) != 0 {
		t.Fatalf("answered, still on the list: %+v", tl)
	}

	// The KPIs: five received, all answered, two on the spot, four on time
	// (the late one was not), none covered by an FAQ entry.
	type ratio struct{ Numerator, Denominator int }
	var k struct {
		ServiceKpis struct {
			Enquiries struct {
				Received                                                 int
				Answered, AnsweredOnTheSpot, AnsweredOnTime, FaqCoverage ratio
			}
		}
	}
	r := `{ numerator denominator }`
	sup.ok(`query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ enquiries { received answered `+r+` answeredOnTheSpot `+r+
		` answeredOnTime `+r+` faqCoverage `+r+` } } }`,
		map[string]any{"c": w.X.ID, "f": testEpoch.Add(-time.Hour).Format(time.RFC3339), "t": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)}, &k)
	got := k.ServiceKpis.Enquiries
	if got.Received != 5 || got.Answered != (ratio{5, 5}) || got.AnsweredOnTheSpot != (ratio{2, 5}) || got.AnsweredOnTime != (ratio{4, 5}) || got.FaqCoverage != (ratio{0, 5}) {
		t.Fatalf("enquiry KPIs: %+v", got)
	}
}

// Who may see and record: staff of another community neither see nor
// record; a resident cannot ask for another household, nor publish FAQ.
func TestEnquiryPermissions(t *testing.T) {
	e := newEnv(t)
	w, _ := enqSetup(t, e)
	desk := e.staff(enqDesk, w.Password)
	x := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "channel": "VISIT", "question": "物业费可以按季度交吗？", "category": "FEES"}})
	deskY := e.staff(enqDeskY, w.Password)
	deskY.fails("NOT_FOUND", enquiryQ, map[string]any{"id": x.ID})
	deskY.fails("FORBIDDEN", `query($c:ID!){ enquiries(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	deskY.fails("FORBIDDEN", recordQ, map[string]any{"in": map[string]any{"communityId": w.X.ID, "channel": "PHONE", "question": "问", "category": "OTHER"}})
	e.staff(w.engineerX, w.Password).fails("NOT_FOUND", enquiryQ, map[string]any{"id": x.ID})
	ownerB := e.owner(w.OwnerB.Phone)
	ownerB.fails("NOT_FOUND", enquiryQ, map[string]any{"id": x.ID})
	ownerB.fails("NOT_FOUND", recordQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "question": "问", "category": "OTHER"}})
	ownerB.fails("FORBIDDEN", `mutation($c:ID!){ publishFaqEntry(input:{communityId:$c, question:"问", answer:"答", category:OTHER}){ id } }`, map[string]any{"c": w.X.ID})
	ownerB.fails("FORBIDDEN", `query($c:ID!){ enquiries(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	e.owner(w.OwnerY.Phone).fails("FORBIDDEN", `query($c:ID!){ faqEntries(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})

	// The hotline call that brought the question links to it; another
	// community's front desk cannot link its own call to it.
	logQ := `mutation($in:LogCallInput!){ logCall(input:$in){ outcome itemId } }`
	var call struct {
		LogCall struct{ Outcome, ItemID string }
	}
	desk.ok(logQ, map[string]any{"in": map[string]any{"communityId": w.X.ID, "phone": w.OwnerA.Phone, "rings": 2, "outcome": "ENQUIRY", "itemId": x.ID}}, &call)
	if call.LogCall.Outcome != "ENQUIRY" || call.LogCall.ItemID != x.ID {
		t.Errorf("call linked to the enquiry = %+v", call.LogCall)
	}
	if r := deskY.fails("NOT_FOUND", logQ, map[string]any{"in": map[string]any{"communityId": w.Y.ID, "phone": w.OwnerY.Phone, "rings": 2, "outcome": "ENQUIRY", "itemId": x.ID}}); r.field() != "input.itemId" && r.field() != "itemId" {
		t.Errorf("another community's enquiry: field %q", r.field())
	}
}

// FAQ in Chinese: 停车 finds 停车证怎么办理; a term not there finds nothing;
// English text is searchable; reads are counted; supervisors see the most
// read entries and the questions asked without one.
func TestFaqSearchInChinese(t *testing.T) {
	e := newEnv(t)
	w, _ := enqSetup(t, e)
	desk := e.staff(enqDesk, w.Password)
	publish := `mutation($in:PublishFaqEntryInput!){ publishFaqEntry(input:$in){ id question readCount } }`
	var parking struct{ PublishFaqEntry struct{ ID string } }
	desk.ok(publish, map[string]any{"in": map[string]any{"communityId": w.X.ID, "question": "停车证怎么办理？", "answer": "携带行驶证、房产证复印件到客服中心填表，三个工作日内领取。",
		"questionEn": "How do I get a parking permit?", "answerEn": "Bring your vehicle licence to the service centre.", "category": "PARKING", "tags": []string{"车位", "月卡"}}}, &parking)
	desk.ok(publish, map[string]any{"in": map[string]any{"communityId": w.X.ID, "question": "装修需要办理什么手续？", "answer": "先交装修申请和图纸，审核通过后领取施工证；占用车位停车需另行登记。", "category": "RENOVATION"}}, nil)
	desk.ok(publish, map[string]any{"in": map[string]any{"communityId": w.X.ID, "question": "快递可以代收吗？", "answer": "客服中心可代收快递，凭取件码领取。", "category": "FACILITIES"}}, nil)

	owner := e.owner(w.OwnerA.Phone)
	type faqPage struct {
		FaqEntries struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Question string } }
		}
	}
	search := func(term string) faqPage {
		var p faqPage
		owner.ok(`query($c:ID!,$s:String){ faqEntries(communityId:$c, search:$s){ totalCount edges { node { id question } } } }`, map[string]any{"c": w.X.ID, "s": term}, &p)
		return p
	}
	if p := search("停车"); p.FaqEntries.TotalCount != 2 || p.FaqEntries.Edges[0].Node.Question != "停车证怎么办理？" {
		t.Fatalf("停车: %+v", p)
	}
	if p := search("物业费"); p.FaqEntries.TotalCount != 0 {
		t.Fatalf("物业费 found: %+v", p)
	}
	if p := search("parking permit"); p.FaqEntries.TotalCount != 1 || p.FaqEntries.Edges[0].Node.ID != parking.PublishFaqEntry.ID {
		t.Fatalf("English: %+v", p)
	}
	if p := search("快"); p.FaqEntries.TotalCount != 1 {
		t.Fatalf("one character: %+v", p)
	}
	if p := search(""); p.FaqEntries.TotalCount != -1 && p.FaqEntries.TotalCount != 3 || len(p.FaqEntries.Edges) != 3 {
		t.Fatalf("browse: %+v", p)
	}
	for range 2 {
		owner.ok(`query($id:ID!){ faqEntry(id:$id){ readCount } }`, map[string]any{"id": parking.PublishFaqEntry.ID}, nil)
	}
	// Two askings of one question without an entry, one with.
	for _, q := range []string{"电梯坏了找谁？", "电梯 坏了找谁"} {
		enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{"communityId": w.X.ID, "channel": "PHONE", "question": q, "category": "FACILITIES"}})
	}
	enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{"communityId": w.X.ID, "channel": "PHONE", "question": "停车证怎么办", "category": "PARKING",
		"answer": map[string]any{"outcome": "ANSWERED", "text": "见常见问题", "faqEntryId": parking.PublishFaqEntry.ID}}})
	var st struct {
		FaqStats struct {
			MostRead []struct {
				ID        string
				ReadCount int
			}
			UnansweredQuestions []struct {
				Category, Question string
				Count              int
			}
		}
	}
	e.staff(w.supervisorX, w.Password).ok(`query($c:ID!){ faqStats(communityId:$c){ mostRead { id readCount } unansweredQuestions { category question count } } }`, map[string]any{"c": w.X.ID}, &st)
	if len(st.FaqStats.MostRead) != 3 || st.FaqStats.MostRead[0].ID != parking.PublishFaqEntry.ID || st.FaqStats.MostRead[0].ReadCount != 2 {
		t.Fatalf("most read: %+v", st.FaqStats.MostRead)
	}
	if u := st.FaqStats.UnansweredQuestions; len(u) != 1 || u[0].Count != 2 || u[0].Category != "FACILITIES" {
		t.Fatalf("unanswered: %+v", u)
	}
	desk.fails("FORBIDDEN", `query($c:ID!){ faqStats(communityId:$c){ mostRead { id } } }`, map[string]any{"c": w.X.ID})

	// Unpublished: gone for residents, also through their enquiry linked to it.
	linked := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{"householdId": w.HA.ID, "askerId": w.OwnerA.ID, "channel": "PHONE",
		"question": "停车证要什么材料？", "category": "PARKING", "answer": map[string]any{"outcome": "ANSWERED", "text": "见常见问题", "faqEntryId": parking.PublishFaqEntry.ID}}})
	desk.ok(`mutation($id:ID!){ unpublishFaqEntry(id:$id){ published } }`, map[string]any{"id": parking.PublishFaqEntry.ID}, nil)
	if p := search("停车证"); p.FaqEntries.TotalCount != 0 {
		t.Fatalf("unpublished still found: %+v", p)
	}
	var seen struct {
		Enquiry struct{ FaqEntry *struct{ ID string } }
	}
	owner.ok(`query($id:ID!){ enquiry(id:$id){ faqEntry { id } } }`, map[string]any{"id": linked.ID}, &seen)
	if seen.Enquiry.FaqEntry != nil {
		t.Fatalf("the resident still reaches the unpublished entry: %+v", seen)
	}
	desk.ok(`query($id:ID!){ enquiry(id:$id){ faqEntry { id } } }`, map[string]any{"id": linked.ID}, &seen)
	if seen.Enquiry.FaqEntry == nil {
		t.Fatal("staff lost the link")
	}
}
