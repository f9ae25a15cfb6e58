package archive

import (
	"testing"
	"time"
)

func TestNextOccurrence(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name  string
		b     Birthday
		today string
		want  string
	}{
		{"solar later this year", Birthday{Calendar: Solar, Month: 12, Day: 5}, "2026-11-22", "2026-12-05"},
		{"solar today counts", Birthday{Calendar: Solar, Month: 11, Day: 22}, "2026-11-22", "2026-11-22"},
		{"solar passed rolls to next year", Birthday{Calendar: Solar, Month: 3, Day: 1}, "2026-11-22", "2027-03-01"},
		{"29 February in a common year is kept on the 28th", Birthday{Calendar: Solar, Month: 2, Day: 29}, "2026-11-22", "2027-02-28"},
		// 2027 lunar 1-1 (Spring Festival) is 2027-02-06.
		{"lunar new year day", Birthday{Calendar: Lunar, Month: 1, Day: 1}, "2026-11-22", "2027-02-06"},
		// Lunar 9-9 (Double Ninth) of 2026 is 2026-10-18, already passed; 2027's is 2027-10-08.
		{"lunar passed rolls to next lunar year", Birthday{Calendar: Lunar, Month: 9, Day: 9}, "2026-11-22", "2027-10-08"},
		// Lunar 12-8 (Laba) of lunar 2026 is 2027-01-15.
		{"lunar late in the lunar year", Birthday{Calendar: Lunar, Month: 12, Day: 8}, "2026-11-22", "2027-01-15"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.b.NextOccurrence(at(tc.today), sh).Format("2006-01-02")
			if got != tc.want {
				t.Errorf("next %+v from %s = %s, want %s", tc.b, tc.today, got, tc.want)
			}
		})
	}
}
