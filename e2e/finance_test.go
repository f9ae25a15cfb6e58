package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
)

// gatedCollection stands in for the fee service's collection figures
// (fee.Service implements them; the integrator wires it). Armed with n, each
// call waits until n calls have arrived, so n publishes of one period are
// all between reading the newest version and claiming the next: the race a
// second clerk's click makes, made certain instead of likely.
type gatedCollection struct {
	mu      sync.Mutex
	armed   int
	arrived int
	open    chan struct{}
}

func (g *gatedCollection) arm(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.arrived, g.open = n, 0, make(chan struct{})
}

func (g *gatedCollection) Collection(ctx context.Context, communityID, period string) (int64, int64, int64, int64, int, error) {
	g.mu.Lock()
	open := g.open
	if g.armed > 0 {
		g.arrived++
		if g.arrived == g.armed {
			close(open)
			g.armed = 0
		}
	}
	g.mu.Unlock()
	if open != nil {
		select {
		case <-open:
		case <-ctx.Done():
			return 0, 0, 0, 0, 0, ctx.Err()
		}
	}
	return 1_000_000, 900_000, 50_000, 50_000, 10, nil
}

const financeFields = `id period periodKind periodLabel version previousId changeNote latest incomeTotal expenseTotal surplus
	lines { category side label amount note } collection { billed collected relieved outstanding bills rate }
	csvUrl xlsxUrl versions { id version }`

type financeStatement struct {
	ID, Period, PeriodKind, PeriodLabel string
	Version                             int
	PreviousID, ChangeNote              *string
	Latest                              bool
	IncomeTotal, ExpenseTotal, Surplus  int64
	Lines                               []struct {
		Category, Side, Label string
		Amount                int64
		Note                  *string
	}
	Collection *struct {
		Billed, Collected, Relieved, Outstanding int64
		Bills                                    int
		Rate                                     *float64
	}
	CSVURL, XlsxURL string
	Versions        []struct {
		ID      string
		Version int
	}
}

const publishFinance = `mutation($c:ID!,$p:String!,$in:PublishFinanceStatementInput!){ publishFinanceStatement(communityId:$c, period:$p, input:$in){ ` + financeFields + ` } }`

func financeLines(mgmt int64) []any {
	return []any{
		map[string]any{"category": "MANAGEMENT_FEES", "amount": mgmt},
		map[string]any{"category": "PARKING", "amount": 2_000_000},
		map[string]any{"category": "STAFF", "amount": 8_000_000, "note": "含社保"},
		map[string]any{"category": "CLEANING", "amount": 1_500_001},
		map[string]any{"category": "REPAIRS_MAINTENANCE", "amount": 300_000, "note": "电梯年检"},
	}
}

// financeClerk is the finance clerk (财务) of community X.
func financeClerk(t testing.TB, e *env, w *world) *client {
	t.Helper()
	_, f := financeStaff(t, e, w)
	return f
}

// Open accounts through the API: who may publish and read, what is refused
// by field, the notice to residents, a correction that keeps version 1
// readable and unchanged, and the CSV and XLSX downloads.
func TestFinanceStatementsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ctx := context.Background()
	if _, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "租客小林", Phone: "13900000009"}, Role: access.Tenant}); err != nil {
		t.Fatal(err)
	}
	fin, sup, butler, supY := financeClerk(t, e, w), e.staff(w.supervisorX, w.Password), e.staff(w.butlerX, w.Password), e.staff(w.supervisorY, w.Password)
	ownerA, tenant, ownerY := e.owner(w.OwnerA.Phone), e.owner("13900000009"), e.owner(w.OwnerY.Phone)
	vars := func(period string, in map[string]any) map[string]any {
		return map[string]any{"c": w.X.ID, "p": period, "in": in}
	}

	// Refused by field, and by who is asking.
	neg := financeLines(100)
	neg[1] = map[string]any{"category": "PARKING", "amount": -1}
	for name, c := range map[string]struct {
		period, field string
		lines         []any
	}{
		"negative amount":    {"2026-10", "input.lines.1.amount", neg},
		"unknown category":   {"2026-10", "$in.lines[0].category", []any{map[string]any{"category": "LOTTERY", "amount": 1}}},
		"duplicate category": {"2026-10", "input.lines.1.category", []any{map[string]any{"category": "STAFF", "amount": 1}, map[string]any{"category": "STAFF", "amount": 2}}},
		"bad period":         {"2026-13", "period", financeLines(100)},
		"future period":      {"2027-01", "period", financeLines(100)},
	} {
		if r := fin.fails("BAD_USER_INPUT", publishFinance, vars(c.period, map[string]any{"lines": c.lines})); r.field() != c.field {
			t.Errorf("%s: field %q, want %q", name, r.field(), c.field)
		}
	}
	good := map[string]any{"lines": financeLines(12_345_678), "remarks": "本月完成二号楼外墙清洗"}
	butler.fails("FORBIDDEN", publishFinance, vars("2026-10", good))
	ownerA.fails("FORBIDDEN", publishFinance, vars("2026-10", good))
	supY.fails("NOT_FOUND", publishFinance, vars("2026-10", good))
	ownerY.fails("NOT_FOUND", publishFinance, vars("2026-10", good))

	// Version 1 by the finance clerk, with October's collection from the
	// bills: three households billed 150 yuan, one paid.
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "综合服务费", "rate": 15000, "effectiveFrom": "2026-01"}}, nil)
	genBills(sup, w.X.ID, "2026-10")
	fin.ok(`mutation($i:RecordPaymentInput!){ recordPayment(input:$i){ id } }`,
		map[string]any{"i": map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 15000}}, nil)
	var v1 struct{ PublishFinanceStatement financeStatement }
	fin.ok(publishFinance, vars("2026-10", good), &v1)
	s1 := v1.PublishFinanceStatement
	if s1.Version != 1 || s1.PreviousID != nil || !s1.Latest || s1.IncomeTotal != 14_345_678 || s1.ExpenseTotal != 9_800_001 ||
		s1.Surplus != 4_545_677 || s1.Collection == nil || s1.Collection.Billed != 45000 || s1.Collection.Collected != 15000 ||
		s1.Collection.Outstanding != 30000 || s1.Collection.Bills != 3 || len(s1.Lines) != 12 || s1.Lines[4].Category != "STAFF" ||
		s1.Lines[4].Side != "EXPENSE" || s1.Lines[4].Label != "人员费用" || s1.Lines[6].Amount != 0 || s1.PeriodKind != "MONTH" || s1.PeriodLabel != "2026年10月" {
		t.Fatalf("version 1: %+v", s1)
	}
	waitFor(t, "the owner's notice", func() bool {
		for _, n := range ownerA.inbox().Notifications.Edges {
			if n.Node.Kind == "FINANCE_STATEMENT_PUBLISHED" && strings.Contains(n.Node.Body, "收入 143456.78 元") && strings.Contains(n.Node.Body, "结余 45456.77 元") {
				return true
			}
		}
		return false
	})

	var prefs struct {
		NotificationPreferences struct{ OptionalKinds []string }
	}
	ownerA.ok(`{ notificationPreferences { optionalKinds } }`, nil, &prefs)
	if !contains(prefs.NotificationPreferences.OptionalKinds, "FINANCE_STATEMENT_PUBLISHED") {
		t.Errorf("the statement notice cannot be turned off: %v", prefs.NotificationPreferences.OptionalKinds)
	}

	// Read by an owner and a tenant; not by Y's resident or staff.
	list := `query($c:ID!){ financeStatements(communityId:$c, first:10){ totalCount edges { node { ` + financeFields + ` } } } }`
	type listed struct {
		FinanceStatements struct {
			TotalCount int
			Edges      []struct{ Node financeStatement }
		}
	}
	for name, c := range map[string]*client{"owner": ownerA, "tenant": tenant, "butler": butler} {
		var l listed
		c.ok(list, map[string]any{"c": w.X.ID}, &l)
		if l.FinanceStatements.TotalCount != 1 || l.FinanceStatements.Edges[0].Node.ID != s1.ID {
			t.Fatalf("%s's list: %+v", name, l)
		}
	}
	get := `query($id:ID!){ financeStatement(id:$id){ ` + financeFields + ` } }`
	for name, c := range map[string]*client{"owner of Y": ownerY, "supervisor of Y": supY} {
		c.fails("NOT_FOUND", list, map[string]any{"c": w.X.ID})
		if r := c.do(get, map[string]any{"id": s1.ID}); r.code() != "NOT_FOUND" {
			t.Fatalf("%s reads the statement: %+v %s", name, r.Errors, r.Data)
		}
	}

	// A correction must say what changed; version 1 stays as it was.
	e.App.Services.Finance.UseCollection(&gatedCollection{})
	fix := map[string]any{"lines": financeLines(12_445_678)}
	if r := sup.fails("BAD_USER_INPUT", publishFinance, vars("2026-10", fix)); r.field() != "input.changeNote" {
		t.Fatalf("correction without a note: field %q", r.field())
	}
	fix["changeNote"] = "补录10月31日收到的物业费1000元"
	var v2 struct{ PublishFinanceStatement financeStatement }
	sup.ok(publishFinance, vars("2026-10", fix), &v2)
	s2 := v2.PublishFinanceStatement
	if s2.Version != 2 || s2.PreviousID == nil || *s2.PreviousID != s1.ID || s2.IncomeTotal != 14_445_678 || len(s2.Versions) != 2 ||
		s2.Versions[0].ID != s2.ID || s2.Collection == nil || s2.Collection.Bills != 10 || s2.Collection.Rate == nil {
		t.Fatalf("version 2: %+v", s2)
	}
	var again struct{ FinanceStatement financeStatement }
	tenant.ok(get, map[string]any{"id": s1.ID}, &again)
	if a := again.FinanceStatement; a.Latest || a.IncomeTotal != s1.IncomeTotal || a.Collection == nil || a.Collection.Billed != 45000 || a.Version != 1 || len(a.Versions) != 2 {
		t.Fatalf("version 1 after the correction: %+v", a)
	}
	var l listed
	ownerA.ok(list, map[string]any{"c": w.X.ID}, &l)
	if n := l.FinanceStatements; n.TotalCount != 1 || n.Edges[0].Node.ID != s2.ID || len(n.Edges[0].Node.Versions) != 2 {
		t.Fatalf("list after the correction: %+v", n)
	}

	// Downloads: as the query is authorised.
	csvPath, xlsxPath := "/reports/finance/"+s2.ID+".csv", "/reports/finance/"+s2.ID+".xlsx"
	for _, path := range []string{csvPath, xlsxPath} {
		if status, _, _ := e.anon().get(path); status != 401 {
			t.Fatalf("%s without a token: %d", path, status)
		}
		for name, c := range map[string]*client{"owner of Y": ownerY, "supervisor of Y": supY} {
			if status, _, _ := c.get(path); status != 404 {
				t.Fatalf("%s for %s: %d", path, name, status)
			}
		}
	}
	status, ctype, body := tenant.get(csvPath)
	text := string(body)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(text, "\ufeff") ||
		!strings.Contains(text, "物业服务费收入,124456.78,") || !strings.Contains(text, "收入合计,144456.78") ||
		!strings.Contains(text, "结余,46456.77") || !strings.Contains(text, "更正说明,补录10月31日收到的物业费1000元") ||
		!strings.Contains(text, "收缴率,94.74%") || !strings.Contains(text, "保洁费用,15000.01,") {
		t.Fatalf("CSV %d %s:\n%s", status, ctype, text)
	}
	if _, _, old := ownerA.get("/reports/finance/" + s1.ID + ".csv"); !strings.Contains(string(old), "已被第 2 版更正") || !strings.Contains(string(old), "收缴率,33.33%") {
		t.Fatalf("version 1's CSV:\n%s", old)
	}
	status, _, body = ownerA.get(xlsxPath)
	if status != 200 {
		t.Fatalf("XLSX: %d", status)
	}
	checkFinanceWorkbook(t, body)
}

// checkFinanceWorkbook opens the XLSX and finds the lines and totals as
// numbers whose stored text is the exact yuan.
func checkFinanceWorkbook(t *testing.T, body []byte) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"物业服务费收入": "124456.78", "保洁费用": "15000.01", "支出合计": "98000.01", "结余": "46456.77", "收缴率": "94.74%"}
	if rows[0][0] != "收支公示" || !strings.Contains(rows[0][1], "2026年10月") {
		t.Errorf("title row %v", rows[0])
	}
	for i, r := range rows {
		if len(r) < 3 || want[r[1]] == "" {
			continue
		}
		if r[2] != want[r[1]] {
			t.Errorf("%s = %q, want %q", r[1], r[2], want[r[1]])
		}
		cell := fmt.Sprintf("C%d", i+1)
		if typ, _ := f.GetCellType(sheet, cell); r[1] != "收缴率" && typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s (%s) is not a number: %v", r[1], cell, typ)
		}
		if r[1] == "物业服务费收入" {
			if shown, _ := f.GetCellValue(sheet, cell); shown != "124,456.78" {
				t.Errorf("%s shown as %q", cell, shown)
			}
		}
		delete(want, r[1])
	}
	if len(want) > 0 {
		t.Errorf("not in the workbook: %v", want)
	}
}

// Two corrections of one period at once: both read version 1 as the newest
// (the gate holds each until both have), exactly one becomes version 2 and
// the other gets CONFLICT; nothing else is stored.
func TestFinanceConcurrentCorrections(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	fin, sup := financeClerk(t, e, w), e.staff(w.supervisorX, w.Password)
	gate := &gatedCollection{}
	e.App.Services.Finance.UseCollection(gate)
	fin.ok(publishFinance, map[string]any{"c": w.X.ID, "p": "2026-09", "in": map[string]any{"lines": financeLines(100)}}, nil)
	gate.arm(2)
	results := make([]*gqlResponse, 2)
	var wg sync.WaitGroup
	for i, c := range []*client{fin, sup} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.do(publishFinance, map[string]any{"c": w.X.ID, "p": "2026-09",
				"in": map[string]any{"lines": financeLines(int64(200 + i)), "changeNote": fmt.Sprintf("更正 %d", i)}})
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for _, r := range results {
		switch r.code() {
		case "":
			won++
		case "CONFLICT":
			lost++
		default:
			t.Fatalf("unexpected answer %+v", r.Errors)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("won %d, lost %d", won, lost)
	}
	var l struct {
		FinanceStatements struct {
			Edges []struct{ Node financeStatement }
		}
	}
	sup.ok(`query($c:ID!){ financeStatements(communityId:$c){ edges { node { `+financeFields+` } } } }`, map[string]any{"c": w.X.ID}, &l)
	if n := l.FinanceStatements.Edges; len(n) != 1 || n[0].Node.Version != 2 || len(n[0].Node.Versions) != 2 {
		t.Fatalf("after the race: %+v", n)
	}
}

// What the list costs in database round trips does not grow with the
// periods on the page or their versions: one page of periods, one query for
// every version of them, one count, one community batch (plus the caller's
// own load), whatever is listed.
func TestFinanceListRoundTrips(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db, func(c *config.Config) { c.OutboxInterval = time.Hour })
	w := e.world()
	fin, owner := financeClerk(t, e, w), e.owner(w.OwnerA.Phone)
	publish := func(period, note string) {
		in := map[string]any{"lines": financeLines(100)}
		if note != "" {
			in["changeNote"] = note
		}
		fin.ok(publishFinance, map[string]any{"c": w.X.ID, "p": period, "in": in}, nil)
	}
	q := `query($c:ID!){ financeStatements(communityId:$c, first:20){ totalCount edges { node { id community { name } lines { amount } versions { id community { name } } } } } }`
	cost := func(periods int) int64 {
		t.Helper()
		best := int64(-1)
		for range 3 { // fewest of three: a background job may add one, never take one away
			var out struct {
				FinanceStatements struct{ TotalCount int }
			}
			rt.n.Store(0)
			owner.ok(q, map[string]any{"c": w.X.ID}, &out)
			if n := rt.n.Load(); best < 0 || n < best {
				best = n
			}
			if out.FinanceStatements.TotalCount != periods {
				t.Fatalf("listed %d periods, want %d", out.FinanceStatements.TotalCount, periods)
			}
		}
		return best
	}
	publish("2026-08", "")
	one := cost(1)
	publish("2026-09", "")
	publish("2026-09", "更正一")
	publish("2026-09", "更正二")
	publish("2026-Q3", "")
	publish("2025", "")
	four := cost(4)
	t.Logf("round trips of financeStatements: 1 period %d, 4 periods with 6 versions %d", one, four)
	if four != one {
		t.Fatalf("round trips grow with the periods listed: %d for 1, %d for 4", one, four)
	}
}
