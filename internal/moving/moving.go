// Package moving owns move bookings (搬家预约): a household books the
// building's service lift for a time window on a date, moving in or out.
// Two bookings of one lift never overlap, even when made at the same
// instant on two servers: each booking claims the lift's half-hour cells
// with unique ids before it exists. After a move in, the household's butler
// is given a congratulation visit (登门祝贺, with a small gift) and a move-in
// callback (入住回访) a week later.
package moving

import (
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/intake"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Direction of a move.
type Direction string

const (
	MoveIn  Direction = "MOVE_IN"
	MoveOut Direction = "MOVE_OUT"
)

// Status of a booking.
type Status string

const (
	Booked    Status = "BOOKED"
	Cancelled Status = "CANCELLED"
	Moved     Status = "MOVED" // the date has passed: the move happened
)

// Machine: a booking is cancelled before its window starts, or marked moved
// by the scheduler once its date has passed.
var Machine = lifecycle.Machine[Status]{
	"cancel": {From: []Status{Booked}, To: Cancelled},
	"moved":  {From: []Status{Booked}, To: Moved},
}

const (
	// CellMinutes is the grain of lift bookings: windows start and end on
	// the hour or the half hour, and each half hour is claimed once.
	CellMinutes = 30
	// Moving hours, community time: no lift bookings at night.
	EarliestStart = 7 * 60  // 07:00
	LatestEnd     = 20 * 60 // 20:00
	MaxWindow     = 8 * 60
	// MaxDaysAhead bounds how far ahead a lift may be booked.
	MaxDaysAhead = 90
	// ReminderTime is when, the day before, the household is reminded.
	ReminderTime = "18:00"
	// DueTime is the time of day butler tasks fall due, community time.
	DueTime = "18:00"
	// CongratulationAfterDays / CallbackAfterDays: the visit is due within
	// three days of moving in, the callback a week after the move.
	CongratulationAfterDays = 3
	CallbackAfterDays       = 7
)

// Butler task kinds (the butler task list's vocabulary).
const (
	TaskCongratulation = "CONGRATULATION_VISIT"
	TaskCallback       = "MOVE_IN_CALLBACK"
)

// Booking is one household's use of a lift for a move.
type Booking struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	BuildingID  string    `bson:"buildingId"`
	HouseholdID string    `bson:"householdId"`
	BookedBy    string    `bson:"bookedBy"`
	Date        string    `bson:"date"` // YYYY-MM-DD, community time
	From        string    `bson:"from"` // HH:MM
	To          string    `bson:"to"`   // HH:MM, exclusive
	Lift        string    `bson:"lift"` // as the household named it
	LiftKey     string    `bson:"liftKey"`
	LargeItems  []string  `bson:"largeItems"`
	Direction   Direction `bson:"direction"`
	Note        string    `bson:"note,omitempty"`
	Status      Status    `bson:"status"`
	Version     int       `bson:"version"`
	// Cells are the lift cells the booking holds (released on cancel).
	Cells        []string   `bson:"cells"`
	CancelReason string     `bson:"cancelReason,omitempty"`
	RemindedAt   *time.Time `bson:"remindedAt,omitempty"`
	MovedAt      *time.Time `bson:"movedAt,omitempty"`
	// TasksPending: a move in whose butler tasks are not yet confirmed
	// created (none wired yet, or the task list failed); retried.
	TasksPending bool              `bson:"tasksPending"`
	CreatedAt    time.Time         `bson:"createdAt"`
	UpdatedAt    time.Time         `bson:"updatedAt"`
	Timeline     []lifecycle.Entry `bson:"timeline"`
	// SortKey orders bookings by date and start time (upcoming first).
	SortKey string `bson:"sortKey"`
	// Intake is how it came in: set when staff filed it on a resident's
	// behalf or the resident named a channel (see package intake).
	Intake *intake.Record `bson:"intake,omitempty"`
}

// Start is when the booking's window begins.
func (b *Booking) Start(loc *time.Location) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly+" 15:04", b.Date+" "+b.From, loc)
	return t
}

// cell is one claimed half hour of one lift: its _id is the claim.
type cell struct {
	ID        string    `bson:"_id"`
	BookingID string    `bson:"bookingId"`
	Date      string    `bson:"date"`
	From      string    `bson:"from"` // the holder's window, for the conflict message
	To        string    `bson:"to"`
	ClaimedAt time.Time `bson:"claimedAt"`
}

// cellIDs lists the half hours of a window, in time order (which is also
// their _id order: claims are made in one global order, so of two
// overlapping bookings made at once the first to claim their lowest common
// cell wins, and the other cannot hold anything the winner needs).
func cellIDs(buildingID, liftKey, date string, from, to int) []string {
	var out []string
	for m := from; m < to; m += CellMinutes {
		out = append(out, fmt.Sprintf("%s|%s|%s|%s", buildingID, liftKey, date, hhmm(m)))
	}
	return out
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// minutes parses HH:MM into minutes after midnight.
func minutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || t.Format("15:04") != s {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// liftKey names a lift so that the ways residents write one lift ("2",
// "2号", "2号梯", "2号电梯", " 2 号梯 ", "２号梯") are the same lift: a booking's
// conflict check must not be dodged by spelling.
func liftKey(name string) string {
	// Chinese input methods type full-width digits and letters ("２号梯").
	name = strings.Map(func(r rune) rune {
		if '！' <= r && r <= '～' {
			return r - '！' + '!'
		}
		return r
	}, name)
	k := strings.ToUpper(strings.Join(strings.Fields(name), ""))
	for _, suffix := range []string{"号电梯", "号梯", "号", "电梯", "梯"} {
		if t := strings.TrimSuffix(k, suffix); t != "" && t != k {
			return t
		}
	}
	return k
}

var (
	ErrNotFound  = apperr.New(apperr.NotFound, "moving.not_found")
	ErrLiftTaken = apperr.New(apperr.Conflict, "moving.lift_taken")
	ErrTooLate   = apperr.New(apperr.Conflict, "moving.too_late")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"moving.not_found":   {ZH: "搬家预约不存在", EN: "Move booking not found"},
		"moving.lift_taken":  {ZH: "该电梯 %s %s–%s 已被预约，请选择其他时间段", EN: "The lift is already booked on %s from %s to %s; choose another time"},
		"moving.too_late":    {ZH: "搬家时间已开始，不能取消", EN: "The move has already begun; it can no longer be cancelled"},
		"moving.bad_window":  {ZH: "时间段无效：须在 07:00–20:00 之间，按整点或半点开始和结束，最长 8 小时", EN: "is not a valid window: within 07:00-20:00, on the hour or half hour, at most 8 hours"},
		"moving.bad_date":    {ZH: "搬家日期应在今天起 %d 天之内", EN: "must be today or within %d days"},
		"moving.past_window": {ZH: "该时间段已过", EN: "has already begun"},
	})
	lifecycle.Declare("move_bookings")
	mongo.Declare(
		mongo.Indexes{Collection: "move_bookings", Models: []mgo.IndexModel{
			// Staff lists: upcoming in a community, one day, one building.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "date", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "buildingId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// A household's own.
			{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// The scheduler: booked ones by date; moves in waiting for tasks.
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "date", Value: 1}}},
			{Keys: bson.D{{Key: "tasksPending", Value: 1}, {Key: "status", Value: 1}}},
		}},
		// Claims are found by _id only.
		mongo.Indexes{Collection: "move_lift_cells"},
	)
}
