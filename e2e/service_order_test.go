package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/identity"
	"qinqing/internal/platform/config"
	"qinqing/internal/staff"
)

const (
	soFields = `id status quantity notes line { itemId name priceFen unit free } slot { date from to start }
  handler { account } assignee { account } extras { name amountFen } charges { free baseFen extrasFen totalFen }
  payment { status reason by { account } } acceptance { rating comment } callback { satisfied notes }
  laundry { discrepancy promisedReturnDate items { type count returnedCount missing newlyDamaged condition { stains } } }
  timeline { action from to }`
	soUpsert  = `mutation($in:ServiceItemInput!){ upsertServiceItem(input:$in){ id name priceFen unit free status priceHistory { oldPriceFen newPriceFen by { account } } } }`
	soBook    = `mutation($in:BookServiceInput!){ bookService(input:$in){ ` + soFields + ` } }`
	soConfirm = `mutation($id:ID!,$a:ID!){ confirmServiceOrder(id:$id, assigneeId:$a){ ` + soFields + ` } }`
	soGet     = `query($id:ID!){ serviceOrder(id:$id){ ` + soFields + ` } }`
)

type soOrder struct {
	ID, Status, Notes string
	Quantity          float64
	Line              struct {
		ItemID, Name, Unit string
		PriceFen           int
		Free               bool
	}
	Slot     *struct{ Date, From, To, Start string }
	Handler  *struct{ Account string }
	Assignee *struct{ Account string }
	Extras   []struct {
		Name      string
		AmountFen int
	}
	Charges struct {
		Free                         bool
		BaseFen, ExtrasFen, TotalFen int
	}
	Payment struct {
		Status, Reason string
		By             *struct{ Account string }
	}
	Acceptance *struct {
		Rating  int
		Comment string
	}
	Callback *struct {
		Satisfied bool
		Notes     string
	}
	Laundry *struct {
		Discrepancy        bool
		PromisedReturnDate string
		Items              []struct {
			Type           string
			Count, Missing int
			ReturnedCount  *int
			NewlyDamaged   bool
			Condition      struct{ Stains bool }
		}
	}
	Timeline []struct{ Action, From, To string }
}

// decodeOrder reads the order under the response's one root field.
func decodeOrder(t *testing.T, r *gqlResponse, field string) soOrder {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	var m map[string]soOrder
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatalf("decode %s: %v (%s)", field, err, r.Data)
	}
	return m[field]
}

// soWorld is the estate plus a cleaner of X and the items of X's price list.
type soWorld struct {
	*world
	cleanerID, cleaning, laundry string
}

// weekdays is every working day, 08:00-18:00.
var weekdays = []map[string]any{{"weekdays": []int{1, 2, 3, 4, 5}, "from": "08:00", "to": "18:00"}}

// tuesday is a slot two days after the test clock's Sunday.
var tuesday = map[string]any{"date": "2026-11-24", "from": "09:00", "to": "11:00"}

func (e *env) soWorld() *soWorld {
	e.t.Helper()
	w := &soWorld{world: e.world()}
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := e.App.Services.Staff.Upsert(context.Background(), &staff.Staff{Account: "x.cleaner", Name: "保洁员小刘", PasswordHash: hash,
		Roles: []access.Role{access.Cleaner}, CommunityIDs: []string{w.X.ID}})
	if err != nil {
		e.t.Fatal(err)
	}
	w.cleanerID = st.ID
	sup := e.staff(w.supervisorX, w.Password)
	var out struct{ UpsertServiceItem struct{ ID string } }
	sup.ok(soUpsert, map[string]any{"in": map[string]any{"communityId": w.X.ID, "name": "日常保洁", "category": "HOME_CLEANING",
		"priceFen": 5000, "unit": "PER_HOUR", "free": false, "windows": weekdays}}, &out)
	w.cleaning = out.UpsertServiceItem.ID
	sup.ok(soUpsert, map[string]any{"in": map[string]any{"communityId": w.X.ID, "name": "洗衣", "category": "LAUNDRY",
		"priceFen": 800, "unit": "PER_ITEM", "free": false, "windows": weekdays}}, &out)
	w.laundry = out.UpsertServiceItem.ID
	return w
}

func kindsIn(c *client) map[string][]string {
	m := map[string][]string{}
	for _, ed := range c.inbox().Notifications.Edges {
		m[ed.Node.Kind] = append(m[ed.Node.Kind], ed.Node.Title+" "+ed.Node.Body)
	}
	return m
}

// An owner books; staff confirm, start and complete with extras and record
// payment at the counter; the owner accepts with a rating; a butler calls
// back. Every owner-visible step reaches the owner's inbox.
func TestServiceOrderFlow(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	cleaner := e.staff("x.cleaner", w.Password)

	var cat struct {
		ServiceCatalog []struct {
			Name         string
			PriceFen     int
			PriceHistory []struct{ NewPriceFen int }
		}
	}
	owner.ok(`query($c:ID!){ serviceCatalog(communityId:$c){ name priceFen priceHistory { newPriceFen } } }`, map[string]any{"c": w.X.ID}, &cat)
	if len(cat.ServiceCatalog) != 2 || cat.ServiceCatalog[0].Name != "日常保洁" || cat.ServiceCatalog[0].PriceHistory != nil {
		t.Fatalf("the owner's price list: %+v", cat)
	}

	o := decodeOrder(t, owner.do(soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning,
		"slot": tuesday, "quantity": 2, "notes": "请带吸尘器"}}), "bookService")
	if o.Status != "BOOKED" || o.Charges.BaseFen != 10000 || o.Slot.Start != "2026-11-24T09:00:00+08:00" || o.Payment.Status != "UNPAID" {
		t.Fatalf("booked: %+v", o)
	}
	id := map[string]any{"id": o.ID}
	o = decodeOrder(t, butler.do(soConfirm, map[string]any{"id": o.ID, "a": w.cleanerID}), "confirmServiceOrder")
	if o.Status != "CONFIRMED" || o.Handler.Account != w.butlerX || o.Assignee.Account != "x.cleaner" {
		t.Fatalf("confirmed: %+v", o)
	}
	cleaner.ok(`mutation($id:ID!){ startServiceOrder(id:$id){ id } }`, id, nil)
	o = decodeOrder(t, cleaner.do(`mutation($id:ID!){ completeServiceOrder(id:$id, input:{extras:[{name:"清洁剂", amountFen:1500}], notes:"厨房重油污"}){ `+soFields+` } }`, id), "completeServiceOrder")
	if o.Status != "DONE" || o.Charges.TotalFen != 11500 || o.Charges.ExtrasFen != 1500 {
		t.Fatalf("done: %+v", o.Charges)
	}
	butler.ok(`mutation($id:ID!){ setOrderPayment(id:$id, status:PAID_AT_COUNTER){ id } }`, id, nil)
	o = decodeOrder(t, owner.do(`mutation($id:ID!){ acceptServiceOrder(id:$id, rating:5, comment:"很干净"){ `+soFields+` } }`, id), "acceptServiceOrder")
	if o.Status != "ACCEPTED" || o.Acceptance.Rating != 5 || o.Payment.Status != "PAID_AT_COUNTER" || o.Payment.By.Account != w.butlerX {
		t.Fatalf("accepted: %+v", o)
	}
	o = decodeOrder(t, butler.do(`mutation($id:ID!){ recordServiceCallback(id:$id, satisfied:true, notes:"业主满意"){ `+soFields+` } }`, id), "recordServiceCallback")
	if o.Status != "CALLED_BACK" || !o.Callback.Satisfied || len(o.Timeline) != 7 {
		t.Fatalf("called back: %+v", o)
	}

	// Confirm, start, complete, payment and callback are progress notices to
	// the owner; the owner's own steps are not echoed back.
	waitFor(t, "the owner's progress notices", func() bool { return len(kindsIn(owner)["SERVICE_ORDER_PROGRESS"]) == 5 })
	got := strings.Join(kindsIn(owner)["SERVICE_ORDER_PROGRESS"], "\n")
	for _, want := range []string{"服务进度：已确认", "服务进度：服务中", "服务进度：待确认", "服务进度：费用已更新", "服务进度：已回访", "您的服务订单「日常保洁」"} {
		if !strings.Contains(got, want) {
			t.Errorf("the owner's notices lack %q:\n%s", want, got)
		}
	}
	// The neighbour hears nothing.
	if n := len(kindsIn(e.owner(w.OwnerB.Phone))["SERVICE_ORDER_PROGRESS"]); n != 0 {
		t.Fatalf("the neighbour got %d notices", n)
	}
	// A free cleaning granted by the renovation service is news to the owner too.
	if _, err := e.App.Services.ServiceOrders.CreateFreeCleaning(context.Background(), w.HA.ID, "renovation:flow", "装修完工"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the granted cleaning's notice", func() bool {
		n := kindsIn(owner)["SERVICE_ORDER_PROGRESS"]
		return len(n) == 6 && strings.Contains(strings.Join(n, "\n"), "「装修完工免费保洁」已为您创建")
	})
	// The butler who confirmed it was told a callback was owed when the owner accepted.
	waitFor(t, "the callback-due notice", func() bool {
		due := kindsIn(butler)["CALLBACK_DUE"]
		return len(due) == 1 && strings.Contains(due[0], "服务订单「日常保洁」")
	})
}

// An owner who accepts without rating is asked to rate after the delay,
// through the app's reminders, exactly as for repairs; then rates once.
func TestServiceOrderRatePrompt(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.ScheduleInterval, c.OutboxInterval = 200*time.Millisecond, 100*time.Millisecond
		c.RatePromptAfter, c.CallbackDueAfter, c.CallbackOverdue = 2*time.Hour, 24*time.Hour, 72*time.Hour
	})
	w := e.soWorld()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	o := decodeOrder(t, owner.do(soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning, "slot": tuesday, "quantity": 1}}), "bookService")
	id := map[string]any{"id": o.ID}
	butler.ok(soConfirm, map[string]any{"id": o.ID, "a": w.cleanerID}, nil)
	butler.ok(`mutation($id:ID!){ startServiceOrder(id:$id){ id } }`, id, nil)
	butler.ok(`mutation($id:ID!){ completeServiceOrder(id:$id){ id } }`, id, nil)
	o = decodeOrder(t, owner.do(`mutation($id:ID!){ acceptServiceOrder(id:$id){ `+soFields+` } }`, id), "acceptServiceOrder")
	if o.Status != "ACCEPTED" || o.Acceptance.Rating != 0 {
		t.Fatalf("accepted without rating: %+v", o)
	}
	time.Sleep(400 * time.Millisecond) // ticks before the delay send nothing
	if n := len(kindsIn(owner)["CALLBACK_PROMPT"]); n != 0 {
		t.Fatalf("prompted %d times before the delay", n)
	}
	e.Clock.Advance(2*time.Hour + time.Minute)
	owner = e.owner(w.OwnerA.Phone)
	waitFor(t, "the rating prompt", func() bool {
		p := kindsIn(owner)["CALLBACK_PROMPT"]
		return len(p) == 1 && strings.Contains(p[0], "您的服务订单「日常保洁」已完成")
	})
	owner.ok(`mutation($id:ID!){ rateServiceOrder(id:$id, rating:4, comment:"不错"){ id } }`, id, nil)
	owner.fails("CONFLICT", `mutation($id:ID!){ rateServiceOrder(id:$id, rating:5){ id } }`, id)
	time.Sleep(400 * time.Millisecond)
	if n := len(kindsIn(owner)["CALLBACK_PROMPT"]); n != 1 {
		t.Fatalf("prompted %d times", n)
	}
}

// A laundry order with a missing item on return is flagged on the order and
// the community's supervisor is told; other communities' are not.
func TestLaundryMissingItemFlagsDiscrepancy(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	owner := e.owner(w.OwnerA.Phone)
	butler := e.staff(w.butlerX, w.Password)
	cleaner := e.staff("x.cleaner", w.Password)
	o := decodeOrder(t, owner.do(soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": w.laundry, "slot": tuesday,
		"laundryItems": []map[string]any{{"type": "衬衫", "count": 3}, {"type": "羽绒服", "count": 1, "stains": true, "note": "袖口油渍"}}}}), "bookService")
	if o.Quantity != 4 || o.Charges.BaseFen != 3200 || len(o.Laundry.Items) != 2 || !o.Laundry.Items[1].Condition.Stains {
		t.Fatalf("booked laundry: %+v", o)
	}
	id := map[string]any{"id": o.ID}
	butler.ok(soConfirm, map[string]any{"id": o.ID, "a": w.cleanerID}, nil)
	r := cleaner.fails("BAD_USER_INPUT", `mutation($id:ID!){ startServiceOrder(id:$id){ id } }`, id)
	if r.field() != "laundry.promisedReturnDate" {
		t.Fatalf("pick-up without a return date: field %q", r.field())
	}
	cleaner.ok(`mutation($id:ID!){ startServiceOrder(id:$id, laundry:{promisedReturnDate:"2026-11-26"}){ id } }`, id, nil)
	cleaner.fails("CONFLICT", `mutation($id:ID!){ completeServiceOrder(id:$id){ id } }`, id)
	o = decodeOrder(t, cleaner.do(`mutation($id:ID!){ recordLaundryReturn(id:$id, items:[{index:0, returnedCount:2},{index:1, returnedCount:1, stains:true}], note:"少一件"){ `+soFields+` } }`, id), "recordLaundryReturn")
	if !o.Laundry.Discrepancy || o.Laundry.Items[0].Missing != 1 || *o.Laundry.Items[0].ReturnedCount != 2 || o.Laundry.Items[1].NewlyDamaged || o.Laundry.PromisedReturnDate != "2026-11-26" {
		t.Fatalf("returned: %+v", o.Laundry)
	}
	sup := e.staff(w.supervisorX, w.Password)
	waitFor(t, "the supervisor's discrepancy notice", func() bool {
		n := kindsIn(sup)["SERVICE_ORDER_PROGRESS"]
		return len(n) == 1 && strings.Contains(n[0], "洗衣异常") && strings.Contains(n[0], "衬衫少1件")
	})
	if n := len(kindsIn(e.staff(w.supervisorY, w.Password))["SERVICE_ORDER_PROGRESS"]); n != 0 {
		t.Fatalf("community Y's supervisor got %d notices", n)
	}
	// Visible on the order to the owner too.
	o = decodeOrder(t, owner.do(soGet, id), "serviceOrder")
	if !o.Laundry.Discrepancy {
		t.Fatal("the owner does not see the discrepancy")
	}
}

// Owners book only for their own household; butlers do not edit prices or
// waive; staff of community Y see nothing of community X.
func TestServiceOrderPermissions(t *testing.T) {
	e := newEnv(t)
	w := e.soWorld()
	owner := e.owner(w.OwnerA.Phone)
	neighbour := e.owner(w.OwnerB.Phone)
	ownerY := e.owner(w.OwnerY.Phone)
	butler := e.staff(w.butlerX, w.Password)
	sup := e.staff(w.supervisorX, w.Password)
	supY := e.staff(w.supervisorY, w.Password)

	book := map[string]any{"in": map[string]any{"householdId": w.HB.ID, "itemId": w.cleaning, "slot": tuesday, "quantity": 1}}
	owner.fails("NOT_FOUND", soBook, book)
	butler.fails("FORBIDDEN", soBook, book)
	r := owner.fails("BAD_USER_INPUT", soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning,
		"slot": map[string]any{"date": "2026-11-28", "from": "09:00", "to": "11:00"}, "quantity": 1}})
	if r.field() != "input.slot" {
		t.Fatalf("a Saturday: field %q", r.field())
	}
	o := decodeOrder(t, owner.do(soBook, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "itemId": w.cleaning, "slot": tuesday, "quantity": 1}}), "bookService")
	id := map[string]any{"id": o.ID}

	// Prices: supervisors of the community only.
	edit := map[string]any{"in": map[string]any{"id": w.cleaning, "communityId": w.X.ID, "name": "日常保洁", "category": "HOME_CLEANING",
		"priceFen": 1, "unit": "PER_HOUR", "free": false, "windows": weekdays}}
	butler.fails("FORBIDDEN", soUpsert, edit)
	butler.fails("FORBIDDEN", `mutation($id:ID!){ retireServiceItem(id:$id){ id } }`, map[string]any{"id": w.cleaning})
	supY.fails("NOT_FOUND", soUpsert, edit)
	r = sup.fails("BAD_USER_INPUT", soUpsert, map[string]any{"in": map[string]any{"communityId": w.X.ID, "name": "x", "category": "OTHER",
		"priceFen": 100, "unit": "PER_VISIT", "free": false, "windows": []map[string]any{{"weekdays": []int{0}, "from": "08:00", "to": "09:00"}}}})
	if r.field() != "input.windows.0.weekdays" {
		t.Fatalf("bad weekday: field %q", r.field())
	}
	var changed struct {
		UpsertServiceItem struct {
			PriceFen     int
			PriceHistory []struct {
				OldPriceFen *int
				NewPriceFen int
				By          struct{ Account string }
			}
		}
	}
	edit["in"].(map[string]any)["priceFen"] = 6000
	sup.ok(soUpsert, edit, &changed)
	if h := changed.UpsertServiceItem.PriceHistory; len(h) != 2 || *h[1].OldPriceFen != 5000 || h[1].NewPriceFen != 6000 || h[1].By.Account != w.supervisorX {
		t.Fatalf("history: %+v", h)
	}
	if got := decodeOrder(t, owner.do(soGet, id), "serviceOrder"); got.Line.PriceFen != 5000 || got.Charges.TotalFen != 5000 {
		t.Fatalf("the booked order changed with the price: %+v", got.Line)
	}

	// Waiving: supervisors only.
	butler.ok(soConfirm, map[string]any{"id": o.ID, "a": w.cleanerID}, nil)
	owner.fails("CONFLICT", `mutation($id:ID!){ cancelServiceOrder(id:$id){ id } }`, id)
	butler.ok(`mutation($id:ID!){ startServiceOrder(id:$id){ id } }`, id, nil)
	butler.ok(`mutation($id:ID!){ completeServiceOrder(id:$id){ id } }`, id, nil)
	butler.fails("FORBIDDEN", `mutation($id:ID!){ setOrderPayment(id:$id, status:WAIVED, reason:"困难家庭"){ id } }`, id)
	o = decodeOrder(t, sup.do(`mutation($id:ID!){ setOrderPayment(id:$id, status:WAIVED, reason:"困难家庭"){ `+soFields+` } }`, id), "setOrderPayment")
	if o.Payment.Status != "WAIVED" || o.Payment.Reason != "困难家庭" {
		t.Fatalf("waived: %+v", o.Payment)
	}

	// Community Y's staff and residents see nothing of X.
	supY.fails("NOT_FOUND", soGet, id)
	supY.fails("NOT_FOUND", `query($c:ID!){ serviceOrders(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", `query($c:ID!){ serviceOrderCounts(communityId:$c){ count } }`, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", `query($c:ID!){ serviceCatalog(communityId:$c){ id } }`, map[string]any{"c": w.X.ID})
	ownerY.fails("NOT_FOUND", soGet, id)
	ownerY.fails("NOT_FOUND", `query($c:ID!){ serviceCatalog(communityId:$c){ id } }`, map[string]any{"c": w.X.ID})
	neighbour.fails("NOT_FOUND", soGet, id)
	neighbour.fails("NOT_FOUND", `query($h:ID){ myServiceOrders(householdId:$h){ totalCount } }`, map[string]any{"h": w.HA.ID})

	// The lists: the owner's own, the community's for its staff.
	var mine struct {
		MyServiceOrders struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	owner.ok(`{ myServiceOrders { totalCount edges { node { id } } } }`, nil, &mine)
	if len(mine.MyServiceOrders.Edges) != 1 || mine.MyServiceOrders.Edges[0].Node.ID != o.ID {
		t.Fatalf("mine: %+v", mine)
	}
	neighbour.ok(`{ myServiceOrders { totalCount edges { node { id } } } }`, nil, &mine)
	if len(mine.MyServiceOrders.Edges) != 0 {
		t.Fatalf("the neighbour's: %+v", mine)
	}
	var list struct {
		ServiceOrders struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Status string } }
		}
		ServiceOrderCounts []struct {
			Status string
			Count  int
		}
	}
	butler.ok(`query($c:ID!){ serviceOrders(communityId:$c, status:DONE, category:HOME_CLEANING){ totalCount edges { node { id status } } }
	  serviceOrderCounts(communityId:$c){ status count } }`, map[string]any{"c": w.X.ID}, &list)
	if list.ServiceOrders.TotalCount != 1 || list.ServiceOrders.Edges[0].Node.ID != o.ID {
		t.Fatalf("staff list: %+v", list.ServiceOrders)
	}
	for _, c := range list.ServiceOrderCounts {
		if (c.Status == "DONE") != (c.Count == 1) {
			t.Fatalf("counts: %+v", list.ServiceOrderCounts)
		}
	}
}
