package renovation

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// FuzzIDCard: an ID-card number is accepted only as 17 digits, a real birth
// date and the right check character, stored trimmed and upper-case (one
// spelling per card); anything else is refused naming the field.
func FuzzIDCard(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", " 11010519491231002X ", "110105194912310021",
		"11010519490229002X", "1101051949123100", "", "１１０１０５１９４９１２３１００２X",
		"11010519491231002\u212a", "110105194912310\xff2X", "+1010519491231002X",
	} {
		f.Add(s)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := idCard("input.workers.0.idCardNo", s)
		if err != nil {
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.BadUserInput || ae.Field != "input.workers.0.idCardNo" {
				t.Fatalf("idCard(%q) = %v: want BAD_USER_INPUT naming the field", s, err)
			}
			return
		}
		if len(v) != 18 || v != strings.ToUpper(v) {
			t.Fatalf("idCard(%q) = %q", s, v)
		}
		sum := 0
		for i, w := range weights {
			if v[i] < '0' || v[i] > '9' {
				t.Fatalf("idCard(%q) = %q: not digits", s, v)
			}
			sum += int(v[i]-'0') * w
		}
		if "10X98765432"[sum%11] != v[17] {
			t.Fatalf("idCard(%q) = %q: wrong check character", s, v)
		}
		if d, err := time.Parse("20060102", v[6:14]); err != nil || d.Format("20060102") != v[6:14] {
			t.Fatalf("idCard(%q) = %q: birth date %q", s, v, v[6:14])
		}
		if again, err := idCard("f", v); err != nil || again != v {
			t.Fatalf("idCard(%q) = %q, then %q, %v", s, v, again, err)
		}
	})
}
