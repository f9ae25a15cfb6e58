package facility

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// Window is a span of hours on some weekdays (1 = Monday .. 7 = Sunday),
// community time, in which disturbing work may be planned.
type Window struct {
	Days []int  `bson:"days"`
	From string `bson:"from"` // HH:MM
	To   string `bson:"to"`   // HH:MM, exclusive
}

// Settings are a community's facility settings.
type Settings struct {
	CommunityID string   `bson:"_id"`
	Windows     []Window `bson:"windows"`
	// NoticeHours is how long before disturbing work residents are told.
	NoticeHours int       `bson:"noticeHours"`
	UpdatedBy   string    `bson:"updatedBy"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// Defaults: weekdays 09:00-11:30 and 14:00-17:00, when most residents are
// out; outage notices a day ahead.
var (
	weekdays       = []int{1, 2, 3, 4, 5}
	DefaultWindows = []Window{{Days: weekdays, From: "09:00", To: "11:30"}, {Days: weekdays, From: "14:00", To: "17:00"}}
)

const (
	DefaultNoticeHours = 24
	MaxNoticeHours     = 7 * 24
	maxWindows         = 14
)

// WorkSettings are the community's settings, or the defaults.
func (s *Service) WorkSettings(ctx context.Context, communityID string) (*Settings, error) {
	var st Settings
	err := s.settings.FindOne(ctx, bson.D{{Key: "_id", Value: communityID}}).Decode(&st)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return &Settings{CommunityID: communityID, Windows: DefaultWindows, NoticeHours: DefaultNoticeHours}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("facility settings of %s: %w", communityID, err)
	}
	return &st, nil
}

// WorkSettingsFor is WorkSettings for a caller: the community's supervisors
// and engineers (who plan and do the work); NOT_FOUND for anyone else.
func (s *Service) WorkSettingsFor(ctx context.Context, c *access.Caller, communityID string) (*Settings, error) {
	if !sees(c, communityID) {
		return nil, ErrNotFound
	}
	return s.WorkSettings(ctx, communityID)
}

// IsDefault reports settings nobody has set: the defaults.
func (st *Settings) IsDefault() bool { return st.UpdatedBy == "" }

// SetWorkSettings replaces a community's work windows and notice lead.
// Orders already planned keep their times; the windows hold what is planned
// from now on.
func (s *Service) SetWorkSettings(ctx context.Context, c *access.Caller, communityID string, ws []Window, noticeHours int) (*Settings, error) {
	if !manages(c, communityID) {
		return nil, ErrNotFound
	}
	ws, err := checkWindows(ws)
	if err != nil {
		return nil, err
	}
	if noticeHours < 1 || noticeHours > MaxNoticeHours {
		return nil, apperr.Invalid("input.noticeHours", "facility.bad_lead", MaxNoticeHours)
	}
	st := &Settings{CommunityID: communityID, Windows: ws, NoticeHours: noticeHours, UpdatedBy: c.ID, UpdatedAt: s.cfg.Now().UTC()}
	if _, err := s.settings.ReplaceOne(ctx, bson.D{{Key: "_id", Value: communityID}}, st, options.Replace().SetUpsert(true)); err != nil {
		return nil, fmt.Errorf("set facility settings of %s: %w", communityID, err)
	}
	return st, nil
}

// checkWindows validates windows, naming the field at fault: each a start
// before its end on some weekdays, and no two overlapping on a day (an
// overlap is a typing mistake more often than an intent, and Describe would
// name the same hours twice). Days come back sorted and once each.
func checkWindows(ws []Window) ([]Window, error) {
	if len(ws) == 0 || len(ws) > maxWindows {
		return nil, apperr.Invalid("input.windows", "facility.windows_count", maxWindows)
	}
	out := make([]Window, len(ws))
	for i, w := range ws {
		field := fmt.Sprintf("input.windows.%d", i)
		from, ok := minutes(w.From)
		if !ok {
			return nil, apperr.Invalid(field+".from", "facility.bad_time")
		}
		to, ok := minutes(w.To)
		if !ok {
			return nil, apperr.Invalid(field+".to", "facility.bad_time")
		}
		if from >= to {
			return nil, apperr.Invalid(field+".to", "facility.end_before_start")
		}
		if len(w.Days) == 0 {
			return nil, apperr.Invalid(field+".days", "facility.no_days")
		}
		days := []int{}
		for _, d := range w.Days {
			if d < 1 || d > 7 {
				return nil, apperr.Invalid(field+".days", "facility.bad_day")
			}
			if !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
		slices.Sort(days)
		out[i] = Window{Days: days, From: w.From, To: w.To}
		for j := range i {
			a, _ := minutes(out[j].From)
			b, _ := minutes(out[j].To)
			if from < b && a < to && slices.ContainsFunc(days, func(d int) bool { return slices.Contains(out[j].Days, d) }) {
				return nil, apperr.Invalid(field, "facility.windows_overlap", j+1, i+1)
			}
		}
	}
	return out, nil
}

// minutes parses HH:MM into minutes after midnight.
func minutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || t.Format("15:04") != s {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func isoDay(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// Fits reports whether work of d starting at start lies wholly inside one
// window (community time loc).
func Fits(ws []Window, start time.Time, d time.Duration, loc *time.Location) bool {
	local := start.In(loc)
	from := local.Hour()*60 + local.Minute()
	end := from + int((d+time.Minute-1)/time.Minute)
	for _, w := range ws {
		a, _ := minutes(w.From)
		b, _ := minutes(w.To)
		if slices.Contains(w.Days, isoDay(local)) && a <= from && end <= b && local.Second() == 0 {
			return true
		}
	}
	return false
}

// NextWindow is the first window start at or after t where work of d fits;
// a job longer than every window starts at the next window start anyway
// (it cannot be split, and the start is still within the quiet hours).
func NextWindow(ws []Window, t time.Time, d time.Duration, loc *time.Location) time.Time {
	day := t.In(loc)
	midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	var fallback time.Time
	for i := 0; i < 15; i++ {
		date := midnight.AddDate(0, 0, i)
		starts := []time.Time{}
		for _, w := range ws {
			if !slices.Contains(w.Days, isoDay(date)) {
				continue
			}
			a, _ := minutes(w.From)
			b, _ := minutes(w.To)
			start := time.Date(date.Year(), date.Month(), date.Day(), a/60, a%60, 0, 0, loc)
			if start.Before(t) {
				continue
			}
			if time.Duration(b-a)*time.Minute >= d {
				starts = append(starts, start)
			} else if fallback.IsZero() {
				fallback = start
			}
		}
		if len(starts) > 0 {
			return slices.MinFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
		}
	}
	if fallback.IsZero() {
		return t
	}
	return fallback
}

// Describe writes windows for a message: "周一至周五 09:00–11:30".
func Describe(ws []Window) string {
	names := []string{"", "周一", "周二", "周三", "周四", "周五", "周六", "周日"}
	parts := make([]string, 0, len(ws))
	for _, w := range ws {
		days := slices.Clone(w.Days)
		slices.Sort(days)
		var d string
		if contiguous(days) && len(days) > 2 {
			d = names[days[0]] + "至" + names[days[len(days)-1]]
		} else {
			ns := make([]string, len(days))
			for i, x := range days {
				ns[i] = names[x]
			}
			d = strings.Join(ns, "、")
		}
		parts = append(parts, d+" "+w.From+"–"+w.To)
	}
	return strings.Join(parts, "；")
}

func contiguous(days []int) bool {
	for i := 1; i < len(days); i++ {
		if days[i] != days[i-1]+1 {
			return false
		}
	}
	return true
}
