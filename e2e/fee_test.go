package e2e

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
)

const (
	feeItemQ = `mutation($c:ID!,$in:FeeItemInput!){ upsertFeeItem(communityId:$c, input:$in){ id itemId version rate } }`
	genQ     = `mutation($c:ID!,$p:String!,$d:Date!){ generateBills(communityId:$c, period:$p, dueDate:$d){ households created alreadyPresent skipped skippedLabels } }`
	billQ    = `query($id:ID!){ bill(id:$id){ id householdId amount status outstanding lines { code kind quantity unitPrice amount itemVersion } } }`
)

type genResult struct {
	Households, Created, AlreadyPresent, Skipped int
	SkippedLabels                                []string
}

type feeBill struct {
	ID, HouseholdID, Status string
	Amount, Outstanding     int64
	Lines                   []struct {
		Code, Kind, Quantity string
		UnitPrice, Amount    int64
		ItemVersion          int
	}
}

func setArea(t *testing.T, e *env, h *household.Household, area float64) {
	t.Helper()
	if _, err := e.DB.Collection("households").UpdateByID(context.Background(), h.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "floorArea", Value: area}}}}); err != nil {
		t.Fatal(err)
	}
}

func genBills(sup *client, community, period string) genResult {
	var out struct{ GenerateBills genResult }
	sup.ok(genQ, map[string]any{"c": community, "p": period, "d": "2026-11-30"}, &out)
	return out.GenerateBills
}

func billOf(c *client, id string) feeBill {
	var out struct{ Bill feeBill }
	c.ok(billQ, map[string]any{"id": id}, &out)
	return out.Bill
}

// The schedule's versions, validation naming fields, idempotent billing
// (twice, then a household fixed later), a rate change after issue that
// leaves issued bills alone, and shared charges that sum exactly.
func TestFeeScheduleAndBilling(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup := e.staff(w.supervisorX, w.Password)
	var bt struct{ SetBuildingType struct{ Type string } }
	sup.ok(`mutation($b:ID!){ setBuildingType(buildingId:$b, type:HIGH_RISE){ type } }`, map[string]any{"b": w.XB1.ID}, &bt)
	if bt.SetBuildingType.Type != "HIGH_RISE" {
		t.Fatalf("building type %q", bt.SetBuildingType.Type)
	}
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", `mutation($b:ID!){ setBuildingType(buildingId:$b, type:VILLA){ type } }`, map[string]any{"b": w.XB1.ID})

	for _, tc := range []struct {
		field string
		in    map[string]any
	}{
		{"input.rate", map[string]any{"code": "M", "kind": "MANAGEMENT", "name": "物业费", "rate": -1, "effectiveFrom": "2026-11"}},
		{"input.rate", map[string]any{"code": "M", "kind": "MANAGEMENT", "name": "物业费", "rate": 20000000, "effectiveFrom": "2026-11"}},
		{"input.effectiveFrom", map[string]any{"code": "M", "kind": "MANAGEMENT", "name": "物业费", "rate": 1, "effectiveFrom": "2026-13"}},
		{"input.apportion", map[string]any{"code": "W", "kind": "SHARED_WATER", "name": "公摊水费", "rate": 0, "effectiveFrom": "2026-11"}},
		{"input.code", map[string]any{"code": "bad code", "kind": "OTHER", "name": "x", "rate": 0, "effectiveFrom": "2026-11"}},
		{"input.name", map[string]any{"code": "X", "kind": "OTHER", "name": "", "rate": 0, "effectiveFrom": "2026-11"}},
	} {
		if r := sup.fails("BAD_USER_INPUT", feeItemQ, map[string]any{"c": w.X.ID, "in": tc.in}); r.field() != tc.field {
			t.Errorf("%v: field %q, want %q", tc.in, r.field(), tc.field)
		}
	}
	e.staff(w.engineerX, w.Password).fails("FORBIDDEN", feeItemQ, map[string]any{"c": w.X.ID,
		"in": map[string]any{"code": "M", "kind": "MANAGEMENT", "name": "物业费", "rate": 200, "effectiveFrom": "2026-11"}})

	var mg struct {
		UpsertFeeItem struct {
			ItemID  string
			Version int
		}
	}
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "MGMT", "kind": "MANAGEMENT", "name": "物业管理费", "rate": 200,
		"ratesByBuildingType": []any{map[string]any{"buildingType": "HIGH_RISE", "rate": 250}}, "effectiveFrom": "2026-11"}}, &mg)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "垃圾清运费", "rate": 1000, "effectiveFrom": "2026-11"}}, nil)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "ELEC", "kind": "SHARED_ELECTRICITY", "name": "公摊电费", "rate": 0, "apportion": "BY_AREA", "effectiveFrom": "2026-11"}}, nil)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "WATER", "kind": "SHARED_WATER", "name": "公摊水费", "rate": 0, "apportion": "EQUALLY", "effectiveFrom": "2026-11"}}, nil)

	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "PARK", "kind": "PARKING", "name": "车位管理费", "rate": 8000, "effectiveFrom": "2026-11"}}, nil)
	spaceQ := `mutation($c:ID!,$s:String!,$h:ID!){ assignParkingSpace(communityId:$c, code:$s, householdId:$h){ code householdId } }`
	for _, code := range []string{"B1-001", "B1-002"} {
		sup.ok(spaceQ, map[string]any{"c": w.X.ID, "s": code, "h": w.HA.ID}, nil)
	}
	if r := sup.fails("CONFLICT", spaceQ, map[string]any{"c": w.X.ID, "s": "B1-001", "h": w.HB.ID}); r.field() != "code" {
		t.Errorf("space conflict names %q", r.field())
	}
	sup.fails("NOT_FOUND", spaceQ, map[string]any{"c": w.X.ID, "s": "B1-003", "h": w.HY.ID})
	relQ := `mutation($c:ID!,$s:String!){ releaseParkingSpace(communityId:$c, code:$s){ householdId } }`
	sup.ok(relQ, map[string]any{"c": w.X.ID, "s": "B1-002"}, nil)
	sup.ok(spaceQ, map[string]any{"c": w.X.ID, "s": "B1-002", "h": w.HB.ID}, nil)
	sup.ok(relQ, map[string]any{"c": w.X.ID, "s": "B1-002"}, nil)
	sup.ok(spaceQ, map[string]any{"c": w.X.ID, "s": "B1-002", "h": w.HA.ID}, nil)
	setArea(t, e, w.HA, 89.5)
	setArea(t, e, w.HB, 100.25)
	readQ := `mutation($c:ID!,$p:String!,$r:[MeterReadingInput!]!){ recordMeterReadings(communityId:$c, period:$p, readings:$r){ charge } }`
	reads := []any{
		map[string]any{"kind": "SHARED_ELECTRICITY", "previous": 1000, "current": 1333.33, "unitPriceFen": 97},
		map[string]any{"kind": "SHARED_WATER", "buildingId": w.XB1.ID, "previous": 10, "current": 11, "unitPriceFen": 1001},
	}
	var rd struct{ RecordMeterReadings []struct{ Charge int64 } }
	sup.ok(readQ, map[string]any{"c": w.X.ID, "p": "2026-11", "r": reads}, &rd)
	elec, water := rd.RecordMeterReadings[0].Charge, rd.RecordMeterReadings[1].Charge
	if elec != 32333 || water != 1001 {
		t.Fatalf("charges %d, %d; want 32333, 1001", elec, water)
	}

	// HC has no floor area: skipped and named; the others billed once.
	g := genBills(sup, w.X.ID, "2026-11")
	if g.Households != 3 || g.Created != 2 || g.AlreadyPresent != 0 || g.Skipped != 1 || len(g.SkippedLabels) != 1 {
		t.Fatalf("first run %+v", g)
	}
	if g := genBills(sup, w.X.ID, "2026-11"); g.Created != 0 || g.AlreadyPresent != 2 {
		t.Fatalf("second run %+v", g)
	}
	r := sup.fails("CONFLICT", readQ, map[string]any{"c": w.X.ID, "p": "2026-11", "r": reads})
	if r.field() != "period" {
		t.Errorf("billed period conflict names %q", r.field())
	}

	ha := billOf(sup, "bill:"+w.X.ID+":"+w.HA.ID+":2026-11")
	hb := billOf(sup, "bill:"+w.X.ID+":"+w.HB.ID+":2026-11")
	amount := func(b feeBill, code string) int64 {
		for _, l := range b.Lines {
			if l.Code == code {
				return l.Amount
			}
		}
		t.Fatalf("bill %s has no %s line: %+v", b.ID, code, b.Lines)
		return 0
	}
	// 89.50 m² × 2.50 元 = 223.75 元; 100.25 m² × 2.50 = 250.625 → 250.63 (half up).
	if amount(ha, "MGMT") != 22375 || amount(hb, "MGMT") != 25063 || amount(ha, "OTHER") != 1000 || amount(ha, "PARK") != 16000 {
		t.Fatalf("management lines %+v / %+v", ha.Lines, hb.Lines)
	}
	if ha.Status != "ISSUED" || ha.Outstanding != ha.Amount {
		t.Fatalf("bill %+v", ha)
	}

	// The register fixed, running again bills just HC, at the base rate
	// (its building has no type).
	setArea(t, e, w.HC, 60.33)
	if g := genBills(sup, w.X.ID, "2026-11"); g.Created != 1 || g.AlreadyPresent != 2 || g.Skipped != 0 {
		t.Fatalf("third run %+v", g)
	}
	hc := billOf(sup, "bill:"+w.X.ID+":"+w.HC.ID+":2026-11")
	if amount(hc, "MGMT") != 12066 {
		t.Fatalf("HC management %+v", hc.Lines)
	}
	if a, b := amount(ha, "WATER"), amount(hb, "WATER"); a+b != water || a-b > 1 || b-a > 1 {
		t.Fatalf("water shares %d + %d, want %d split equally", a, b, water)
	}

	// A rate change after issue: a new version; issued bills keep theirs.
	// An editor still on version 1 gets CONFLICT.
	edit := map[string]any{"itemId": mg.UpsertFeeItem.ItemID, "baseVersion": 1, "code": "MGMT", "kind": "MANAGEMENT", "name": "物业管理费",
		"rate": 300, "effectiveFrom": "2026-11", "note": "业主大会通过调价"}
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": edit}, nil)
	sup.fails("CONFLICT", feeItemQ, map[string]any{"c": w.X.ID, "in": edit})
	if again := billOf(sup, ha.ID); again.Amount != ha.Amount || amount(again, "MGMT") != 22375 {
		t.Fatalf("issued bill changed: %+v", again)
	}
	var fs struct {
		FeeSchedule struct {
			Period string
			Items  []struct {
				Item struct {
					Code    string
					Version int
					Rate    int64
				}
				History []struct {
					Version int
					Note    string
				}
			}
		}
	}
	e.owner(w.OwnerA.Phone).ok(`query($c:ID!){ feeSchedule(communityId:$c){ period items { item { code version rate } history { version note } } } }`,
		map[string]any{"c": w.X.ID}, &fs)
	if fs.FeeSchedule.Period != "2026-11" || len(fs.FeeSchedule.Items) != 5 {
		t.Fatalf("schedule %+v", fs.FeeSchedule)
	}
	for _, it := range fs.FeeSchedule.Items {
		if it.Item.Code == "MGMT" && (it.Item.Version != 2 || it.Item.Rate != 300 || len(it.History) != 2 || it.History[0].Version != 2 || it.History[0].Note == "") {
			t.Fatalf("MGMT in force %+v", it)
		}
	}
	e.owner(w.OwnerY.Phone).fails("NOT_FOUND", `query($c:ID!){ feeSchedule(communityId:$c){ period } }`, map[string]any{"c": w.X.ID})

	// Electricity was split by area once, by the first run, over the
	// households with an area then: exactly the charge; HC, billed later,
	// pays no share of it.
	if s := amount(ha, "ELEC") + amount(hb, "ELEC"); s != elec {
		t.Fatalf("electricity shares sum to %d, want %d", s, elec)
	}
	for _, l := range hc.Lines {
		if l.Code == "ELEC" {
			t.Fatalf("HC billed a share after the split: %+v", l)
		}
	}
}

// Bills belong to households: a resident reaches no other household's
// bill by any path, a tenant only once an owner allows it, and staff never
// another community's.
func TestFeeBillAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "垃圾清运费", "rate": 1500, "effectiveFrom": "2026-01"}}, nil)
	if g := genBills(sup, w.X.ID, "2026-11"); g.Created != 3 {
		t.Fatalf("generate %+v", g)
	}
	if g := genBills(sup, w.X.ID, "2026-10"); g.Created != 3 {
		t.Fatalf("generate %+v", g)
	}
	if _, err := e.App.Services.Households.AddMember(context.Background(), w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "租客", Phone: "13900000099"}, Role: access.Tenant}); err != nil {
		t.Fatal(err)
	}
	haBill, hbBill := "bill:"+w.X.ID+":"+w.HA.ID+":2026-11", "bill:"+w.X.ID+":"+w.HB.ID+":2026-11"
	myQ := `query($h:ID){ myBills(householdId:$h, first:10){ totalCount edges { node { id householdId period } } } }`
	type mine struct {
		MyBills struct {
			TotalCount int
			Edges      []struct {
				Node struct{ ID, HouseholdID, Period string }
			}
		}
	}

	a := e.owner(w.OwnerA.Phone)
	var m mine
	a.ok(myQ, nil, &m)
	if m.MyBills.TotalCount != 2 || len(m.MyBills.Edges) != 2 || m.MyBills.Edges[0].Node.Period != "2026-11" {
		t.Fatalf("owner A's bills %+v", m.MyBills)
	}
	for _, ed := range m.MyBills.Edges {
		if ed.Node.HouseholdID != w.HA.ID {
			t.Fatalf("owner A sees %s", ed.Node.ID)
		}
	}
	a.fails("NOT_FOUND", billQ, map[string]any{"id": hbBill})
	a.fails("NOT_FOUND", billQ, map[string]any{"id": "bill:nope"})
	a.fails("NOT_FOUND", myQ, map[string]any{"h": w.HB.ID})
	a.fails("NOT_FOUND", `query($c:ID!){ bills(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	a.fails("NOT_FOUND", `query($c:ID!){ arrears(communityId:$c){ edges { cursor } } }`, map[string]any{"c": w.X.ID})
	if b := billOf(a, haBill); b.Amount != 1500 {
		t.Fatalf("owner's own bill %+v", b)
	}

	tenant := e.owner("13900000099")
	tenant.ok(myQ, nil, &m)
	if len(m.MyBills.Edges) != 0 || m.MyBills.TotalCount != 0 {
		t.Fatalf("tenant without permission sees %+v", m.MyBills)
	}
	tenant.fails("NOT_FOUND", billQ, map[string]any{"id": haBill})
	setQ := `mutation($h:ID!,$a:Boolean!){ setTenantBillAccess(householdId:$h, allowed:$a) }`
	tenant.fails("FORBIDDEN", setQ, map[string]any{"h": w.HA.ID, "a": true})
	e.owner(w.OwnerB.Phone).fails("NOT_FOUND", setQ, map[string]any{"h": w.HA.ID, "a": true})
	a.ok(setQ, map[string]any{"h": w.HA.ID, "a": true}, nil)
	tenant.ok(myQ, nil, &m)
	if len(m.MyBills.Edges) != 2 {
		t.Fatalf("tenant with permission sees %+v", m.MyBills)
	}
	billOf(tenant, haBill)
	tenant.fails("NOT_FOUND", billQ, map[string]any{"id": hbBill})
	a.ok(setQ, map[string]any{"h": w.HA.ID, "a": false}, nil)
	tenant.fails("NOT_FOUND", billQ, map[string]any{"id": haBill})

	supY := e.staff(w.supervisorY, w.Password)
	supY.fails("NOT_FOUND", billQ, map[string]any{"id": haBill})
	supY.fails("NOT_FOUND", `query($c:ID!){ bills(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	supY.fails("NOT_FOUND", genQ, map[string]any{"c": w.X.ID, "p": "2026-11", "d": "2026-11-30"})
	e.staff(w.engineerX, w.Password).fails("FORBIDDEN", `query($c:ID!){ bills(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	e.staff(w.butlerX2, w.Password).fails("NOT_FOUND", billQ, map[string]any{"id": haBill}) // HA is not in XB2
	billOf(e.staff(w.butlerX, w.Password), haBill)

	// Finance sees the community's bills with totals over the whole filter,
	// and the arrears list once the due date has passed.
	fin := e.staffWithRole(w, "x.finance", access.Finance)
	var bl struct {
		Bills struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
			Totals     struct {
				Count                     int
				Amount, Paid, Outstanding int64
			}
		}
	}
	fin.ok(`query($c:ID!,$b:ID){ bills(communityId:$c, filter:{buildingId:$b}, first:1){ totalCount edges { node { id } } totals { count amount paid outstanding } } }`,
		map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &bl)
	if bl.Bills.TotalCount != 4 || len(bl.Bills.Edges) != 1 || bl.Bills.Totals.Amount != 6000 || bl.Bills.Totals.Outstanding != 6000 {
		t.Fatalf("bills of XB1 %+v", bl.Bills)
	}
	billed, collected, relieved, outstanding, nb, err := e.App.Services.Fees.Collection(context.Background(), w.X.ID, "2026-11")
	if err != nil || billed != 4500 || collected != 0 || relieved != 0 || outstanding != 4500 || nb != 3 {
		t.Fatalf("collection %d %d %d %d %d %v", billed, collected, relieved, outstanding, nb, err)
	}
	e.Clock.Set(time.Date(2026, 12, 20, 4, 0, 0, 0, time.UTC))
	fin = e.staff("x.finance", w.Password) // the first session's token has expired
	var ar struct {
		Arrears struct {
			Edges []struct {
				Node struct {
					HouseholdID   string
					Outstanding   int64
					AgeDays       int
					BillsOverdue  int
					OldestDueDate string
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	arQ := `query($c:ID!,$a:String){ arrears(communityId:$c, first:2, after:$a){ edges { node { householdId outstanding ageDays billsOverdue oldestDueDate } } pageInfo { hasNextPage endCursor } } }`
	fin.ok(arQ, map[string]any{"c": w.X.ID}, &ar)
	if len(ar.Arrears.Edges) != 2 || !ar.Arrears.PageInfo.HasNextPage {
		t.Fatalf("arrears page 1 %+v", ar.Arrears)
	}
	var od struct {
		Bills struct{ TotalCount int }
	}
	fin.ok(`query($c:ID!){ bills(communityId:$c, filter:{minArrearsDays:20, status:ISSUED}){ totalCount } }`, map[string]any{"c": w.X.ID}, &od)
	if od.Bills.TotalCount != 6 {
		t.Fatalf("bills overdue 20 days: %d, want 6", od.Bills.TotalCount)
	}
	fin.ok(`query($c:ID!){ bills(communityId:$c, filter:{minArrearsDays:21}){ totalCount } }`, map[string]any{"c": w.X.ID}, &od)
	if od.Bills.TotalCount != 0 {
		t.Fatalf("bills overdue 21 days: %d, want 0", od.Bills.TotalCount)
	}
	fin.ok(`query($c:ID!){ bills(communityId:$c, filter:{status:PAID, period:"2026-11"}){ totalCount } }`, map[string]any{"c": w.X.ID}, &od)
	if od.Bills.TotalCount != 0 {
		t.Fatalf("paid bills: %d", od.Bills.TotalCount)
	}
	n := ar.Arrears.Edges[0].Node
	if n.Outstanding != 3000 || n.BillsOverdue != 2 || n.AgeDays != 20 || n.OldestDueDate != "2026-11-30" {
		t.Fatalf("arrear %+v", n)
	}
	fin.ok(arQ, map[string]any{"c": w.X.ID, "a": ar.Arrears.PageInfo.EndCursor}, &ar)
	if len(ar.Arrears.Edges) != 1 || ar.Arrears.PageInfo.HasNextPage {
		t.Fatalf("arrears page 2 %+v", ar.Arrears)
	}
}
