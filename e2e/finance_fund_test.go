package e2e

import (
	"strings"
	"testing"
)

// The maintenance fund block of the statement: the closing balance is
// computed from the movements, a block that spends more than the fund
// holds is refused naming spent, the block is kept out of the income and
// expense totals, shown in the downloads, and null when not given.
func TestFinanceMaintenanceFund(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	fin, owner := financeClerk(t, e, w), e.owner(w.OwnerA.Phone)
	const fields = `id incomeTotal expenseTotal maintenanceFund { opening deposits interest spent closing note }`
	publish := `mutation($c:ID!,$p:String!,$in:PublishFinanceStatementInput!){ publishFinanceStatement(communityId:$c, period:$p, input:$in){ ` + fields + ` } }`
	type fund struct {
		Opening, Deposits, Interest, Spent, Closing int64
		Note                                        *string
	}
	type out struct {
		PublishFinanceStatement struct {
			ID                        string
			IncomeTotal, ExpenseTotal int64
			MaintenanceFund           *fund
		}
	}
	in := func(f map[string]any) map[string]any {
		return map[string]any{"c": w.X.ID, "p": "2026-Q3", "in": map[string]any{"lines": financeLines(100), "maintenanceFund": f}}
	}
	for name, c := range map[string]struct {
		fund  map[string]any
		field string
	}{
		"overdrawn":        {map[string]any{"opening": 100, "deposits": 20, "interest": 3, "spent": 124}, "input.maintenanceFund.spent"},
		"negative deposit": {map[string]any{"opening": 100, "deposits": -1, "interest": 0, "spent": 0}, "input.maintenanceFund.deposits"},
		"negative spent":   {map[string]any{"opening": 100, "deposits": 0, "interest": 0, "spent": -5}, "input.maintenanceFund.spent"},
		"long note":        {map[string]any{"opening": 1, "deposits": 0, "interest": 0, "spent": 0, "note": strings.Repeat("维", 201)}, "input.maintenanceFund.note"},
	} {
		if r := fin.fails("BAD_USER_INPUT", publish, in(c.fund)); r.field() != c.field {
			t.Errorf("%s: field %q, want %q", name, r.field(), c.field)
		}
	}

	// Spending exactly what the fund holds is allowed: the balance is 0.
	var empty out
	fin.ok(publish, in(map[string]any{"opening": 100, "deposits": 20, "interest": 3, "spent": 123}), &empty)
	if f := empty.PublishFinanceStatement.MaintenanceFund; f == nil || f.Closing != 0 || f.Note != nil {
		t.Fatalf("fund spent to the last fen: %+v", f)
	}

	var got out
	fin.ok(publish, map[string]any{"c": w.X.ID, "p": "2026-10", "in": map[string]any{"lines": financeLines(12_345_678),
		"maintenanceFund": map[string]any{"opening": 523_400_000, "deposits": 1_200_050, "interest": 430_017, "spent": 8_600_000, "note": "3号楼电梯更换"}}}, &got)
	s := got.PublishFinanceStatement
	if f := s.MaintenanceFund; f == nil || f.Opening != 523_400_000 || f.Deposits != 1_200_050 || f.Interest != 430_017 ||
		f.Spent != 8_600_000 || f.Closing != 523_400_000+1_200_050+430_017-8_600_000 || f.Note == nil || *f.Note != "3号楼电梯更换" {
		t.Fatalf("fund: %+v", f)
	}
	if s.IncomeTotal != 14_345_678 || s.ExpenseTotal != 9_800_001 {
		t.Fatalf("the fund leaked into the totals: income %d, expense %d", s.IncomeTotal, s.ExpenseTotal)
	}
	var read struct {
		FinanceStatement struct{ MaintenanceFund *fund }
	}
	owner.ok(`query($id:ID!){ financeStatement(id:$id){ `+fields+` } }`, map[string]any{"id": s.ID}, &read)
	if f := read.FinanceStatement.MaintenanceFund; f == nil || f.Closing != 516_430_067 {
		t.Fatalf("the owner's read: %+v", f)
	}
	_, _, body := owner.get("/reports/finance/" + s.ID + ".csv")
	for _, want := range []string{"专项维修资金", "期初余额,5234000.00", "本期使用,86000.00", "期末余额,5164300.67", "说明,3号楼电梯更换"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("CSV lacks %q:\n%s", want, body)
		}
	}

	// Not given: null, and no block in the download.
	var none out
	fin.ok(publish, map[string]any{"c": w.X.ID, "p": "2026-09", "in": map[string]any{"lines": financeLines(100)}}, &none)
	if none.PublishFinanceStatement.MaintenanceFund != nil {
		t.Fatalf("a fund nobody entered: %+v", none.PublishFinanceStatement.MaintenanceFund)
	}
	if _, _, body := owner.get("/reports/finance/" + none.PublishFinanceStatement.ID + ".csv"); strings.Contains(string(body), "维修资金") {
		t.Fatalf("CSV without a fund shows one:\n%s", body)
	}
}
