package seed

import "testing"

// Each seeded month's maintenance fund opens where the one before closed,
// and a month that draws on it says what for.
func TestSeedFundCarriesOver(t *testing.T) {
	for p := range 12 {
		f, next := seedFund(p), seedFund(p+1)
		closing := f.Opening + f.Deposits + f.Interest - f.Spent
		if closing != next.Opening || closing < 0 {
			t.Fatalf("month %d closes at %d, month %d opens at %d", p, closing, p+1, next.Opening)
		}
		if f.Spent > 0 && (f.Note == nil || *f.Note == "本期无使用") {
			t.Fatalf("month %d spends %d without saying what for", p, f.Spent)
		}
	}
}
