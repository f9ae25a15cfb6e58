package archive

import (
	"time"

	"github.com/6tail/lunar-go/calendar"

	"qinqing/internal/platform/apperr"
)

// Calendar is the calendar a person keeps their birthday by.
type Calendar string

const (
	Solar Calendar = "SOLAR"
	Lunar Calendar = "LUNAR" // 农历
)

// Birthday as the person keeps it. Year is optional: many people give only
// month and day, and greetings need no more.
type Birthday struct {
	Calendar  Calendar `bson:"calendar"`
	Year      *int     `bson:"year,omitempty"`
	Month     int      `bson:"month"`
	Day       int      `bson:"day"`
	LeapMonth bool     `bson:"leapMonth,omitempty"` // 闰月, lunar only
}

func (b Birthday) validate(now time.Time) error {
	if b.Calendar != Solar && b.Calendar != Lunar {
		return apperr.Invalid("input.birthday.calendar", "input.bad_value")
	}
	if b.Year != nil && (*b.Year < 1900 || *b.Year > now.Year()) {
		return apperr.Invalid("input.birthday.year", "input.out_of_range", 1900, now.Year())
	}
	if b.Month < 1 || b.Month > 12 {
		return apperr.Invalid("input.birthday.month", "input.out_of_range", 1, 12)
	}
	if b.Calendar == Solar {
		if b.LeapMonth {
			return apperr.Invalid("input.birthday.leapMonth", "archive.leap_is_lunar")
		}
		y := 2000 // a leap year, so 02-29 is valid without a year
		if b.Year != nil {
			y = *b.Year
		}
		if b.Day < 1 || b.Day > daysIn(y, time.Month(b.Month)) {
			return apperr.Invalid("input.birthday.day", "input.bad_date")
		}
		return nil
	}
	if b.Day < 1 || b.Day > 30 {
		return apperr.Invalid("input.birthday.day", "input.out_of_range", 1, 30)
	}
	if b.Year != nil {
		m := b.Month
		if b.LeapMonth {
			m = -m
		}
		lm := calendar.NewLunarYear(*b.Year).GetMonth(m)
		if lm == nil {
			return apperr.Invalid("input.birthday.leapMonth", "archive.no_such_leap_month")
		}
		if b.Day > lm.GetDayCount() {
			return apperr.Invalid("input.birthday.day", "input.bad_date")
		}
	}
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// NextOccurrence is the solar date, on or after today in loc, on which the
// birthday is next celebrated. A lunar birthday in a leap month is kept in the
// ordinary month of years without that leap month, and the 30th of a short
// lunar month is kept on its last day, as families do.
func (b Birthday) NextOccurrence(today time.Time, loc *time.Location) time.Time {
	t := today.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	if b.Calendar == Solar {
		for y := t.Year(); ; y++ {
			d := b.Day
			if d > daysIn(y, time.Month(b.Month)) { // 02-29 in a common year: 02-28
				d = daysIn(y, time.Month(b.Month))
			}
			c := time.Date(y, time.Month(b.Month), d, 0, 0, 0, 0, loc)
			if !c.Before(day) {
				return c
			}
		}
	}
	ly := calendar.NewLunarFromDate(day).GetYear()
	for y := ly - 1; ; y++ {
		c := lunarToSolar(y, b.Month, b.Day, b.LeapMonth, loc)
		if !c.Before(day) {
			return c
		}
	}
}

func lunarToSolar(year, month, day int, leap bool, loc *time.Location) time.Time {
	lyr := calendar.NewLunarYear(year)
	m := lyr.GetMonth(month)
	if leap {
		if lm := lyr.GetMonth(-month); lm != nil {
			m = lm
		}
	}
	if day > m.GetDayCount() {
		day = m.GetDayCount()
	}
	s := calendar.NewLunarFromYmd(year, m.GetMonth(), day).GetSolar()
	return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, loc)
}
