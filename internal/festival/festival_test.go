package festival

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/6tail/lunar-go/calendar"
)

func builtin(t *testing.T, key string) Festival {
	t.Helper()
	for _, f := range Builtins() {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no builtin %q", key)
	return Festival{}
}

func ymd(d time.Time) string { return d.Format("2006-01-02") }

func TestDateInKnownDates(t *testing.T) {
	tests := []struct {
		key  string
		year int
		want string
	}{
		{KeySpringFestival, 2026, "2026-02-17"},
		{KeyLantern, 2026, "2026-03-03"},
		{KeyQingming, 2026, "2026-04-05"},
		{KeyDragonBoat, 2026, "2026-06-19"},
		{KeyMidAutumn, 2026, "2026-09-25"},
		{KeyDoubleNinth, 2026, "2026-10-18"},
		{KeyNewYearsEve, 2026, "2026-02-16"},
		{KeyNationalDay, 2026, "2026-10-01"},
		{KeyNewYear, 2026, "2026-01-01"},
		{KeyLaba, 2026, "2026-01-26"},
		{KeyQixi, 2026, "2026-08-19"},

		{KeySpringFestival, 2027, "2027-02-06"},
		{KeyLantern, 2027, "2027-02-20"},
		{KeyQingming, 2027, "2027-04-05"},
		{KeyDragonBoat, 2027, "2027-06-09"},
		{KeyMidAutumn, 2027, "2027-09-15"},
		{KeyDoubleNinth, 2027, "2027-10-08"},
		{KeyNewYearsEve, 2027, "2027-02-05"}, // 除夕 of lunar year 2026
		{KeyLaba, 2027, "2027-01-15"},        // 腊八 of lunar year 2026
		{KeyNationalDay, 2027, "2027-10-01"},
		{KeyNewYear, 2027, "2027-01-01"},

		// 2025: the twelfth month of lunar 2024 had 29 days, so 除夕 was 腊月二十九.
		{KeyNewYearsEve, 2025, "2025-01-28"},
		{KeySpringFestival, 2025, "2025-01-29"},
		{KeyQingming, 2025, "2025-04-04"},
		{KeyMidAutumn, 2025, "2025-10-06"},
		{KeyQingming, 2028, "2028-04-04"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.key, tt.year), func(t *testing.T) {
			got, err := builtin(t, tt.key).DateIn(tt.year)
			if err != nil {
				t.Fatal(err)
			}
			if ymd(got) != tt.want {
				t.Errorf("DateIn(%d) = %s, want %s", tt.year, ymd(got), tt.want)
			}
			if got.Location() != time.UTC || got.Hour() != 0 {
				t.Errorf("DateIn = %v, want 00:00 UTC", got)
			}
		})
	}
}

// Every lunar builtin lands, read back through lunar-go, on its own lunar
// date in an ordinary month (除夕 on the eve of 正月初一), over two decades.
func TestDateInRoundTrip(t *testing.T) {
	for _, f := range Builtins() {
		if f.Calendar != Lunar {
			continue
		}
		for y := 2020; y <= 2045; y++ {
			ds, err := f.DatesIn(y)
			if errors.Is(err, ErrNoOccurrence) {
				continue
			}
			if err != nil {
				t.Fatalf("%s %d: %v", f.Key, y, err)
			}
			for _, d := range ds {
				if d.Year() != y {
					t.Errorf("%s %d: date %s not in year", f.Key, y, ymd(d))
				}
				l := calendar.NewLunarFromDate(d)
				if f.Key == KeyNewYearsEve {
					n := calendar.NewLunarFromDate(d.AddDate(0, 0, 1))
					if l.GetMonth() != 12 || n.GetMonth() != 1 || n.GetDay() != 1 {
						t.Errorf("除夕 %s: lunar %d-%d, next day %d-%d", ymd(d), l.GetMonth(), l.GetDay(), n.GetMonth(), n.GetDay())
					}
					continue
				}
				if l.GetMonth() != f.Month || l.GetDay() != f.Day {
					t.Errorf("%s %s: lunar %d-%d, want %d-%d", f.Key, ymd(d), l.GetMonth(), l.GetDay(), f.Month, f.Day)
				}
			}
		}
	}
}

func TestLateLunarDateTwiceOrNever(t *testing.T) {
	laba := builtin(t, KeyLaba)

	ds, err := laba.DatesIn(2022)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ymd(ds[0]) != "2022-01-10" || ymd(ds[1]) != "2022-12-30" {
		t.Fatalf("DatesIn(2022) = %v, want 2022-01-10 and 2022-12-30", ds)
	}
	d, err := laba.DateIn(2022)
	if err != nil || ymd(d) != "2022-01-10" {
		t.Errorf("DateIn(2022) = %s, %v; want the first, 2022-01-10", ymd(d), err)
	}
	if _, err := laba.DateIn(2023); !errors.Is(err, ErrNoOccurrence) {
		t.Errorf("DateIn(2023) err = %v, want ErrNoOccurrence", err)
	}
	if _, err := laba.DatesIn(2023); !errors.Is(err, ErrNoOccurrence) {
		t.Errorf("DatesIn(2023) err = %v, want ErrNoOccurrence", err)
	}

	laba.Enabled = true
	occ, err := CalendarFor(2022, time.UTC, []Festival{laba})
	if err != nil || len(occ) != 2 {
		t.Fatalf("CalendarFor(2022, laba) = %d occurrences, %v; want 2", len(occ), err)
	}
	occ, err = CalendarFor(2023, time.UTC, []Festival{laba})
	if err != nil || len(occ) != 0 {
		t.Fatalf("CalendarFor(2023, laba) = %d occurrences, %v; want 0", len(occ), err)
	}
}

func TestDateInSolarAndErrors(t *testing.T) {
	leap := Festival{Key: "custom:leap-day", Calendar: Solar, Month: 2, Day: 29}
	if d, err := leap.DateIn(2028); err != nil || ymd(d) != "2028-02-29" {
		t.Errorf("02-29 in 2028 = %s, %v", ymd(d), err)
	}
	if _, err := leap.DateIn(2027); !errors.Is(err, ErrNoOccurrence) {
		t.Errorf("02-29 in 2027 err = %v, want ErrNoOccurrence", err)
	}
	for _, tt := range []struct {
		name string
		f    Festival
		year int
		want string
	}{
		{"year too early", builtin(t, KeyNewYear), 1800, "year:"},
		{"year too late", builtin(t, KeyNewYear), 2200, "year:"},
		{"bad calendar", Festival{Calendar: "GREGORIAN", Month: 1, Day: 1}, 2026, "calendar:"},
		{"lunar month 13", Festival{Calendar: Lunar, Month: 13, Day: 1}, 2026, "month:"},
		{"lunar day 31", Festival{Calendar: Lunar, Month: 1, Day: 31}, 2026, "day:"},
		{"unknown term", Festival{Calendar: Solar, SolarTerm: "春节"}, 2026, "solarTerm:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.DateIn(tt.year)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestSolarTerms(t *testing.T) {
	for _, tt := range []struct {
		term string
		year int
		want string
	}{
		{"清明", 2026, "2026-04-05"},
		{"冬至", 2026, "2026-12-22"},
		{"小寒", 2027, "2027-01-05"},
		{"大雪", 2026, "2026-12-07"},
		{"立春", 2026, "2026-02-04"},
	} {
		f := Festival{Key: "custom:term", Calendar: Solar, SolarTerm: tt.term}
		d, err := f.DateIn(tt.year)
		if err != nil || ymd(d) != tt.want {
			t.Errorf("%s %d = %s, %v; want %s", tt.term, tt.year, ymd(d), err, tt.want)
		}
	}
}

func TestSendAt(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		f        Festival
		year     int
		want     string
		wantErr  string
		location *time.Location
	}{
		{"mid-autumn default 09:00", builtin(t, KeyMidAutumn), 2026, "2026-09-25T09:00:00+08:00", "", sh},
		{"spring festival 2027", builtin(t, KeySpringFestival), 2027, "2027-02-06T09:00:00+08:00", "", sh},
		{"custom send time", func() Festival { f := builtin(t, KeyNewYearsEve); f.SendTime = "19:30"; return f }(), 2026, "2026-02-16T19:30:00+08:00", "", sh},
		{"utc", builtin(t, KeyNationalDay), 2026, "2026-10-01T09:00:00Z", "", time.UTC},
		{"bad send time", func() Festival { f := builtin(t, KeyNationalDay); f.SendTime = "9:00"; return f }(), 2026, "", "sendTime:", sh},
		{"nil loc", builtin(t, KeyNationalDay), 2026, "", "loc:", nil},
		{"no occurrence", builtin(t, KeyLaba), 2023, "", "laba", sh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.SendAt(tt.year, tt.location)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(time.RFC3339); s != tt.want {
				t.Errorf("SendAt = %s, want %s", s, tt.want)
			}
		})
	}
}

func TestCalendarFor(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	occ, err := CalendarFor(2026, sh, Builtins())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, o := range occ {
		got = append(got, o.Festival.Key+"@"+ymd(o.Date))
		if i > 0 && o.Date.Before(occ[i-1].Date) {
			t.Errorf("not sorted at %d", i)
		}
		if !o.Festival.Enabled {
			t.Errorf("disabled %s listed", o.Festival.Key)
		}
		if o.SendAt.Location() != sh || ymd(o.SendAt) != ymd(o.Date) || o.SendAt.Hour() != 9 {
			t.Errorf("%s SendAt = %v", o.Festival.Key, o.SendAt)
		}
	}
	want := []string{
		"new_year@2026-01-01",
		"new_years_eve@2026-02-16",
		"spring_festival@2026-02-17",
		"lantern@2026-03-03",
		"dragon_boat@2026-06-19",
		"mid_autumn@2026-09-25",
		"national_day@2026-10-01",
		"double_ninth@2026-10-18",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("CalendarFor(2026) =\n %v\nwant\n %v", got, want)
	}

	// Same day: earlier send time first, then key.
	a := Festival{Key: "custom:b", NameZH: "乙", NameEN: "B", Calendar: Solar, Month: 10, Day: 1, Audience: AudienceAll,
		DefaultGreetingZH: "好", DefaultGreetingEN: "Hi", SendTime: "08:00", Enabled: true}
	b := builtin(t, KeyNationalDay)
	c := a
	c.Key, c.SendTime = "custom:a", "09:00"
	occ, err = CalendarFor(2026, sh, []Festival{b, c, a})
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != 3 || occ[0].Festival.Key != "custom:b" || occ[1].Festival.Key != "custom:a" || occ[2].Festival.Key != KeyNationalDay {
		t.Errorf("same-day order wrong: %+v", occ)
	}

	// 2025: Mid-Autumn (10-06) after National Day (10-01).
	occ, _ = CalendarFor(2025, sh, []Festival{builtin(t, KeyMidAutumn), builtin(t, KeyNationalDay)})
	if len(occ) != 2 || occ[0].Festival.Key != KeyNationalDay {
		t.Errorf("2025 order wrong: %+v", occ)
	}

	bad := builtin(t, KeyNationalDay)
	bad.NameZH = ""
	if _, err := CalendarFor(2026, sh, []Festival{bad}); err == nil || !strings.Contains(err.Error(), "nameZH:") {
		t.Errorf("invalid festival err = %v", err)
	}
	if _, err := CalendarFor(2026, nil, Builtins()); err == nil {
		t.Error("nil loc accepted")
	}
}

func TestBuiltins(t *testing.T) {
	seen := map[string]bool{}
	enabled := map[string]bool{}
	for _, f := range Builtins() {
		if err := Validate(f); err != nil {
			t.Errorf("%s: %v", f.Key, err)
		}
		if seen[f.Key] {
			t.Errorf("duplicate key %s", f.Key)
		}
		seen[f.Key] = true
		enabled[f.Key] = f.Enabled
		if !strings.HasSuffix(f.DefaultGreetingZH, "—— 您的物业管家") || !strings.HasSuffix(f.DefaultGreetingEN, "— your property butler") {
			t.Errorf("%s greeting not signed", f.Key)
		}
		if want := AudienceAll; f.Key == KeyDoubleNinth {
			if f.Audience != AudienceElders {
				t.Errorf("double ninth audience = %s", f.Audience)
			}
		} else if f.Audience != want {
			t.Errorf("%s audience = %s", f.Key, f.Audience)
		}
	}
	for _, k := range []string{KeyQingming, KeyQixi, KeyLaba, KeyLittleNewYear} {
		if enabled[k] {
			t.Errorf("%s enabled by default", k)
		}
	}
	for _, k := range []string{KeySpringFestival, KeyNewYearsEve, KeyLantern, KeyDragonBoat, KeyMidAutumn, KeyDoubleNinth, KeyNationalDay, KeyNewYear} {
		if !enabled[k] {
			t.Errorf("%s disabled by default", k)
		}
	}
	// Builtins returns a fresh slice.
	bs := Builtins()
	bs[0].NameZH = "x"
	if Builtins()[0].NameZH == "x" {
		t.Error("Builtins shares state")
	}
}

func TestValidate(t *testing.T) {
	base := func() Festival {
		return Festival{Key: "custom:harvest-day", NameZH: "丰收节", NameEN: "Harvest Festival", Calendar: Lunar, Month: 8, Day: 1,
			Audience: AudienceAll, DefaultGreetingZH: "{{.Name}}好！" + signZH, DefaultGreetingEN: "Happy harvest! " + signEN, Enabled: true}
	}
	tests := []struct {
		name  string
		edit  func(*Festival)
		field string // "" = valid
	}{
		{"valid lunar", func(*Festival) {}, ""},
		{"valid lunar 12-30", func(f *Festival) { f.Month, f.Day = 12, 30 }, ""},
		{"valid solar 02-29", func(f *Festival) { f.Calendar, f.Month, f.Day = Solar, 2, 29 }, ""},
		{"valid solar term", func(f *Festival) { f.Calendar, f.Month, f.Day, f.SolarTerm = Solar, 0, 0, "冬至" }, ""},
		{"valid send time", func(f *Festival) { f.SendTime = "20:05" }, ""},
		{"valid elders", func(f *Festival) { f.Audience = AudienceElders }, ""},
		{"builtin key", func(f *Festival) { f.Key = KeyMidAutumn }, ""},
		{"name 20 runes", func(f *Festival) { f.NameZH = strings.Repeat("节", 20) }, ""},
		{"greeting 200 runes", func(f *Festival) { f.DefaultGreetingZH = strings.Repeat("好", 200) }, ""},

		{"empty key", func(f *Festival) { f.Key = "" }, "key:"},
		{"unknown key", func(f *Festival) { f.Key = "harvest" }, "key:"},
		{"custom no slug", func(f *Festival) { f.Key = "custom:" }, "key:"},
		{"custom upper", func(f *Festival) { f.Key = "custom:Harvest" }, "key:"},
		{"custom space", func(f *Festival) { f.Key = "custom:harvest day" }, "key:"},
		{"custom too long", func(f *Festival) { f.Key = "custom:" + strings.Repeat("a", 41) }, "key:"},
		{"no nameZH", func(f *Festival) { f.NameZH = " " }, "nameZH:"},
		{"nameZH too long", func(f *Festival) { f.NameZH = strings.Repeat("节", 21) }, "nameZH:"},
		{"nameEN too long", func(f *Festival) { f.NameEN = "Double Ninth Festival" }, "nameEN:"},
		{"bad calendar", func(f *Festival) { f.Calendar = "" }, "calendar:"},
		{"month 0", func(f *Festival) { f.Month = 0 }, "month:"},
		{"month 13", func(f *Festival) { f.Month = 13 }, "month:"},
		{"lunar day 0", func(f *Festival) { f.Day = 0 }, "day:"},
		{"lunar day 31", func(f *Festival) { f.Day = 31 }, "day:"},
		{"solar 02-30", func(f *Festival) { f.Calendar, f.Month, f.Day = Solar, 2, 30 }, "day:"},
		{"solar 04-31", func(f *Festival) { f.Calendar, f.Month, f.Day = Solar, 4, 31 }, "day:"},
		{"unknown term", func(f *Festival) { f.Calendar, f.Month, f.Day, f.SolarTerm = Solar, 0, 0, "清明节" }, "solarTerm:"},
		{"term on lunar", func(f *Festival) { f.Month, f.Day, f.SolarTerm = 0, 0, "清明" }, "calendar:"},
		{"term with month", func(f *Festival) { f.Calendar, f.SolarTerm = Solar, "清明" }, "month:"},
		{"bad audience", func(f *Festival) { f.Audience = "KIDS" }, "audience:"},
		{"empty audience", func(f *Festival) { f.Audience = "" }, "audience:"},
		{"no greeting zh", func(f *Festival) { f.DefaultGreetingZH = "" }, "defaultGreetingZH:"},
		{"greeting zh too long", func(f *Festival) { f.DefaultGreetingZH = strings.Repeat("好", 201) }, "defaultGreetingZH:"},
		{"greeting en bad template", func(f *Festival) { f.DefaultGreetingEN = "Dear {{.Name" }, "defaultGreetingEN:"},
		{"greeting unknown field", func(f *Festival) { f.DefaultGreetingZH = "{{.Unit}}好" }, "defaultGreetingZH:"},
		{"send time 24:00", func(f *Festival) { f.SendTime = "24:00" }, "sendTime:"},
		{"send time 9:00", func(f *Festival) { f.SendTime = "9:00" }, "sendTime:"},
		{"send time seconds", func(f *Festival) { f.SendTime = "09:00:00" }, "sendTime:"},
		{"send time junk", func(f *Festival) { f.SendTime = "morning" }, "sendTime:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base()
			tt.edit(&f)
			err := Validate(f)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.field) {
				t.Fatalf("err = %v, want one naming %q", err, tt.field)
			}
		})
	}
}

func TestRenderGreeting(t *testing.T) {
	tests := []struct {
		name, tmpl, who, want, wantErr string
	}{
		{"with name", "{{.Name}}好！中秋快乐", "王阿姨", "王阿姨好！中秋快乐", ""},
		{"empty name", "{{.Name}}好！中秋快乐", "", "您好！中秋快乐", ""},
		{"blank name", "{{.Name}}好！", "  ", "您好！", ""},
		{"no placeholder", "Happy Mid-Autumn Festival!", "Ann", "Happy Mid-Autumn Festival!", ""},
		{"twice", "{{.Name}}，{{.Name}}", "李", "李，李", ""},
		{"no html escaping", "{{.Name}}", "A&B <x>", "A&B <x>", ""},
		{"parse error", "{{.Name", "李", "", "bad template"},
		{"unknown field", "{{.Age}}", "李", "", "bad template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderGreeting(tt.tmpl, tt.who)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// Every builtin greeting renders, with and without a name.
	for _, f := range Builtins() {
		for _, who := range []string{"", "张先生"} {
			for _, tmpl := range []string{f.DefaultGreetingZH, f.DefaultGreetingEN} {
				s, err := RenderGreeting(tmpl, who)
				if err != nil || strings.Contains(s, "{{") {
					t.Errorf("%s: %q, %v", f.Key, s, err)
				}
			}
		}
	}
}
