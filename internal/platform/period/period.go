// Package period is the reporting period owners are told about: a month
// "YYYY-MM", a quarter "YYYY-Qn" or a year "YYYY", in a community's time
// zone. The income and expense statement (收支公示), the management report
// (管理报告) and the published outcomes all speak of the same periods, so
// they parse, order and label them here once.
package period

import (
	"fmt"
	"strconv"
	"time"

	"qinqing/internal/platform/apperr"
)

// Kinds of period.
const (
	Month   = "MONTH"
	Quarter = "QUARTER"
	Year    = "YEAR"
)

// Period is a parsed period: the months it covers.
type Period struct {
	Text   string
	Kind   string // MONTH, QUARTER, YEAR
	Year   int
	First  int // first month, 1..12
	Months int
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"period.bad":    {ZH: "期间格式应为 YYYY-MM（月）、YYYY-Qn（季度）或 YYYY（年度）", EN: "must be a month YYYY-MM, a quarter YYYY-Qn or a year YYYY"},
		"period.future": {ZH: "期间尚未开始", EN: "must not be a period that has not begun"},
		"period.open":   {ZH: "期间尚未结束", EN: "must be a period that has ended"},
	})
}

// Parse reads "YYYY-MM", "YYYY-Qn" or "YYYY" (years 2000-2099); the error
// names field.
func Parse(field, s string) (Period, error) {
	bad := apperr.Invalid(field, "period.bad")
	if len(s) < 4 {
		return Period{}, bad
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 2000 || y > 2099 || s[0] == '+' || s[0] == '-' {
		return Period{}, bad
	}
	rest := s[4:]
	switch {
	case rest == "":
		return Period{Text: s, Kind: Year, Year: y, First: 1, Months: 12}, nil
	case len(rest) == 3 && rest[:2] == "-Q" && rest[2] >= '1' && rest[2] <= '4':
		q := int(rest[2] - '0')
		return Period{Text: s, Kind: Quarter, Year: y, First: 3*q - 2, Months: 3}, nil
	case len(rest) == 3 && rest[0] == '-' && isDigits(rest[1:]):
		m, _ := strconv.Atoi(rest[1:])
		if m >= 1 && m <= 12 {
			return Period{Text: s, Kind: Month, Year: y, First: m, Months: 1}, nil
		}
	}
	return Period{}, bad
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MonthTexts are the "YYYY-MM" months of the period.
func (p Period) MonthTexts() []string {
	out := make([]string, p.Months)
	for i := range out {
		out[i] = fmt.Sprintf("%04d-%02d", p.Year, p.First+i)
	}
	return out
}

// Start is the period's first instant in loc.
func (p Period) Start(loc *time.Location) time.Time {
	return time.Date(p.Year, time.Month(p.First), 1, 0, 0, 0, 0, loc)
}

// End is the first instant after the period in loc: the window is
// [Start, End).
func (p Period) End(loc *time.Location) time.Time {
	return time.Date(p.Year, time.Month(p.First+p.Months), 1, 0, 0, 0, 0, loc)
}

// SortKey orders periods newest first under ascending order: by the last
// month covered, descending, then a month before its quarter before its
// year (the shorter period ends the same day but is read first).
func (p Period) SortKey() string {
	end := p.Year*12 + p.First + p.Months - 2 // months since year 0 of the last month
	rank := map[string]int{Month: 0, Quarter: 1, Year: 2}[p.Kind]
	return fmt.Sprintf("%06d|%d|%s", 999999-end, rank, p.Text)
}

// Label is the period in words for notices and reports.
func (p Period) Label(en bool) string {
	switch {
	case p.Kind == Year && en:
		return strconv.Itoa(p.Year)
	case p.Kind == Year:
		return strconv.Itoa(p.Year) + "年度"
	case p.Kind == Quarter && en:
		return fmt.Sprintf("Q%d %d", (p.First+2)/3, p.Year)
	case p.Kind == Quarter:
		return fmt.Sprintf("%d年第%d季度", p.Year, (p.First+2)/3)
	case en:
		return time.Date(p.Year, time.Month(p.First), 1, 0, 0, 0, 0, time.UTC).Format("January 2006")
	}
	return fmt.Sprintf("%d年%d月", p.Year, p.First)
}
