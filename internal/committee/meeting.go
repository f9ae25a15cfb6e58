package committee

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/staff"
)

// MeetingKind is what kind of meeting was held.
type MeetingKind string

// Kinds of meeting.
const (
	CommitteeMeeting MeetingKind = "COMMITTEE"    // 业委会会议
	ThreeParty       MeetingKind = "THREE_PARTY"  // 三方联席会议: committee, company, neighbourhood office
	OwnersForum      MeetingKind = "OWNERS_FORUM" // 业主恳谈会: open to the community's residents
)

// MeetingKinds lists the valid kinds.
var MeetingKinds = []MeetingKind{CommitteeMeeting, ThreeParty, OwnersForum}

// Party is the side an attendee sits on.
type Party string

// Parties at a meeting.
const (
	PartyCommittee    Party = "COMMITTEE"            // 业委会
	PartyCompany      Party = "COMPANY"              // 物业服务企业
	PartyNeighborhood Party = "NEIGHBOURHOOD_OFFICE" // 街道办事处/居委会
	PartyOwner        Party = "OWNER"                // 业主代表
	PartyOther        Party = "OTHER"
)

// Parties lists the valid parties.
var Parties = []Party{PartyCommittee, PartyCompany, PartyNeighborhood, PartyOwner, PartyOther}

// ActionStatus is where an action item stands.
type ActionStatus string

// Action item states.
const (
	ActionOpen ActionStatus = "OPEN"
	ActionDone ActionStatus = "DONE"
)

// Meeting is one recorded meeting with its minutes and action items. What
// was agreed lives in the meeting's document, so recording a meeting is one
// insert; each item's completion is a document of its own, claimed by its
// id (a unique insert is exact on MongoDB and FerretDB alike, where FerretDB
// runs a guarded update as a read then a write and two completions of items
// of one meeting could overwrite each other).
type Meeting struct {
	ID          string      `bson:"_id"`
	CommunityID string      `bson:"communityId"`
	Kind        MeetingKind `bson:"kind"`
	HeldAt      time.Time   `bson:"heldAt"`
	Place       string      `bson:"place"`
	Attendees   []Attendee  `bson:"attendees"`
	Agenda      []string    `bson:"agenda"`
	Minutes     string      `bson:"minutes"`
	Actions     []Action    `bson:"actions"`
	// OpenHint counts down as items are done: the task lists read only
	// meetings whose hint is above zero. A lost decrement leaves it high,
	// which costs a read, never a task.
	OpenHint int `bson:"openActions"`
	// OpenActions is the items not done, as read (not stored).
	OpenActions int `bson:"-"`
	// RecordedBy is the staff member or the committee member's person who
	// recorded it; RecordedByName the name they had then.
	RecordedBy     string    `bson:"recordedBy"`
	RecordedByName string    `bson:"recordedByName"`
	RecordedAt     time.Time `bson:"recordedAt"`
	SortKey        string    `bson:"sortKey"` // newest held first
}

// Attendee is one person at a meeting, as recorded then: a sitting
// committee member (MemberID), a staff member (StaffID) or a name.
type Attendee struct {
	Party    Party  `bson:"party"`
	Name     string `bson:"name"`
	Title    string `bson:"title,omitempty"` // 职务, e.g. 街道城管科科长
	MemberID string `bson:"memberId,omitempty"`
	Role     Role   `bson:"role,omitempty"` // the member's committee role then
	StaffID  string `bson:"staffId,omitempty"`
}

// Action is one action item: who in the company owes what, by when.
type Action struct {
	ID      string    `bson:"id"` // <meeting id>:<n>, n from 1
	Title   string    `bson:"title"`
	StaffID string    `bson:"staffId"`
	DueDate string    `bson:"dueDate"` // YYYY-MM-DD in the community
	DueAt   time.Time `bson:"dueAt"`   // the end of DueDate there
	// Set by reads from the item's completion, not stored here.
	Status      ActionStatus `bson:"-"`
	DoneAt      *time.Time   `bson:"-"`
	DoneBy      string       `bson:"-"`
	Note        string       `bson:"-"`
	MeetingID   string       `bson:"-"`
	CommunityID string       `bson:"-"`
	Kind        MeetingKind  `bson:"-"`
	RecordedAt  time.Time    `bson:"-"` // the meeting's record: when it became owed
	Overdue     bool         `bson:"-"`
}

// actionDone is an action item marked done; its _id is the item's.
type actionDone struct {
	ID          string    `bson:"_id"`
	MeetingID   string    `bson:"meetingId"`
	CommunityID string    `bson:"communityId"`
	DoneAt      time.Time `bson:"doneAt"`
	DoneBy      string    `bson:"doneBy"`
	Note        string    `bson:"note,omitempty"`
}

const (
	colMeetings    = "committee_meetings"
	colCompletions = "committee_actions_done"
)

var (
	ErrMeetingNotFound = apperr.New(apperr.NotFound, "meeting.not_found")
	ErrActionNotFound  = apperr.New(apperr.NotFound, "meeting.action_not_found")
	ErrActionDone      = apperr.New(apperr.Conflict, "meeting.action_done")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"meeting.not_found":        {ZH: "会议记录不存在", EN: "No such meeting"},
		"meeting.action_not_found": {ZH: "会议事项不存在", EN: "No such action item"},
		"meeting.action_done":      {ZH: "该事项已完成", EN: "This action item is already done"},
		"meeting.bad_kind":         {ZH: "会议类型无效", EN: "is not a kind of meeting"},
		"meeting.bad_party":        {ZH: "参会方无效", EN: "is not a party to a meeting"},
		"meeting.held_future":      {ZH: "会议时间不能晚于现在（请在会后记录）", EN: "must not be in the future (record a meeting after it is held)"},
		"meeting.held_too_old":     {ZH: "会议时间不能早于一年前", EN: "must be within the last year"},
		"meeting.no_attendees":     {ZH: "请至少填写一位参会人员", EN: "needs at least one attendee"},
		"meeting.attendee_twice":   {ZH: "该参会人员已填写过", EN: "lists an attendee already listed"},
		"meeting.attendee_who":     {ZH: "请填写参会人员姓名，或选择业委会委员或员工", EN: "needs a name, a committee member or a staff member"},
		"meeting.not_member":       {ZH: "不是本小区在任的业委会委员", EN: "is not a sitting member of this community's committee"},
		"meeting.not_staff":        {ZH: "不是本小区在职的员工", EN: "is not an active staff member of this community"},
		"meeting.three_parties":    {ZH: "三方联席会议须有业委会、物业服务企业和街道/居委会三方人员参加", EN: "a three-party meeting needs attendees from the committee, the company and the neighbourhood office"},
		"meeting.no_committee":     {ZH: "业委会会议须至少有一位在任委员参加", EN: "a committee meeting needs at least one sitting member present"},
		"meeting.due_before_held":  {ZH: "完成期限不能早于会议日期", EN: "must not be before the meeting's date"},
		"meeting.bad_date":         {ZH: "日期格式应为 YYYY-MM-DD", EN: "must be a date YYYY-MM-DD"},
	})
	mongo.Declare(mongo.Indexes{Collection: colMeetings, Models: []mgo.IndexModel{
		// A community's meetings, newest first, of every kind or one.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "kind", Value: 1}, {Key: "sortKey", Value: 1}}},
		// The task lists: meetings that still owe something.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "openActions", Value: 1}}},
	}})
}

// Roster is what meetings need of the committee itself.
type Roster interface {
	RoleOf(ctx context.Context, c *access.Caller, communityID string) (Role, error)
	Sitting(ctx context.Context, communityID string) ([]*Seat, error)
}

// StaffDirectory finds staff members named on a meeting, in one $in.
type StaffDirectory interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
}

// MeetingsConfig wires the meetings service.
type MeetingsConfig struct {
	DB     *mongo.DB
	Roster Roster
	Staff  StaffDirectory
	Zone   func(communityID string) *time.Location
	Now    func() time.Time
}

// Meetings records the committee's meetings and follows their action items.
type Meetings struct {
	cfg       MeetingsConfig
	col, done *mgo.Collection
}

// NewMeetings opens the store.
func NewMeetings(cfg MeetingsConfig) *Meetings {
	return &Meetings{cfg: cfg, col: cfg.DB.Collection(colMeetings), done: cfg.DB.Collection(colCompletions)}
}

func (s *Meetings) zone(communityID string) *time.Location {
	if s.cfg.Zone != nil {
		return s.cfg.Zone(communityID)
	}
	return time.FixedZone("CST", 8*3600)
}

// actionID names the n-th (from 1) action item of a meeting: the meeting's
// id leads, so completing one is a read by _id.
func actionID(meetingID string, n int) string { return meetingID + ":" + strconv.Itoa(n) }

// splitActionID is the meeting and the item's index; ok false for an id we
// could not have issued.
func splitActionID(id string) (meetingID string, i int, ok bool) {
	m, n, found := strings.Cut(id, ":")
	if !found || !mongo.ValidID(m) {
		return "", 0, false
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 || k > maxActions || strconv.Itoa(k) != n {
		return "", 0, false
	}
	return m, k - 1, true
}

// fill sets the read-only fields of the meetings' items from their
// completions: one $in for all of them.
func (s *Meetings) fill(ctx context.Context, ms ...*Meeting) error {
	var ids []string
	for _, m := range ms {
		for _, a := range m.Actions {
			ids = append(ids, a.ID)
		}
	}
	done := map[string]*actionDone{}
	if len(ids) > 0 {
		var err error
		if done, err = mongo.ByIDs(ctx, s.done, ids, func(c *actionDone) string { return c.ID }); err != nil {
			return err
		}
	}
	now := s.cfg.Now()
	for _, m := range ms {
		m.OpenActions = 0
		for i := range m.Actions {
			a := &m.Actions[i]
			a.MeetingID, a.CommunityID, a.Kind, a.RecordedAt = m.ID, m.CommunityID, m.Kind, m.RecordedAt
			a.Status, a.DoneAt, a.DoneBy, a.Note = ActionOpen, nil, "", ""
			if c := done[a.ID]; c != nil {
				at := c.DoneAt
				a.Status, a.DoneAt, a.DoneBy, a.Note = ActionDone, &at, c.DoneBy, c.Note
			} else {
				m.OpenActions++
			}
			a.Overdue = a.Status == ActionOpen && now.After(a.DueAt)
		}
	}
	return nil
}

func (s *Meetings) byID(ctx context.Context, id string) (*Meeting, error) {
	m, err := mongo.FindByID[Meeting](ctx, s.col, id, ErrMeetingNotFound)
	if err != nil {
		return nil, err
	}
	if err := s.fill(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// wrap names the meeting in a store error.
func meetingErr(what, id string, err error) error { return fmt.Errorf("%s %s: %w", what, id, err) }
