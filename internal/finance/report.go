package finance

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"qinqing/internal/fee"
	"qinqing/internal/platform/apperr"
)

// Report texts in Chinese and English.
var reportText = map[string][2]string{
	"title":        {"收支公示", "Income and expense statement"},
	"community":    {"小区", "Community"},
	"period":       {"期间", "Period"},
	"version":      {"版本", "Version"},
	"versionN":     {"第 %d 版", "Version %d"},
	"corrects":     {"（更正第 %d 版）", " (corrects version %d)"},
	"superseded":   {"（已被第 %d 版更正，请以最新版为准）", " (superseded by version %d; see the latest)"},
	"publishedAt":  {"公示时间", "Published"},
	"changeNote":   {"更正说明", "What changed"},
	"remarks":      {"说明", "Remarks"},
	"side":         {"收支", "Side"},
	"item":         {"项目", "Item"},
	"amount":       {"金额（元）", "Amount (yuan)"},
	"note":         {"备注", "Note"},
	"INCOME":       {"收入", "Income"},
	"EXPENSE":      {"支出", "Expense"},
	"incomeSum":    {"收入合计", "Total income"},
	"expenseSum":   {"支出合计", "Total expense"},
	"surplus":      {"结余", "Surplus"},
	"deficit":      {"亏损", "Deficit"},
	"collection":   {"物业费收缴情况", "Fee collection"},
	"billed":       {"应收金额", "Billed"},
	"collected":    {"实收金额", "Collected"},
	"relieved":     {"减免金额", "Relieved"},
	"outstanding":  {"欠收金额", "Outstanding"},
	"bills":        {"账单数", "Bills"},
	"rate":         {"收缴率", "Collection rate"},
	"na":           {"暂无数据", "Not available"},
	"fund":         {"专项维修资金", "Maintenance fund"},
	"fundOpening":  {"期初余额", "Opening balance"},
	"fundDeposit":  {"本期缴存", "Deposits"},
	"fundInterest": {"利息收入", "Interest"},
	"fundSpent":    {"本期使用", "Spent"},
	"fundClosing":  {"期末余额", "Closing balance"},
}

func tr(key string, lang apperr.Lang) string {
	if lang == apperr.EN {
		return reportText[key][1]
	}
	return reportText[key][0]
}

// cell is one cell of a report row: text, or an amount in fen written as
// yuan (a number in the XLSX).
type cell struct {
	text  string
	fen   int64
	money bool
}

func txt(s string) cell  { return cell{text: s} }
func money(f int64) cell { return cell{fen: f, money: true} }
func (c cell) str() string {
	if c.money {
		return fee.Yuan(c.fen)
	}
	return c.text
}

// rows lays the statement out once for both formats: a heading block, the
// four columns of lines with their totals, and the collection figures.
func rows(st *Statement, communityName string, loc *time.Location, lang apperr.Lang) [][]cell {
	p, _ := ParsePeriod(st.Period)
	en := lang == apperr.EN
	version := fmt.Sprintf(tr("versionN", lang), st.Version)
	if st.Version > 1 {
		version += fmt.Sprintf(tr("corrects", lang), st.Version-1)
	}
	if !st.Latest() {
		version += fmt.Sprintf(tr("superseded", lang), st.Versions[0].Version)
	}
	out := [][]cell{
		{txt(tr("title", lang)), txt(communityName + " " + p.Label(en))},
		{txt(tr("community", lang)), txt(communityName)},
		{txt(tr("period", lang)), txt(p.Label(en))},
		{txt(tr("version", lang)), txt(version)},
		{txt(tr("publishedAt", lang)), txt(st.PublishedAt.In(loc).Format("2006-01-02 15:04"))},
	}
	if st.ChangeNote != "" {
		out = append(out, []cell{txt(tr("changeNote", lang)), txt(st.ChangeNote)})
	}
	if st.Remarks != "" {
		out = append(out, []cell{txt(tr("remarks", lang)), txt(st.Remarks)})
	}
	out = append(out, nil, []cell{txt(tr("side", lang)), txt(tr("item", lang)), txt(tr("amount", lang)), txt(tr("note", lang))})
	for _, l := range st.Lines {
		label := Labels[l.Category][0]
		if en {
			label = Labels[l.Category][1]
		}
		out = append(out, []cell{txt(tr(string(l.Side()), lang)), txt(label), money(l.Amount), txt(l.Note)})
	}
	sk, surplus := "surplus", st.Surplus()
	if surplus < 0 {
		sk, surplus = "deficit", -surplus
	}
	out = append(out,
		[]cell{txt(tr("INCOME", lang)), txt(tr("incomeSum", lang)), money(st.Income)},
		[]cell{txt(tr("EXPENSE", lang)), txt(tr("expenseSum", lang)), money(st.Expense)},
		[]cell{txt(""), txt(tr(sk, lang)), money(surplus)},
		nil, []cell{txt(tr("collection", lang))})
	return append(collectionRows(out, st.Collection, lang), fundRows(st.Fund, lang)...)
}

func collectionRows(out [][]cell, c *Collection, lang apperr.Lang) [][]cell {
	if c == nil {
		return append(out, []cell{txt(""), txt(tr("rate", lang)), txt(tr("na", lang))})
	}
	rate := tr("na", lang)
	if c.Billed-c.Relieved > 0 {
		rate = Percent(c.Collected, c.Billed-c.Relieved)
	}
	return append(out,
		[]cell{txt(""), txt(tr("billed", lang)), money(c.Billed)},
		[]cell{txt(""), txt(tr("collected", lang)), money(c.Collected)},
		[]cell{txt(""), txt(tr("relieved", lang)), money(c.Relieved)},
		[]cell{txt(""), txt(tr("outstanding", lang)), money(c.Outstanding)},
		[]cell{txt(""), txt(tr("bills", lang)), txt(strconv.Itoa(c.Bills))},
		[]cell{txt(""), txt(tr("rate", lang)), txt(rate)})
}

// fundRows is the maintenance fund block; nothing when the statement has
// none (an absent block is not a fund of zero).
func fundRows(f *Fund, lang apperr.Lang) [][]cell {
	if f == nil {
		return nil
	}
	out := [][]cell{nil, {txt(tr("fund", lang))},
		{txt(""), txt(tr("fundOpening", lang)), money(f.Opening)},
		{txt(""), txt(tr("fundDeposit", lang)), money(f.Deposits)},
		{txt(""), txt(tr("fundInterest", lang)), money(f.Interest)},
		{txt(""), txt(tr("fundSpent", lang)), money(f.Spent)},
		{txt(""), txt(tr("fundClosing", lang)), money(f.Closing())}}
	if f.Note != "" {
		out = append(out, []cell{txt(""), txt(tr("remarks", lang)), txt(f.Note)})
	}
	return out
}

// Percent is part/whole as a percentage with two decimals, rounded half up,
// computed in integers: 1/3 → "33.33%".
func Percent(part, whole int64) string {
	n := new(big.Int).Mul(big.NewInt(part), big.NewInt(20000))
	n.Add(n, big.NewInt(whole))
	n.Quo(n, new(big.Int).Mul(big.NewInt(whole), big.NewInt(2)))
	return fee.Yuan(n.Int64()) + "%"
}

// WriteCSV writes the statement for Excel: UTF-8 with a byte order mark
// (without it Excel shows the Chinese as mojibake) and CRLF line ends.
func WriteCSV(w io.Writer, st *Statement, communityName string, loc *time.Location, lang apperr.Lang) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for _, r := range rows(st, communityName, loc, lang) {
		rec := make([]string, 4)
		for i, c := range r {
			rec[i] = neutral(c.str())
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// neutral keeps a note that starts like a formula from running in Excel
// (CSV injection): it is quoted as text with a leading apostrophe.
func neutral(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '@' || (s[0] == '-' && (len(s) < 2 || s[1] < '0' || s[1] > '9'))) {
		return "'" + s
	}
	return s
}

// WriteXLSX writes the statement as a workbook of one sheet. Amounts are
// numbers whose stored text is the exact yuan written from fen, shown with
// two decimals and thousands separators.
func WriteXLSX(w io.Writer, st *Statement, communityName string, loc *time.Location, lang apperr.Lang) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := tr("title", lang)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx sheet: %w", err)
	}
	numFmt := "#,##0.00"
	moneyStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	for i, r := range rows(st, communityName, loc, lang) {
		for j, c := range r {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if c.money {
				err = f.SetCellDefault(sheet, ref, fee.Yuan(c.fen))
				if err == nil {
					err = f.SetCellStyle(sheet, ref, ref, moneyStyle)
				}
			} else {
				err = f.SetCellStr(sheet, ref, c.text)
			}
			if err != nil {
				return fmt.Errorf("xlsx cell %s: %w", ref, err)
			}
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 14)
	_ = f.SetColWidth(sheet, "B", "B", 28)
	_ = f.SetColWidth(sheet, "C", "C", 18)
	_ = f.SetColWidth(sheet, "D", "D", 40)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx write: %w", err)
	}
	return nil
}
