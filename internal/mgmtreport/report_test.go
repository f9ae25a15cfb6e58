package mgmtreport

import (
	"errors"
	"testing"

	"qinqing/internal/platform/apperr"
)

func TestFigureText(t *testing.T) {
	for _, c := range []struct {
		f    Figure
		want string
	}{
		{Figure{Unit: Count, Value: 12, Available: true}, "12"},
		{Figure{Unit: Fen, Value: 123456, Available: true}, "1234.56 元"},
		{Figure{Unit: Fen, Value: -5, Available: true}, "-0.05 元"},
		{Figure{Unit: Ratio, Value: 7, Denominator: 8, Available: true}, "87.5%（7/8）"},
		{Figure{Unit: Ratio, Value: 2, Denominator: 3, Available: true}, "66.7%（2/3）"}, // rounded half up
		{Figure{Unit: Ratio, Value: 1, Denominator: 1, Available: true}, "100.0%（1/1）"},
		{Figure{Unit: Ratio, Available: true}, "—（0）"},
		{Figure{Unit: Ratio, Value: 1, Denominator: 2}, "—"},
	} {
		if got := figureText(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// Phone numbers and other long digit runs are refused in what owners
// read; years, amounts with separators and short numbers pass.
func TestNotPersonal(t *testing.T) {
	for text, bad := range map[string]bool{
		"请致电13812345678":          true,
		"请致电 138 1234 5678":       true,
		"请致电138-1234-5678":        true,
		"2026年第4季度更换探头3个":         false,
		"维修费用 1,234,567 元":        false,
		"1栋2单元":                   false,
		"身份证号 110101199001011234": true,
	} {
		err := notPersonal("text", text)
		var ae *apperr.Error
		if bad != (err != nil) || err != nil && (!errors.As(err, &ae) || ae.Field != "text") {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestParseID(t *testing.T) {
	id := ReportID("0123456789abcdef01234567", "2026-Q3", 2)
	if c, p, v, ok := ParseID(id); !ok || c != "0123456789abcdef01234567" || p != "2026-Q3" || v != 2 {
		t.Errorf("ParseID(%q) = %q %q %d %v", id, c, p, v, ok)
	}
	for _, bad := range []string{"", "x:2026-Q3:v1", "0123456789abcdef01234567:2026-Q5:v1", "0123456789abcdef01234567:2026-Q3:v0",
		"0123456789abcdef01234567:2026-Q3:v01", "0123456789abcdef01234567:2026-Q3:v51", "0123456789abcdef01234567:2026-Q3"} {
		if _, _, _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}
