package archive

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// FuzzBirthday: whatever birthday a person gives, it is either refused
// naming the wrong part, or it has a next occurrence on or after today and
// within a year (a lunar year is at most 385 days), on the day given (or the
// nearest day the month has), so a greeting is never lost or a year late.
func FuzzBirthday(f *testing.F) {
	f.Add(false, true, 1950, 2, 29, false, 0)
	f.Add(false, false, 0, 2, 29, false, 100)
	f.Add(true, false, 0, 8, 15, false, 0)
	f.Add(true, true, 2023, 2, 30, true, -400)   // 2023 has a leap second month
	f.Add(true, true, 2024, 2, 1, true, 0)       // no leap month that year
	f.Add(true, false, 0, 12, 30, true, 3650)    // leap 12th month: kept in the ordinary one
	f.Add(true, true, 1900, 1, 1, false, -20000) // the first year allowed
	f.Add(false, true, 2027, 1, 1, false, 0)     // not born yet
	f.Add(true, false, 0, 13, 1, false, 0)       // no such month
	f.Add(false, false, 0, 4, 31, false, 0)      // no such day
	f.Fuzz(func(t *testing.T, lunar, hasYear bool, year, month, day int, leap bool, offset int) {
		sh, _ := time.LoadLocation("Asia/Shanghai")
		// Today anywhere from 1950 to 2099: the lunar tables' range.
		offset %= 54000
		today := time.Date(2026, 11, 22, 10, 0, 0, 0, sh).AddDate(0, 0, offset)
		if today.Year() < 1950 || today.Year() > 2099 {
			return
		}
		b := Birthday{Calendar: Solar, Month: month, Day: day, LeapMonth: leap}
		if lunar {
			b.Calendar = Lunar
		}
		if hasYear {
			b.Year = &year
		}
		if err := b.validate(today); err != nil {
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.BadUserInput || !strings.HasPrefix(ae.Field, "input.birthday.") {
				t.Fatalf("%+v refused with %v: want BAD_USER_INPUT naming the part", b, err)
			}
			return
		}
		next := b.NextOccurrence(today, sh)
		start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, sh)
		if next.Before(start) || next.After(start.AddDate(0, 0, 385)) {
			t.Fatalf("%+v on %s: next occurrence %s", b, start.Format(time.DateOnly), next.Format(time.DateOnly))
		}
		if !lunar && (next.Month() != time.Month(month) || (next.Day() != day && !(month == 2 && day == 29 && next.Day() == 28))) {
			t.Fatalf("solar %+v celebrated on %s", b, next.Format(time.DateOnly))
		}
	})
}
