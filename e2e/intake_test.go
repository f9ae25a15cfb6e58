package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
)

const intakeRepairFields = `id status reporter { id } intake { channel filedBy { account } filedAt }
  acceptances { round person { id } recordedBy { account } channel }
  timeline { action actorKind channel onBehalfOf { id } }`

type intakeRepairView struct {
	ID, Status string
	Reporter   *struct{ ID string }
	Intake     *struct {
		Channel, FiledAt string
		FiledBy          *struct{ Account string }
	}
	Acceptances []struct {
		Round      int
		Person     *struct{ ID string }
		RecordedBy *struct{ Account string }
		Channel    *string
	}
	Timeline []struct {
		Action, ActorKind string
		Channel           *string
		OnBehalfOf        *struct{ ID string }
	}
}

// An elderly owner without the app rings the family hotline: the front
// desk files the repair for her by PHONE; it is dispatched and worked, the
// engineer records her signature on site (VISIT), the butler calls back;
// every progress notice reaches her by SMS, and when she does sign in (by
// SMS code) the request is hers, showing who filed it and how.
func TestStaffFiledRepairReachesTheResidentBySMS(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	desk := e.staffWithRole(w, "x.desk", access.CustomerService)
	butler := e.staff(w.butlerX, w.Password)
	eng := e.staff(w.engineerX, w.Password)
	var engs struct {
		Engineers []struct{ Engineer struct{ ID string } }
	}
	butler.ok(`query($c:ID!){ engineers(communityId:$c){ engineer { id } } }`, map[string]any{"c": w.X.ID}, &engs)

	submit := `mutation($in:SubmitRepairRequestInput!,$i:IntakeInput){ submitRepairRequest(input:$in, intake:$i){ ` + intakeRepairFields + ` } }`
	in := map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": "卫生间水管漏水", "inHome": true}
	// Staff must say who asked and how; the person must be of the household.
	desk.fails("FORBIDDEN", submit, map[string]any{"in": in})
	desk.fails("BAD_USER_INPUT", submit, map[string]any{"in": in, "i": map[string]any{"channel": "PHONE", "personId": w.OwnerB.ID}})
	desk.fails("BAD_USER_INPUT", submit, map[string]any{"in": in, "i": map[string]any{"channel": "APP", "personId": w.OwnerA.ID}})
	var out struct{ SubmitRepairRequest intakeRepairView }
	desk.ok(submit, map[string]any{"in": in, "i": map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}}, &out)
	r := out.SubmitRepairRequest
	if r.Status != "SUBMITTED" || r.Reporter == nil || r.Reporter.ID != w.OwnerA.ID || r.Intake == nil || r.Intake.Channel != "PHONE" ||
		r.Intake.FiledBy == nil || r.Intake.FiledBy.Account != "x.desk" || r.Intake.FiledAt == "" {
		t.Fatalf("filed = %+v", r)
	}
	first := r.Timeline[0]
	if first.Action != "SUBMIT" || first.ActorKind != "STAFF" || first.Channel == nil || *first.Channel != "PHONE" || first.OnBehalfOf == nil || first.OnBehalfOf.ID != w.OwnerA.ID {
		t.Fatalf("first timeline line = %+v", first)
	}

	id := map[string]any{"id": r.ID}
	butler.ok(`mutation($id:ID!){ takeRepairRequest(id:$id){ id } }`, id, nil)
	butler.ok(`mutation($id:ID!,$e:ID!){ dispatchWorkOrder(id:$id, engineerId:$e){ id } }`, map[string]any{"id": r.ID, "e": engs.Engineers[0].Engineer.ID}, nil)
	eng.ok(`mutation($id:ID!){ acceptWorkOrder(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ startWork(id:$id){ id } }`, id, nil)
	eng.ok(`mutation($id:ID!){ completeWork(id:$id, input:{paid:false}){ id } }`, id, nil)

	// Sign-off on her behalf on site: only on a visit, only for a member,
	// only by the engineer on the order or the community's butlers and
	// supervisors; not by the front desk, who was not there.
	confirm := `mutation($id:ID!,$s:Upload!,$o:IntakeInput){ confirmRepair(id:$id, signature:$s, rating:5, onBehalf:$o){ ` + intakeRepairFields + ` } }`
	sign := func(c *client, on map[string]any) *gqlResponse {
		return c.multipart(confirm, map[string]any{"id": r.ID, "s": nil, "o": on}, map[string][]byte{"variables.s": pngBytes})
	}
	wantCode := func(res *gqlResponse, code string) {
		t.Helper()
		if res.code() != code {
			t.Fatalf("want %s, got %+v", code, res.Errors)
		}
	}
	wantCode(sign(eng, map[string]any{"channel": "PHONE", "personId": w.OwnerA.ID}), "BAD_USER_INPUT")
	wantCode(sign(eng, map[string]any{"channel": "VISIT", "personId": w.OwnerB.ID}), "BAD_USER_INPUT")
	wantCode(sign(desk, map[string]any{"channel": "VISIT", "personId": w.OwnerA.ID}), "FORBIDDEN")
	wantCode(sign(eng, nil), "FORBIDDEN") // staff never sign as the resident
	res := sign(eng, map[string]any{"channel": "VISIT", "personId": w.OwnerA.ID})
	if len(res.Errors) > 0 {
		t.Fatalf("sign on behalf: %+v", res.Errors)
	}
	var signed struct{ ConfirmRepair intakeRepairView }
	if err := json.Unmarshal(res.Data, &signed); err != nil {
		t.Fatal(err)
	}
	s := signed.ConfirmRepair
	a := s.Acceptances
	if s.Status != "CONFIRMED" || len(a) != 1 || a[0].Person == nil || a[0].Person.ID != w.OwnerA.ID || a[0].RecordedBy == nil ||
		a[0].RecordedBy.Account != w.engineerX || a[0].Channel == nil || *a[0].Channel != "VISIT" {
		t.Fatalf("signed = %+v", s)
	}
	last := s.Timeline[len(s.Timeline)-1]
	if last.Action != "CONFIRM" || last.ActorKind != "STAFF" || last.Channel == nil || *last.Channel != "VISIT" || last.OnBehalfOf.ID != w.OwnerA.ID {
		t.Fatalf("sign-off line = %+v", last)
	}
	// The butler calls her back when the care archive says she prefers.
	butler.ok(`mutation($p:ID!){ updateCareProfile(personId:$p, input:{contactHours:"上午 9:00-11:00"}){ id } }`, map[string]any{"p": w.OwnerA.ID}, nil)
	var cb struct {
		RepairRequest struct {
			Reporter struct {
				Phone       string
				CareProfile struct{ ContactHours string }
			}
		}
	}
	butler.ok(`query($id:ID!){ repairRequest(id:$id){ reporter { phone careProfile { contactHours } } } }`, id, &cb)
	if cb.RepairRequest.Reporter.Phone != w.OwnerA.Phone || cb.RepairRequest.Reporter.CareProfile.ContactHours != "上午 9:00-11:00" {
		t.Fatalf("callback details = %+v", cb)
	}
	butler.ok(`mutation($id:ID!){ recordRepairCallback(id:$id, satisfied:true, notes:"电话回访，业主满意"){ id } }`, id, nil)

	// Every step she hears about reached her phone; nothing went to the
	// owner of the next flat.
	waitFor(t, "progress by SMS", func() bool {
		n := 0
		for _, m := range e.SMS.texts(w.OwnerA.Phone) {
			if strings.Contains(m, "报修进度") && strings.Contains(m, "卫生间水管漏水") {
				n++
			}
		}
		return n >= 4
	})
	if n := e.SMS.count(w.OwnerB.Phone); n != 0 {
		t.Fatalf("the neighbour got %d texts", n)
	}

	// She signs in by SMS code and finds it among her own requests.
	owner := e.owner(w.OwnerA.Phone)
	var mine struct {
		MyRepairRequests struct {
			Edges []struct{ Node intakeRepairView }
		}
	}
	owner.ok(`query{ myRepairRequests { edges { node { `+intakeRepairFields+` } } } }`, nil, &mine)
	if len(mine.MyRepairRequests.Edges) != 1 {
		t.Fatalf("mine = %+v", mine)
	}
	m := mine.MyRepairRequests.Edges[0].Node
	if m.ID != r.ID || m.Status != "CLOSED" || m.Intake == nil || m.Intake.Channel != "PHONE" || m.Intake.FiledBy.Account != "x.desk" {
		t.Fatalf("her request = %+v", m)
	}
}

// The other four ways in take the intake the same way: the item is the
// member's, filed by the front desk, and every rule a resident meets holds
// for staff too (a past slot, a full campaign slot, a taken lift). Who may
// file: a resident for their own household only, staff of the household's
// community with a filing role only.
func TestStaffFileForAHouseholdEverywhere(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	desk := e.staffWithRole(w.world, "x.desk", access.CustomerService)
	sup := e.staff(w.supervisorX, w.Password)
	phone := func(person string) map[string]any { return map[string]any{"channel": "PHONE", "personId": person} }
	type intakeView struct {
		Channel string
		FiledBy *struct{ Account string }
	}
	checkIntake := func(what string, got *intakeView, channel string) {
		t.Helper()
		if got == nil || got.Channel != channel || got.FiledBy == nil || got.FiledBy.Account != "x.desk" {
			t.Fatalf("%s intake = %+v", what, got)
		}
	}

	// A complaint by phone.
	complain := `mutation($in:SubmitComplaintInput!,$i:IntakeInput){ submitComplaint(input:$in, intake:$i){ id complainant { name } intake { channel filedBy { account } } } }`
	cin := map[string]any{"householdId": w.HA.ID, "category": "NOISE", "description": "楼上夜间装修噪音"}
	var c struct {
		SubmitComplaint struct {
			Complainant *struct{ Name string }
			Intake      *intakeView
		}
	}
	desk.ok(complain, map[string]any{"in": cin, "i": phone(w.OwnerA.ID)}, &c)
	checkIntake("complaint", c.SubmitComplaint.Intake, "PHONE")
	if c.SubmitComplaint.Complainant == nil || c.SubmitComplaint.Complainant.Name != w.OwnerA.Name {
		t.Fatalf("complainant = %+v", c.SubmitComplaint.Complainant)
	}

	// A paid service at the desk: the price list's price, and no slot in
	// the past for staff either.
	book := `mutation($in:BookServiceInput!,$i:IntakeInput){ bookService(input:$in, intake:$i){ id line { priceFen } intake { channel filedBy { account } } } }`
	sin := map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning, "slot": tuesday, "quantity": 2}
	var o struct {
		BookService struct {
			Line   struct{ PriceFen int }
			Intake *intakeView
		}
	}
	desk.ok(book, map[string]any{"in": sin, "i": map[string]any{"channel": "DESK", "personId": w.OwnerA.ID}}, &o)
	checkIntake("service order", o.BookService.Intake, "DESK")
	if o.BookService.Line.PriceFen != 5000 {
		t.Fatalf("price = %d", o.BookService.Line.PriceFen)
	}
	past := map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning, "slot": map[string]any{"date": "2026-11-20", "from": "09:00", "to": "11:00"}}
	desk.fails("BAD_USER_INPUT", book, map[string]any{"in": past, "i": phone(w.OwnerA.ID)})

	// A free campaign slot: a full slot is full for staff too.
	var created struct{ CreateServiceCampaign struct{ ID string } }
	sup.ok(`mutation($in:CreateServiceCampaignInput!){ createServiceCampaign(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "燃气安全检查", "description": "免费上门检查燃气管道与灶具", "intervalMonths": 2,
		"visitDays": []any{map[string]any{"date": "2026-11-25", "slots": []any{map[string]any{"start": "09:00", "end": "11:00", "capacity": 1}}}}}}, &created)
	var slots struct{ CampaignSlots []struct{ ID string } }
	sup.ok(`query($id:ID!){ campaignSlots(campaignId:$id){ id } }`, map[string]any{"id": created.CreateServiceCampaign.ID}, &slots)
	slot := `mutation($c:ID!,$s:ID!,$h:ID!,$i:IntakeInput){ bookCampaignSlot(campaignId:$c, slotId:$s, householdId:$h, intake:$i){ id status intake { channel filedBy { account } } } }`
	sv := func(h, person string) map[string]any {
		return map[string]any{"c": created.CreateServiceCampaign.ID, "s": slots.CampaignSlots[0].ID, "h": h, "i": phone(person)}
	}
	var v struct {
		BookCampaignSlot struct {
			Status string
			Intake *intakeView
		}
	}
	desk.ok(slot, sv(w.HA.ID, w.OwnerA.ID), &v)
	checkIntake("campaign booking", v.BookCampaignSlot.Intake, "PHONE")
	desk.fails("CONFLICT", slot, sv(w.HB.ID, w.OwnerB.ID))

	// A move: the lift taken by one household is taken for staff too.
	move := `mutation($in:BookMoveInput!,$i:IntakeInput){ bookMove(input:$in, intake:$i){ id intake { channel filedBy { account } } } }`
	var mv struct{ BookMove struct{ Intake *intakeView } }
	desk.ok(move, map[string]any{"in": moveInput(w.HA.ID, "09:00", "11:00", "1"), "i": phone(w.OwnerA.ID)}, &mv)
	checkIntake("move booking", mv.BookMove.Intake, "PHONE")
	desk.fails("CONFLICT", move, map[string]any{"in": moveInput(w.HB.ID, "10:00", "12:00", "1"), "i": phone(w.OwnerB.ID)})

	// Who may file, asked of all five the same way.
	ownerB := e.owner(w.OwnerB.Phone)
	cleaner := e.staff("x.cleaner", w.Password)
	eng := e.staff(w.engineerX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)
	repair := `mutation($in:SubmitRepairRequestInput!,$i:IntakeInput){ submitRepairRequest(input:$in, intake:$i){ id } }`
	filings := []struct {
		name  string
		query string
		vars  func(h, person string) map[string]any
	}{
		{"repair", repair, func(h, p string) map[string]any {
			return map[string]any{"in": map[string]any{"householdId": h, "category": "WATER", "description": "漏水", "inHome": true}, "i": phone(p)}
		}},
		{"complaint", complain, func(h, p string) map[string]any {
			return map[string]any{"in": map[string]any{"householdId": h, "category": "NOISE", "description": "噪音"}, "i": phone(p)}
		}},
		{"service", book, func(h, p string) map[string]any {
			return map[string]any{"in": map[string]any{"householdId": h, "itemId": w.cleaning, "slot": tuesday}, "i": phone(p)}
		}},
		{"campaign", slot, sv},
		{"move", move, func(h, p string) map[string]any {
			return map[string]any{"in": moveInput(h, "14:00", "15:00", "2"), "i": phone(p)}
		}},
	}
	residentVars := func(vars map[string]any) map[string]any { delete(vars, "i"); return vars }
	for _, f := range filings {
		// A resident naming another household: NOT_FOUND, as everywhere.
		ownerB.fails("NOT_FOUND", f.query, residentVars(f.vars(w.HA.ID, w.OwnerA.ID)))
		// A resident may not claim a hotline call for themselves.
		ownerB.fails("BAD_USER_INPUT", f.query, f.vars(w.HB.ID, w.OwnerB.ID))
		// Staff of another community: NOT_FOUND, as for any household they cannot see.
		supY.fails("NOT_FOUND", f.query, f.vars(w.HA.ID, w.OwnerA.ID))
		// Roles that do not file for residents.
		eng.fails("FORBIDDEN", f.query, f.vars(w.HA.ID, w.OwnerA.ID))
		cleaner.fails("FORBIDDEN", f.query, f.vars(w.HA.ID, w.OwnerA.ID))
		// Staff of the community for someone not of the household.
		desk.fails("BAD_USER_INPUT", f.query, f.vars(w.HA.ID, w.OwnerB.ID))
	}
}

// Items filed per channel (serviceKpis.filedByChannel): what the front desk
// and a butler filed under their intake channels, what residents filed in
// the app, and a lobby fault a cleaner reported (on site: VISIT), counted
// per channel and per kind; the weekly report says the same in a line.
func TestItemsFiledPerChannelInTheKPIs(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	desk := e.staffWithRole(w.world, "x.desk", access.CustomerService)
	sup := e.staff(w.supervisorX, w.Password)
	butler := e.staff(w.butlerX, w.Password)
	ownerB := e.owner(w.OwnerB.Phone)
	via := func(channel, person string) map[string]any {
		return map[string]any{"channel": channel, "personId": person}
	}
	repair := `mutation($in:SubmitRepairRequestInput!,$i:IntakeInput){ submitRepairRequest(input:$in, intake:$i){ id } }`
	leak := func(h string) map[string]any {
		return map[string]any{"householdId": h, "category": "WATER", "description": "厨房漏水", "inHome": true}
	}
	complain := `mutation($in:SubmitComplaintInput!,$i:IntakeInput){ submitComplaint(input:$in, intake:$i){ id } }`
	noise := func(h string) map[string]any {
		return map[string]any{"householdId": h, "category": "NOISE", "description": "楼上夜间装修噪音"}
	}
	book := `mutation($in:BookServiceInput!,$i:IntakeInput){ bookService(input:$in, intake:$i){ id } }`
	clean := func(h string) map[string]any {
		return map[string]any{"householdId": h, "itemId": w.cleaning, "slot": tuesday, "quantity": 2}
	}
	enquire := `mutation($in:RecordEnquiryInput!){ recordEnquiry(input:$in){ id } }`

	// Repairs: by phone at the desk, on a butler's visit, in the app, and a
	// lobby fault the cleaner found.
	desk.ok(repair, map[string]any{"in": leak(w.HB.ID), "i": via("PHONE", w.OwnerB.ID)}, nil)
	butler.ok(repair, map[string]any{"in": leak(w.HA.ID), "i": via("VISIT", w.OwnerA.ID)}, nil)
	ownerB.ok(repair, map[string]any{"in": leak(w.HB.ID)}, nil)
	e.staff("x.cleaner", w.Password).ok(submitPublicQ, publicInput(w.X.ID, "", "LOBBY", "1栋大堂", "大堂灯不亮"), nil)
	// Complaints, service orders, a campaign booking, a move and enquiries.
	desk.ok(complain, map[string]any{"in": noise(w.HA.ID), "i": via("PHONE", w.OwnerA.ID)}, nil)
	ownerB.ok(complain, map[string]any{"in": noise(w.HB.ID)}, nil)
	desk.ok(book, map[string]any{"in": clean(w.HA.ID), "i": via("DESK", w.OwnerA.ID)}, nil)
	ownerB.ok(book, map[string]any{"in": clean(w.HB.ID)}, nil)
	var created struct{ CreateServiceCampaign struct{ ID string } }
	sup.ok(`mutation($in:CreateServiceCampaignInput!){ createServiceCampaign(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "title": "燃气安全检查", "description": "免费上门检查燃气管道与灶具", "intervalMonths": 2,
		"visitDays": []any{map[string]any{"date": "2026-11-25", "slots": []any{map[string]any{"start": "09:00", "end": "11:00", "capacity": 5}}}}}}, &created)
	var slots struct{ CampaignSlots []struct{ ID string } }
	sup.ok(`query($id:ID!){ campaignSlots(campaignId:$id){ id } }`, map[string]any{"id": created.CreateServiceCampaign.ID}, &slots)
	desk.ok(`mutation($c:ID!,$s:ID!,$h:ID!,$i:IntakeInput){ bookCampaignSlot(campaignId:$c, slotId:$s, householdId:$h, intake:$i){ id } }`,
		map[string]any{"c": created.CreateServiceCampaign.ID, "s": slots.CampaignSlots[0].ID, "h": w.HA.ID, "i": via("PHONE", w.OwnerA.ID)}, nil)
	desk.ok(`mutation($in:BookMoveInput!,$i:IntakeInput){ bookMove(input:$in, intake:$i){ id } }`,
		map[string]any{"in": moveInput(w.HA.ID, "09:00", "11:00", "1"), "i": via("PHONE", w.OwnerA.ID)}, nil)
	desk.ok(enquire, map[string]any{"in": map[string]any{"communityId": w.X.ID, "askerName": "路过的访客", "channel": "DESK",
		"question": "小区外墙什么时候翻新？", "category": "FACILITIES"}}, nil)
	ownerB.ok(enquire, map[string]any{"in": map[string]any{"householdId": w.HB.ID, "question": "能不能在楼下加装充电桩？", "category": "FACILITIES"}}, nil)

	var k struct {
		ServiceKpis struct {
			FiledByChannel struct {
				Total     int
				ByChannel []filedCount
				ByKind    []struct {
					Kind      string
					Total     int
					ByChannel []filedCount
				}
			}
		}
	}
	now := e.Clock.Now()
	sup.ok(`query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ filedByChannel {
		total byChannel { channel count share { numerator denominator available } }
		byKind { kind total byChannel { channel count share { numerator denominator } } } } } }`,
		map[string]any{"c": w.X.ID, "f": now.Add(-time.Hour), "t": now.Add(time.Hour)}, &k)
	f := k.ServiceKpis.FiledByChannel
	got := map[string]string{"ALL": fmt.Sprint(f.Total, channelsOf(f.ByChannel, f.Total))}
	for _, kind := range f.ByKind {
		got[kind.Kind] = fmt.Sprint(kind.Total, channelsOf(kind.ByChannel, kind.Total))
	}
	// Each as total [PHONE DESK VISIT APP WECHAT].
	want := map[string]string{
		"ALL":              "12 [4 2 2 4 0]",
		"REPAIR":           "4 [1 0 2 1 0]",
		"COMPLAINT":        "2 [1 0 0 1 0]",
		"SERVICE_ORDER":    "2 [0 1 0 1 0]",
		"CAMPAIGN_BOOKING": "1 [1 0 0 0 0]",
		"MOVE_BOOKING":     "1 [1 0 0 0 0]",
		"ENQUIRY":          "2 [0 1 0 1 0]",
	}
	if !maps.Equal(got, want) || len(f.ByKind) != 6 || f.ByKind[0].Kind != "REPAIR" || !f.ByChannel[0].Share.Available {
		t.Fatalf("filed by channel = %v, want %v (%+v)", got, want, f)
	}

	var r struct{ WeeklyReport struct{ Summary string } }
	sup.ok(`query($c:ID!,$d:Date!){ weeklyReport(communityId:$c, weekOf:$d){ summary } }`,
		map[string]any{"c": w.X.ID, "d": now.In(shanghaiZone).Format(time.DateOnly)}, &r)
	line := "受理渠道（共12件）：电话4件（报修1、投诉1、免费服务预约1、搬家预约1），前台2件（服务订单1、咨询1），上门2件（报修2），APP4件（报修1、投诉1、服务订单1、咨询1），微信0件"
	if !strings.Contains(r.WeeklyReport.Summary, line) {
		t.Fatalf("weekly report lacks %q:\n%s", line, r.WeeklyReport.Summary)
	}
}

type filedCount struct {
	Channel string
	Count   int
	Share   kpiRatio
}

// channelsOf lists the counts, -1 for one out of channel order or whose
// share is not of total.
func channelsOf(cs []filedCount, total int) []int {
	out := []int{}
	for i, c := range cs {
		if i >= 5 || c.Channel != []string{"PHONE", "DESK", "VISIT", "APP", "WECHAT"}[i] || c.Share.Numerator != c.Count || c.Share.Denominator != total {
			out = append(out, -1)
			continue
		}
		out = append(out, c.Count)
	}
	return out
}
