package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
)

const campaignFields = `id title currentCycle bookingCloseTime status buildings { id }`

const visitFields = `id status cycle household { id } slot { id date start end } description photos repairRequestId recordedBy { account }`

type visitView struct {
	ID, Status      string
	Household       struct{ ID string }
	Slot            *struct{ ID, Date, Start, End string }
	Description     *string
	Photos          []string
	RepairRequestID *string
}

type slotView struct {
	ID, Date, Start, End        string
	Capacity, Booked, Remaining int
	Closed                      bool
}

// A gas-safety check through the API: a supervisor creates it, owners book
// (a full slot and a closed day are refused), the reminder arrives the
// evening before exactly once, staff record the visits, a problem becomes
// a repair request the owner follows, and coverage counts every household.
func TestGasCheckCampaign(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.ScheduleInterval = 100 * time.Millisecond })
	w := e.world()
	// A fourth household of X, in building 2 with C.
	ctx := context.Background()
	hd, err := e.App.Services.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: w.XB2.ID, Unit: "1", Room: "202"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: hd.ID,
		Person: &household.PersonInput{Name: "孙丽", Phone: "13900000005"}, Role: access.Owner}); err != nil {
		t.Fatal(err)
	}
	var sup, butler, eng, supY, ownerA, ownerB, ownerC, ownerD, ownerY *client
	// Access tokens live 15 minutes: everyone signs in again after the
	// clock jumps days ahead.
	signIn := func() {
		sup, butler, eng, supY = e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.staff(w.engineerX, w.Password), e.staff(w.supervisorY, w.Password)
		ownerA, ownerB, ownerC, ownerD, ownerY = e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner("13900000003"), e.owner("13900000005"), e.owner(w.OwnerY.Phone)
	}
	signIn()

	// Only a supervisor of the community creates it (the clock: 2026-11-22 18:00 in Shanghai).
	create := `mutation($in:CreateServiceCampaignInput!){ createServiceCampaign(input:$in){ ` + campaignFields + ` } }`
	in := map[string]any{"communityId": w.X.ID, "title": "燃气安全检查", "description": "每两个月一次，免费上门检查燃气管道与灶具",
		"intervalMonths": 2, "visitDays": []any{
			map[string]any{"date": "2026-11-25", "slots": []any{
				map[string]any{"start": "09:00", "end": "11:00", "capacity": 3},
				map[string]any{"start": "14:00", "end": "16:00", "capacity": 1}}},
			map[string]any{"date": "2026-11-26", "slots": []any{map[string]any{"start": "09:00", "end": "11:00", "capacity": 5}}},
		}}
	butler.fails("FORBIDDEN", create, map[string]any{"in": in})
	ownerA.fails("FORBIDDEN", create, map[string]any{"in": in})
	supY.fails("NOT_FOUND", create, map[string]any{"in": in})
	var created struct {
		CreateServiceCampaign struct {
			ID, Title, BookingCloseTime, Status string
			CurrentCycle                        int
		}
	}
	sup.ok(create, map[string]any{"in": in}, &created)
	x := created.CreateServiceCampaign
	if x.BookingCloseTime != "18:00" || x.CurrentCycle != 1 || x.Status != "ACTIVE" {
		t.Fatalf("created %+v", x)
	}

	// Owners of X see it and its slots; staff and owners of Y do not.
	list := `query($c:ID!){ serviceCampaigns(communityId:$c){ totalCount edges { node { id title } } } }`
	var campaigns struct {
		ServiceCampaigns struct{ TotalCount int }
	}
	ownerA.ok(list, map[string]any{"c": w.X.ID}, &campaigns)
	if campaigns.ServiceCampaigns.TotalCount != 1 {
		t.Fatalf("owner's campaigns %+v", campaigns)
	}
	ownerY.fails("NOT_FOUND", list, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", list, map[string]any{"c": w.X.ID})
	slotsQ := `query($id:ID!){ campaignSlots(campaignId:$id){ id date start end capacity booked remaining closed } }`
	slots := func(c *client) []slotView {
		var out struct{ CampaignSlots []slotView }
		c.ok(slotsQ, map[string]any{"id": x.ID}, &out)
		return out.CampaignSlots
	}
	ss := slots(ownerA)
	if len(ss) != 3 || ss[0].Start != "09:00" || ss[1].Start != "14:00" || ss[2].Date != "2026-11-26" || ss[1].Remaining != 1 {
		t.Fatalf("slots %+v", ss)
	}
	ownerY.fails("NOT_FOUND", slotsQ, map[string]any{"id": x.ID})
	supY.fails("NOT_FOUND", slotsQ, map[string]any{"id": x.ID})
	morning, afternoon, nextDay := ss[0].ID, ss[1].ID, ss[2].ID

	// Booking: one slot per household; a full slot names itself; another
	// slot moves the booking; nobody books for a neighbour.
	book := `mutation($c:ID!,$s:ID!,$h:ID!){ bookCampaignSlot(campaignId:$c, slotId:$s, householdId:$h){ ` + visitFields + ` } }`
	bookVars := func(slot, h string) map[string]any { return map[string]any{"c": x.ID, "s": slot, "h": h} }
	ownerA.ok(book, bookVars(afternoon, w.HA.ID), nil)
	r := ownerB.fails("CONFLICT", book, bookVars(afternoon, w.HB.ID))
	if !strings.Contains(r.Errors[0].Message, "2026-11-25 14:00-16:00 已约满") {
		t.Fatalf("full slot message %q", r.Errors[0].Message)
	}
	var booked struct{ BookCampaignSlot visitView }
	ownerA.ok(book, bookVars(morning, w.HA.ID), &booked)
	if booked.BookCampaignSlot.Status != "BOOKED" || booked.BookCampaignSlot.Slot.ID != morning {
		t.Fatalf("moved booking %+v", booked)
	}
	ownerB.ok(book, bookVars(afternoon, w.HB.ID), nil)
	// The owner app shows each household's booking with the campaign.
	var mineList struct {
		ServiceCampaigns struct {
			Edges []struct {
				Node struct{ MyVisits []visitView }
			}
		}
	}
	ownerA.ok(`query($c:ID!){ serviceCampaigns(communityId:$c){ edges { node { myVisits { `+visitFields+` } } } } }`, map[string]any{"c": w.X.ID}, &mineList)
	if mv := mineList.ServiceCampaigns.Edges[0].Node.MyVisits; len(mv) != 1 || mv[0].Household.ID != w.HA.ID || mv[0].Slot.ID != morning {
		t.Fatalf("my visits %+v", mv)
	}
	ownerA.fails("NOT_FOUND", book, bookVars(nextDay, w.HB.ID))
	ownerY.fails("NOT_FOUND", book, bookVars(nextDay, w.HY.ID))
	supY.fails("NOT_FOUND", book, bookVars(nextDay, w.HA.ID))
	if ss := slots(butler); ss[0].Booked != 1 || ss[1].Remaining != 0 {
		t.Fatalf("after booking %+v", ss)
	}

	// Booking for the 25th closes at 18:00 on the 24th, Shanghai time.
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	e.Clock.Set(time.Date(2026, 11, 24, 17, 50, 0, 0, shanghai))
	signIn()
	e.Clock.Set(time.Date(2026, 11, 24, 17, 59, 59, 0, shanghai))
	ownerD.ok(book, bookVars(morning, hd.ID), nil)
	e.Clock.Set(time.Date(2026, 11, 24, 18, 0, 0, 0, shanghai))
	r = ownerC.fails("CONFLICT", book, bookVars(morning, w.HC.ID))
	if !strings.Contains(r.Errors[0].Message, "2026-11-25 09:00-11:00 的预约已于 2026-11-24 18:00 截止") {
		t.Fatalf("closed message %q", r.Errors[0].Message)
	}
	ownerD.fails("CONFLICT", book, bookVars(nextDay, hd.ID)) // a booking on a closed day stays
	if ss := slots(ownerA); !ss[0].Closed || ss[2].Closed {
		t.Fatalf("closed flags %+v", ss)
	}

	// The reminder: the schedules loop ticks, and so do we, twice.
	for range 2 {
		if err := e.App.Services.FreeServices.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	reminders := func(c *client) int {
		n := 0
		for _, ed := range c.inbox().Notifications.Edges {
			if ed.Node.Kind == "SERVICE_ORDER_PROGRESS" && strings.Contains(ed.Node.Body, "燃气安全检查") {
				n++
			}
		}
		return n
	}
	waitFor(t, "the reminders", func() bool { return reminders(ownerA) == 1 && reminders(ownerB) == 1 && reminders(ownerD) == 1 })
	time.Sleep(300 * time.Millisecond) // the loop ticks a few more times
	for name, c := range map[string]*client{"A": ownerA, "B": ownerB, "D": ownerD, "C (not booked)": ownerC, "Y": ownerY} {
		want := 1
		if name == "C (not booked)" || name == "Y" {
			want = 0
		}
		if n := reminders(c); n != want {
			t.Errorf("owner %s reminded %d times, want %d", name, n, want)
		}
	}
	for _, ed := range ownerA.inbox().Notifications.Edges {
		if ed.Node.Kind == "SERVICE_ORDER_PROGRESS" && ed.Node.Title != "服务进度：明日上门" {
			t.Errorf("reminder title %q", ed.Node.Title)
		}
	}

	// The visit day: a gas leak at A becomes a repair request; B is done.
	e.Clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai))
	signIn()
	record := `mutation($in:RecordCampaignVisitInput!){ recordCampaignVisit(input:$in){ ` + visitFields + ` } }`
	problem := map[string]any{"campaignId": x.ID, "householdId": w.HA.ID, "result": "PROBLEM_FOUND", "description": "灶具软管老化，接口处有轻微漏气",
		"repairCategory": "GAS", "urgency": "URGENT", "photos": []any{nil}}
	noPhoto := map[string]any{}
	for k, v := range problem {
		if k != "photos" {
			noPhoto[k] = v
		}
	}
	ownerA.fails("FORBIDDEN", record, map[string]any{"in": noPhoto})
	supY.fails("NOT_FOUND", record, map[string]any{"in": noPhoto})
	r = eng.multipart(record, map[string]any{"in": problem}, map[string][]byte{"variables.in.photos.0": pngBytes})
	if len(r.Errors) > 0 {
		t.Fatalf("record problem: %+v", r.Errors)
	}
	var rec struct{ RecordCampaignVisit visitView }
	if err := json.Unmarshal(r.Data, &rec); err != nil {
		t.Fatal(err)
	}
	v := rec.RecordCampaignVisit
	if v.Status != "PROBLEM_FOUND" || v.RepairRequestID == nil || len(v.Photos) != 1 {
		t.Fatalf("problem visit %+v", v)
	}
	eng.ok(record, map[string]any{"in": map[string]any{"campaignId": x.ID, "householdId": w.HB.ID, "result": "DONE"}}, nil)

	// The owner follows the repair request like one of their own.
	var repair struct {
		RepairRequest struct {
			ID, Status, Category, Urgency, Description string
			Household                                  struct{ ID string }
			FiledBy                                    struct{ Account string }
			Source                                     string
			Photos                                     []string
		}
	}
	repairQ := `query($id:ID!){ repairRequest(id:$id){ id status category urgency description household { id } filedBy { account } source photos } }`
	ownerA.ok(repairQ, map[string]any{"id": *v.RepairRequestID}, &repair)
	rr := repair.RepairRequest
	if rr.Status != "SUBMITTED" || rr.Category != "GAS" || rr.Urgency != "URGENT" || rr.Household.ID != w.HA.ID ||
		rr.FiledBy.Account != w.engineerX || !strings.HasPrefix(rr.Source, "freeservice-visit:") || !strings.Contains(rr.Description, "漏气") {
		t.Fatalf("repair request %+v", rr)
	}
	for name, c := range map[string]*client{"the owner": ownerA, "the engineer who found it": eng, "the butler": butler} {
		if status, _, _ := c.get(rr.Photos[0]); status != 200 {
			t.Fatalf("%s cannot see the photo: %d", name, status)
		}
	}
	if status, _, _ := ownerB.get(rr.Photos[0]); status != 404 {
		t.Fatalf("a neighbour sees the photo: %d", status)
	}
	var mine struct {
		MyRepairRequests struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	ownerA.ok(`{ myRepairRequests { edges { node { id } } } }`, nil, &mine)
	if len(mine.MyRepairRequests.Edges) != 1 || mine.MyRepairRequests.Edges[0].Node.ID != rr.ID {
		t.Fatalf("my repair requests %+v", mine)
	}
	ownerB.fails("NOT_FOUND", repairQ, map[string]any{"id": rr.ID})
	butler.ok(repairQ, map[string]any{"id": rr.ID}, nil) // in the community's queue

	// Coverage: A problem, B done, D booked, C not reached.
	coverage := `query($id:ID!,$after:String){ campaignCoverage(campaignId:$id, first:3, after:$after){ cycle totalCount counts { status count }
	  edges { cursor node { status household { id } visit { status repairRequestId } } } pageInfo { hasNextPage endCursor } } }`
	type coverageView struct {
		CampaignCoverage struct {
			Cycle, TotalCount int
			Counts            []struct {
				Status string
				Count  int
			}
			Edges []struct {
				Node struct {
					Status    string
					Household struct{ ID string }
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	var page1, page2 coverageView
	sup.ok(coverage, map[string]any{"id": x.ID}, &page1)
	butler.ok(coverage, map[string]any{"id": x.ID, "after": page1.CampaignCoverage.PageInfo.EndCursor}, &page2)
	counts := map[string]int{}
	for _, c := range page1.CampaignCoverage.Counts {
		counts[c.Status] = c.Count
	}
	if page1.CampaignCoverage.TotalCount != 4 || counts["PROBLEM_FOUND"] != 1 || counts["DONE"] != 1 || counts["BOOKED"] != 1 ||
		counts["NOT_REACHED"] != 1 || counts["NOT_HOME"] != 0 || !page1.CampaignCoverage.PageInfo.HasNextPage {
		t.Fatalf("coverage %+v", page1)
	}
	byHousehold := map[string]string{}
	for _, ed := range append(page1.CampaignCoverage.Edges, page2.CampaignCoverage.Edges...) {
		byHousehold[ed.Node.Household.ID] = ed.Node.Status
	}
	want := map[string]string{w.HA.ID: "PROBLEM_FOUND", w.HB.ID: "DONE", w.HC.ID: "NOT_REACHED", hd.ID: "BOOKED"}
	for h, st := range want {
		if byHousehold[h] != st {
			t.Errorf("household %s: %s, want %s", h, byHousehold[h], st)
		}
	}
	if len(byHousehold) != 4 || page2.CampaignCoverage.PageInfo.HasNextPage {
		t.Fatalf("coverage pages %v", byHousehold)
	}
	ownerA.fails("FORBIDDEN", coverage, map[string]any{"id": x.ID})
	supY.fails("NOT_FOUND", coverage, map[string]any{"id": x.ID})
	ownerY.fails("NOT_FOUND", coverage, map[string]any{"id": x.ID})
}
