// Package hotline owns the call log of the family hotline (亲情电话): each
// call with when it came in, the caller's phone matched to a resident of
// the community where possible, who answered and after how many rings, and
// what it became (an enquiry, a repair, a complaint, an order, or nothing).
// Supervisors read how quickly calls were answered against the standard
// (振铃三响之内接听) and what they turned into.
package hotline

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// Direction of a call.
type Direction string

const (
	Inbound  Direction = "INBOUND"  // a resident rang the hotline
	Outbound Direction = "OUTBOUND" // staff called back
)

// Directions lists the valid values.
var Directions = []Direction{Inbound, Outbound}

// Outcome is what a call became.
type Outcome string

const (
	Enquiry         Outcome = "ENQUIRY"
	Repair          Outcome = "REPAIR"
	Complaint       Outcome = "COMPLAINT"
	ServiceOrder    Outcome = "SERVICE_ORDER"
	MoveBooking     Outcome = "MOVE_BOOKING"
	CampaignBooking Outcome = "CAMPAIGN_BOOKING"
	Nothing         Outcome = "NOTHING"
)

// Outcomes in the order summaries list them.
var Outcomes = []Outcome{Enquiry, Repair, Complaint, ServiceOrder, MoveBooking, CampaignBooking, Nothing}

// The answering standard: within three rings (振铃三响之内). When only the
// seconds were noted, three rings of the mainland ring cadence (1 s on, 4 s
// off) are 15 seconds.
const (
	StandardRings   = 3
	StandardSeconds = 15
)

// Candidate is one resident of the community holding the caller's phone:
// a person with one of their households there.
type Candidate struct {
	PersonID    string `bson:"personId"`
	HouseholdID string `bson:"householdId"`
}

// Call is one logged hotline call.
type Call struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	ReceivedAt  time.Time `bson:"receivedAt"`
	Direction   Direction `bson:"direction"`
	Phone       string    `bson:"phone"`
	// PersonID is the resident of this community holding Phone, when one
	// does; HouseholdID is set when they live in exactly one household
	// here, else Candidates lists their households here.
	PersonID    string      `bson:"personId,omitempty"`
	HouseholdID string      `bson:"householdId,omitempty"`
	Candidates  []Candidate `bson:"candidates"`
	AnsweredBy  string      `bson:"answeredBy"` // staff id
	LoggedBy    string      `bson:"loggedBy"`
	Rings       *int        `bson:"rings,omitempty"`
	// AnswerSeconds is the wait until answered, when noted.
	AnswerSeconds   *int      `bson:"answerSeconds,omitempty"`
	DurationSeconds int       `bson:"durationSeconds"`
	Note            string    `bson:"note,omitempty"`
	Outcome         Outcome   `bson:"outcome"`
	ItemID          string    `bson:"itemId,omitempty"`
	SortKey         string    `bson:"sortKey"` // newest first by ReceivedAt
	CreatedAt       time.Time `bson:"createdAt"`
	UpdatedAt       time.Time `bson:"updatedAt"`
}

// WithinStandard reports whether an inbound call was answered within the
// standard: by its rings when noted, else by its seconds. nil for a call
// back (the standard is about answering) and when neither was noted.
func (x *Call) WithinStandard() *bool {
	return withinStandard(x.Direction, x.Rings, x.AnswerSeconds)
}

func withinStandard(d Direction, rings, seconds *int) *bool {
	if d != Inbound {
		return nil
	}
	var ok bool
	switch {
	case rings != nil:
		ok = *rings <= StandardRings
	case seconds != nil:
		ok = *seconds <= StandardSeconds
	default:
		return nil
	}
	return &ok
}

var (
	ErrNotFound     = apperr.New(apperr.NotFound, "hotline.not_found")
	ErrItemNotFound = apperr.New(apperr.NotFound, "hotline.item_not_found")
	// ErrNoLink is an item id given for an outcome that has none (NOTHING)
	// or whose items cannot be linked in this build.
	ErrNoLink = apperr.New(apperr.BadUserInput, "hotline.no_link")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"hotline.not_found":        {ZH: "通话记录不存在", EN: "Call not found"},
		"hotline.item_not_found":   {ZH: "本小区没有这条记录", EN: "is not an item of this community that you may see"},
		"hotline.no_link":          {ZH: "该处理结果不能关联记录", EN: "cannot be linked for this outcome"},
		"hotline.bad_time":         {ZH: "来电时间应在最近 31 天内且不晚于现在", EN: "must be within the last 31 days and not in the future"},
		"hotline.measure_required": {ZH: "请填写振铃次数或接听秒数", EN: "give rings or seconds until answered for an incoming call"},
		"hotline.bad_window":       {ZH: "时间段无效：结束须晚于开始，且不超过 366 天", EN: "must be after from, at most 366 days later"},
		"hotline.not_answerer":     {ZH: "接听人须是本小区的客服、管家或主管", EN: "is not front-desk staff, a butler or a supervisor of this community"},
	})
	mongo.Declare(mongo.Indexes{Collection: "hotline_calls", Models: []mgo.IndexModel{
		// The call log, newest first, and its filters; a from/to window is
		// a range of sortKey (see keyRange), so each list is one index scan.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "answeredBy", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "outcome", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The summary and the KPI: a community's calls in a window.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "receivedAt", Value: 1}}},
		// A resident's own calls.
		{Keys: bson.D{{Key: "personId", Value: 1}, {Key: "sortKey", Value: 1}}},
	}})
}
