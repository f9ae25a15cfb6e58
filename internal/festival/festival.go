// Package festival is the calendar of festival greetings: the festivals the
// property company greets owners on, where each falls in a given solar year
// (several follow the lunar calendar, one a solar term), when the greeting goes
// out, and the greeting text itself. It is pure: no storage, no clock.
package festival

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/6tail/lunar-go/calendar"
)

// Calendar is the calendar a festival's Month and Day are counted in.
type Calendar string

const (
	Solar Calendar = "SOLAR"
	Lunar Calendar = "LUNAR" // 农历
)

// Audience is who a festival's greeting goes to.
const (
	AudienceAll    = "ALL"
	AudienceElders = "ELDERS" // people aged ElderAge or over
)

// ElderAge is the age from which a person counts as an elder (重阳节 greetings).
const ElderAge = 60

// DefaultSendTime is the local time greetings go out when SendTime is empty.
const DefaultSendTime = "09:00"

// Limits checked by Validate.
const (
	MaxNameRunes     = 20
	MaxGreetingRunes = 200
	MinYear          = 1901 // years the lunar tables are trusted for
	MaxYear          = 2099
)

// Keys of the built-in festivals. Custom festivals use "custom:<slug>".
const (
	KeySpringFestival = "spring_festival" // 春节
	KeyNewYearsEve    = "new_years_eve"   // 除夕
	KeyLantern        = "lantern"         // 元宵节
	KeyQingming       = "qingming"        // 清明
	KeyDragonBoat     = "dragon_boat"     // 端午节
	KeyQixi           = "qixi"            // 七夕
	KeyMidAutumn      = "mid_autumn"      // 中秋节
	KeyDoubleNinth    = "double_ninth"    // 重阳节
	KeyNationalDay    = "national_day"    // 国庆节
	KeyNewYear        = "new_year"        // 元旦
	KeyLaba           = "laba"            // 腊八节
	KeyLittleNewYear  = "little_new_year" // 小年
	CustomKeyPrefix   = "custom:"
)

var builtinKeys = map[string]bool{
	KeySpringFestival: true, KeyNewYearsEve: true, KeyLantern: true, KeyQingming: true,
	KeyDragonBoat: true, KeyQixi: true, KeyMidAutumn: true, KeyDoubleNinth: true,
	KeyNationalDay: true, KeyNewYear: true, KeyLaba: true, KeyLittleNewYear: true,
}

var customSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Festival is one festival the company may greet owners on.
//
// Month and Day are in the festival's Calendar. A lunar Month is the ordinary
// (non-leap) month, and a lunar Day beyond the month's last day is kept on its
// last day, so 除夕 is lunar 12-30 and falls on 12-29 in years whose twelfth
// month is short. If SolarTerm is set (e.g. "清明") the date is that solar
// term's, Calendar must be SOLAR and Month and Day must be 0.
type Festival struct {
	Key               string   `bson:"key" json:"key"`
	NameZH            string   `bson:"nameZH" json:"nameZH"`
	NameEN            string   `bson:"nameEN" json:"nameEN"`
	Calendar          Calendar `bson:"calendar" json:"calendar"`
	Month             int      `bson:"month,omitempty" json:"month,omitempty"`
	Day               int      `bson:"day,omitempty" json:"day,omitempty"`
	SolarTerm         string   `bson:"solarTerm,omitempty" json:"solarTerm,omitempty"`
	Audience          string   `bson:"audience" json:"audience"`
	DefaultGreetingZH string   `bson:"defaultGreetingZH" json:"defaultGreetingZH"`
	DefaultGreetingEN string   `bson:"defaultGreetingEN" json:"defaultGreetingEN"`
	SendTime          string   `bson:"sendTime,omitempty" json:"sendTime,omitempty"` // "HH:MM" local; "" means DefaultSendTime
	Enabled           bool     `bson:"enabled" json:"enabled"`
}

// ErrNoOccurrence is returned (wrapped) by DateIn and SendAt when a festival
// does not fall in the requested solar year: a solar 02-29 in a common year,
// or a late lunar date such as 12-08 that some solar years skip.
var ErrNoOccurrence = errors.New("festival: no occurrence in that year")

const signZH = "—— 您的物业管家"
const signEN = "— your property butler"

// Builtins are the festivals every community starts with. Qingming is a day
// for remembering the departed, not for "happy" greetings, so it is disabled;
// so are Qixi (a lovers' day), Laba and Little New Year.
func Builtins() []Festival {
	return []Festival{
		{Key: KeyNewYear, NameZH: "元旦", NameEN: "New Year's Day", Calendar: Solar, Month: 1, Day: 1, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！新年伊始，祝您和家人元旦快乐、身体健康、万事顺意！" + signZH,
			DefaultGreetingEN: "Happy New Year! Wishing you and your family good health and every success in the year ahead. " + signEN},
		{Key: KeyLaba, NameZH: "腊八节", NameEN: "Laba Festival", Calendar: Lunar, Month: 12, Day: 8, Audience: AudienceAll, Enabled: false,
			DefaultGreetingZH: "{{.Name}}好！腊八到，年味浓，记得喝碗热乎乎的腊八粥，祝您幸福安康！" + signZH,
			DefaultGreetingEN: "Happy Laba Festival! Enjoy a warm bowl of Laba congee, and may the coming new year bring you joy. " + signEN},
		{Key: KeyLittleNewYear, NameZH: "小年", NameEN: "Little New Year", Calendar: Lunar, Month: 12, Day: 23, Audience: AudienceAll, Enabled: false,
			DefaultGreetingZH: "{{.Name}}好！小年到，新年近，祝您辞旧迎新、诸事顺遂、阖家欢乐！" + signZH,
			DefaultGreetingEN: "Happy Little New Year! The Spring Festival is near; wishing you a joyful season with your family. " + signEN},
		{Key: KeyNewYearsEve, NameZH: "除夕", NameEN: "New Year's Eve", Calendar: Lunar, Month: 12, Day: 30, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！除夕团圆夜，祝您和家人阖家团圆、辞旧迎新、来年吉祥如意！" + signZH,
			DefaultGreetingEN: "Happy Chinese New Year's Eve! May your reunion dinner be warm and the new year bring you every blessing. " + signEN},
		{Key: KeySpringFestival, NameZH: "春节", NameEN: "Spring Festival", Calendar: Lunar, Month: 1, Day: 1, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！新春佳节，祝您和家人新年快乐、阖家安康、万事如意！" + signZH,
			DefaultGreetingEN: "Happy Spring Festival! Wishing you and your family health, happiness and good fortune in the new year. " + signEN},
		{Key: KeyLantern, NameZH: "元宵节", NameEN: "Lantern Festival", Calendar: Lunar, Month: 1, Day: 15, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！月圆灯明，元宵佳节，祝您和家人团团圆圆、甜甜蜜蜜！" + signZH,
			DefaultGreetingEN: "Happy Lantern Festival! May the full moon and bright lanterns bring your family sweetness and togetherness. " + signEN},
		{Key: KeyQingming, NameZH: "清明节", NameEN: "Qingming Festival", Calendar: Solar, SolarTerm: "清明", Audience: AudienceAll, Enabled: false,
			DefaultGreetingZH: "{{.Name}}好！清明时节，出行祭扫请注意安全、文明祭祀，愿您和家人平安顺遂。" + signZH,
			DefaultGreetingEN: "At Qingming, please travel safely and take care when visiting family graves. Wishing you and your family peace. " + signEN},
		{Key: KeyDragonBoat, NameZH: "端午节", NameEN: "Dragon Boat Festival", Calendar: Lunar, Month: 5, Day: 5, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！粽叶飘香，端午安康！祝您和家人平安健康、顺心如意！" + signZH,
			DefaultGreetingEN: "Wishing you a safe and healthy Dragon Boat Festival, with fragrant zongzi and good cheer for all your family. " + signEN},
		{Key: KeyQixi, NameZH: "七夕", NameEN: "Qixi Festival", Calendar: Lunar, Month: 7, Day: 7, Audience: AudienceAll, Enabled: false,
			DefaultGreetingZH: "{{.Name}}好！七夕佳节，愿您与所爱之人相知相守、幸福美满！" + signZH,
			DefaultGreetingEN: "Happy Qixi Festival! May you and your loved ones share every happiness. " + signEN},
		{Key: KeyMidAutumn, NameZH: "中秋节", NameEN: "Mid-Autumn Festival", Calendar: Lunar, Month: 8, Day: 15, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！月圆人团圆，祝您和家人中秋快乐、阖家幸福、花好月圆！" + signZH,
			DefaultGreetingEN: "Happy Mid-Autumn Festival! May the full moon bring your family together in health and happiness. " + signEN},
		{Key: KeyNationalDay, NameZH: "国庆节", NameEN: "National Day", Calendar: Solar, Month: 10, Day: 1, Audience: AudienceAll, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！欢度国庆，祝您假期愉快、出行平安、阖家幸福！" + signZH,
			DefaultGreetingEN: "Happy National Day! Enjoy the holiday, travel safely, and all the best to your family. " + signEN},
		{Key: KeyDoubleNinth, NameZH: "重阳节", NameEN: "Double Ninth", Calendar: Lunar, Month: 9, Day: 9, Audience: AudienceElders, Enabled: true,
			DefaultGreetingZH: "{{.Name}}好！九九重阳，敬老情长。祝您福如东海、寿比南山，身体健康、笑口常开！" + signZH,
			DefaultGreetingEN: "On the Double Ninth Festival, we wish you good health, long life and many happy days. " + signEN},
	}
}

// DateIn is the solar date (at 00:00 UTC; use Year, Month and Day) on which
// the festival falls in solar year year. A lunar festival of lunar year Y may
// fall in solar year Y or Y+1, so both lunar years year-1 and year are
// considered; if both fall in year, the earlier is returned (see DatesIn),
// and if neither does, the error wraps ErrNoOccurrence.
func (f Festival) DateIn(year int) (time.Time, error) {
	if year < MinYear || year > MaxYear {
		return time.Time{}, fmt.Errorf("year: must be between %d and %d", MinYear, MaxYear)
	}
	if err := f.validateDate(); err != nil {
		return time.Time{}, err
	}
	if f.SolarTerm != "" {
		return solarTermIn(year, f.SolarTerm)
	}
	if f.Calendar == Solar {
		d := time.Date(year, time.Month(f.Month), f.Day, 0, 0, 0, 0, time.UTC)
		if d.Day() != f.Day { // 02-29 in a common year
			return time.Time{}, fmt.Errorf("%s %04d-%02d-%02d: %w", f.Key, year, f.Month, f.Day, ErrNoOccurrence)
		}
		return d, nil
	}
	ds, err := f.DatesIn(year)
	if err != nil {
		return time.Time{}, err
	}
	return ds[0], nil
}

// DatesIn is every solar date on which the festival falls in solar year year,
// earliest first. Only lunar dates late in the lunar year (from about 11-11 to
// 12-10) can fall twice in one solar year, or not at all: 腊八 (12-08) fell on
// 2022-01-10 and 2022-12-30, and not in 2023. A scheduler should use this (or
// CalendarFor) rather than DateIn, or it would miss 2022-12-30.
func (f Festival) DatesIn(year int) ([]time.Time, error) {
	if year < MinYear || year > MaxYear {
		return nil, fmt.Errorf("year: must be between %d and %d", MinYear, MaxYear)
	}
	if err := f.validateDate(); err != nil {
		return nil, err
	}
	if f.Calendar == Solar || f.SolarTerm != "" {
		d, err := f.DateIn(year)
		if err != nil {
			return nil, err
		}
		return []time.Time{d}, nil
	}
	var ds []time.Time
	for ly := year - 1; ly <= year; ly++ {
		if d := lunarToSolar(ly, f.Month, f.Day); d.Year() == year {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%s lunar %02d-%02d in %d: %w", f.Key, f.Month, f.Day, year, ErrNoOccurrence)
	}
	return ds, nil
}

// lunarToSolar is the solar date of lunar month-day (ordinary month) of lunar
// year ly, a day past the month's end being kept on its last day.
func lunarToSolar(ly, month, day int) time.Time {
	m := calendar.NewLunarYear(ly).GetMonth(month)
	if n := m.GetDayCount(); day > n {
		day = n
	}
	s := calendar.NewLunarFromYmd(ly, month, day).GetSolar()
	return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
}

// solarTerms are the 24 solar terms, in the order they begin from 小寒.
var solarTerms = []string{"小寒", "大寒", "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至",
	"小暑", "大暑", "立秋", "处暑", "白露", "秋分", "寒露", "霜降", "立冬", "小雪", "大雪", "冬至"}

// solarTermAliases are the names lunar-go uses for the terms it tabulates
// twice in a lunar year (those of the next solar year, or the previous).
var solarTermAliases = map[string]string{
	"DA_XUE": "大雪", "DONG_ZHI": "冬至", "XIAO_HAN": "小寒", "DA_HAN": "大寒",
	"LI_CHUN": "立春", "YU_SHUI": "雨水", "JING_ZHE": "惊蛰",
}

func isSolarTerm(name string) bool {
	for _, t := range solarTerms {
		if t == name {
			return true
		}
	}
	return false
}

// solarTermIn is the date (China time, as lunar-go computes it) on which the
// solar term begins in solar year year. Every term begins exactly once a
// solar year; the table of lunar year year covers 大雪 of year-1 to 惊蛰 of
// year+1, so all of them.
func solarTermIn(year int, term string) (time.Time, error) {
	for name, s := range calendar.NewLunarFromYmd(year, 6, 1).GetJieQiTable() {
		if a, ok := solarTermAliases[name]; ok {
			name = a
		}
		if name == term && s.GetYear() == year {
			return time.Date(year, time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s in %d: %w", term, year, ErrNoOccurrence)
}

// SendAt is the moment, in loc, the festival's greeting goes out in solar
// year year: DateIn's date at SendTime (DefaultSendTime if empty).
func (f Festival) SendAt(year int, loc *time.Location) (time.Time, error) {
	if loc == nil {
		return time.Time{}, errors.New("loc: required")
	}
	hh, mm, err := parseSendTime(f.SendTime)
	if err != nil {
		return time.Time{}, err
	}
	d, err := f.DateIn(year)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc), nil
}

func parseSendTime(s string) (hh, mm int, err error) {
	if s == "" {
		s = DefaultSendTime
	}
	t, perr := time.Parse("15:04", s)
	if perr != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("sendTime: must be HH:MM (00:00-23:59), got %q", s)
	}
	return t.Hour(), t.Minute(), nil
}

// Occurrence is a festival on its date in one solar year.
type Occurrence struct {
	Festival Festival
	Date     time.Time // 00:00 UTC; use Year, Month and Day
	SendAt   time.Time // in the loc given to CalendarFor
}

// CalendarFor lists every occurrence in solar year year of the enabled
// festivals of fs, sorted by date (then send time, then key). Disabled
// festivals and those with no occurrence that year are left out; a festival
// falling twice in the year (see DatesIn) is listed twice; an invalid
// festival is an error.
func CalendarFor(year int, loc *time.Location, fs []Festival) ([]Occurrence, error) {
	if loc == nil {
		return nil, errors.New("loc: required")
	}
	out := make([]Occurrence, 0, len(fs))
	for _, f := range fs {
		if !f.Enabled {
			continue
		}
		if err := Validate(f); err != nil {
			return nil, fmt.Errorf("festival %q: %w", f.Key, err)
		}
		ds, err := f.DatesIn(year)
		if errors.Is(err, ErrNoOccurrence) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("festival %q: %w", f.Key, err)
		}
		hh, mm, _ := parseSendTime(f.SendTime) // checked by Validate
		for _, d := range ds {
			at := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
			out = append(out, Occurrence{Festival: f, Date: d, SendAt: at})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		if !a.SendAt.Equal(b.SendAt) {
			return a.SendAt.Before(b.SendAt)
		}
		return a.Festival.Key < b.Festival.Key
	})
	return out, nil
}

// Validate checks a festival as an administrator defines it. Errors are plain
// errors whose text begins with the offending field's name ("key: ...").
func Validate(f Festival) error {
	switch {
	case builtinKeys[f.Key]:
	case strings.HasPrefix(f.Key, CustomKeyPrefix) && customSlug.MatchString(strings.TrimPrefix(f.Key, CustomKeyPrefix)):
	default:
		return fmt.Errorf("key: must be a built-in key or %q followed by a slug of 1-40 lowercase letters, digits, '-' or '_', got %q", CustomKeyPrefix, f.Key)
	}
	if err := checkName("nameZH", f.NameZH); err != nil {
		return err
	}
	if err := checkName("nameEN", f.NameEN); err != nil {
		return err
	}
	if err := f.validateDate(); err != nil {
		return err
	}
	if f.Audience != AudienceAll && f.Audience != AudienceElders {
		return fmt.Errorf("audience: must be %s or %s, got %q", AudienceAll, AudienceElders, f.Audience)
	}
	if err := checkGreeting("defaultGreetingZH", f.DefaultGreetingZH); err != nil {
		return err
	}
	if err := checkGreeting("defaultGreetingEN", f.DefaultGreetingEN); err != nil {
		return err
	}
	if _, _, err := parseSendTime(f.SendTime); err != nil {
		return err
	}
	return nil
}

// validateDate checks the fields DateIn depends on.
func (f Festival) validateDate() error {
	if f.Calendar != Solar && f.Calendar != Lunar {
		return fmt.Errorf("calendar: must be %s or %s, got %q", Solar, Lunar, f.Calendar)
	}
	if f.SolarTerm != "" {
		if !isSolarTerm(f.SolarTerm) {
			return fmt.Errorf("solarTerm: not one of the 24 solar terms: %q", f.SolarTerm)
		}
		if f.Calendar != Solar {
			return fmt.Errorf("calendar: must be %s when solarTerm is set", Solar)
		}
		if f.Month != 0 || f.Day != 0 {
			return errors.New("month: month and day must be 0 when solarTerm is set")
		}
		return nil
	}
	if f.Month < 1 || f.Month > 12 {
		return fmt.Errorf("month: must be 1-12, got %d", f.Month)
	}
	maxDay := 30
	if f.Calendar == Solar { // 2000 is a leap year, so 02-29 is allowed
		maxDay = time.Date(2000, time.Month(f.Month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
	if f.Day < 1 || f.Day > maxDay {
		return fmt.Errorf("day: must be 1-%d for %s month %d, got %d", maxDay, f.Calendar, f.Month, f.Day)
	}
	return nil
}

func checkName(field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("%s: required", field)
	}
	if n := utf8.RuneCountInString(s); n > MaxNameRunes {
		return fmt.Errorf("%s: at most %d characters, got %d", field, MaxNameRunes, n)
	}
	return nil
}

func checkGreeting(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s: required", field)
	}
	if n := utf8.RuneCountInString(s); n > MaxGreetingRunes {
		return fmt.Errorf("%s: at most %d characters, got %d", field, MaxGreetingRunes, n)
	}
	if _, err := RenderGreeting(s, "张三"); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// greetingData is what a greeting template sees.
type greetingData struct {
	Name string
}

// RenderGreeting fills a greeting template (Go text/template; {{.Name}} is the
// recipient's name, "您" when name is empty, so write "{{.Name}}好！").
func RenderGreeting(tmpl string, name string) (string, error) {
	t, err := template.New("greeting").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("bad template: %w", err)
	}
	if strings.TrimSpace(name) == "" {
		name = "您"
	}
	var b bytes.Buffer
	if err := t.Execute(&b, greetingData{Name: strings.TrimSpace(name)}); err != nil {
		return "", fmt.Errorf("bad template: %w", err)
	}
	return b.String(), nil
}
