package committee

import (
	"context"
	"fmt"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Bounds of one meeting's record.
const (
	maxAttendees     = 60
	maxAgenda        = 30
	maxActions       = 30
	maxMinutes       = 20000
	maxPlace         = 100
	maxItemText      = 200
	maxAttendeeName  = 40
	maxAttendeeTitle = 60
	maxActionNote    = 500
	oldestMeeting    = 366 * 24 * time.Hour
)

// AttendeeInput is one attendee as entered: a sitting committee member
// (MemberID, party COMMITTEE), a staff member of the community (StaffID,
// party COMPANY), or anyone else by name.
type AttendeeInput struct {
	Party    Party
	Name     string
	Title    string
	MemberID string
	StaffID  string
}

// ActionInput is one action item as entered.
type ActionInput struct {
	Title              string
	ResponsibleStaffID string
	DueDate            string // YYYY-MM-DD in the community
}

// RecordInput is a meeting to record.
type RecordInput struct {
	CommunityID string
	Kind        MeetingKind
	HeldAt      time.Time
	Place       string
	Attendees   []AttendeeInput
	Agenda      []string
	Minutes     string
	Actions     []ActionInput
}

// Record records a meeting that was held: supervisors of the community and
// admins, and the committee's chair and vice-chair, may. Its action items
// go on their responsible staff members' task lists until done.
func (s *Meetings) Record(ctx context.Context, c *access.Caller, in RecordInput) (*Meeting, error) {
	v, err := s.viewerOf(ctx, c, in.CommunityID)
	if err != nil {
		return nil, err
	}
	if !v.record {
		return nil, apperr.ErrForbidden
	}
	m := &Meeting{ID: mongo.NewID(), CommunityID: in.CommunityID, Kind: in.Kind, HeldAt: in.HeldAt.UTC()}
	if !slices.Contains(MeetingKinds, in.Kind) {
		return nil, apperr.Invalid("input.kind", "meeting.bad_kind")
	}
	now := s.cfg.Now()
	switch {
	case in.HeldAt.After(now.Add(validate.OfflineSkew)):
		return nil, apperr.Invalid("input.heldAt", "meeting.held_future")
	case in.HeldAt.Before(now.Add(-oldestMeeting)):
		return nil, apperr.Invalid("input.heldAt", "meeting.held_too_old")
	}
	if m.Place, err = validate.Text("input.place", in.Place, true, maxPlace); err != nil {
		return nil, err
	}
	if m.Agenda, err = validate.List("input.agenda", in.Agenda, maxAgenda, maxItemText); err != nil {
		return nil, err
	}
	if len(m.Agenda) == 0 {
		return nil, apperr.Invalid("input.agenda", "input.required")
	}
	if m.Minutes, err = validate.Text("input.minutes", in.Minutes, true, maxMinutes); err != nil {
		return nil, err
	}
	if err := s.checkIDs(in); err != nil {
		return nil, err
	}
	sitting, err := s.cfg.Roster.Sitting(ctx, in.CommunityID)
	if err != nil {
		return nil, err
	}
	staffed, err := s.staffNamed(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if m.Attendees, err = meetingAttendees(in, sitting, staffed); err != nil {
		return nil, err
	}
	if m.Actions, err = s.actions(m, in, staffed); err != nil {
		return nil, err
	}
	m.OpenHint = len(m.Actions)
	if m.RecordedByName, err = meetingRecorder(c, sitting, staffed); err != nil {
		return nil, err
	}
	m.RecordedBy, m.RecordedAt, m.SortKey = c.ID, now.UTC(), page.NewestFirst(m.HeldAt, m.ID)
	if _, err := s.col.InsertOne(ctx, m); err != nil {
		return nil, meetingErr("insert meeting", m.ID, err)
	}
	if err := s.fill(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkIDs checks the shape of every id in the input before any is looked up.
func (s *Meetings) checkIDs(in RecordInput) error {
	if len(in.Attendees) == 0 {
		return apperr.Invalid("input.attendees", "meeting.no_attendees")
	}
	if len(in.Attendees) > maxAttendees {
		return apperr.Invalid("input.attendees", "input.too_many", maxAttendees)
	}
	if len(in.Actions) > maxActions {
		return apperr.Invalid("input.actionItems", "input.too_many", maxActions)
	}
	for i, a := range in.Attendees {
		f := fmt.Sprintf("input.attendees.%d.", i)
		if a.MemberID != "" {
			if err := validate.ID(f+"committeeMemberId", a.MemberID); err != nil {
				return err
			}
		}
		if a.StaffID != "" {
			if err := validate.ID(f+"staffId", a.StaffID); err != nil {
				return err
			}
		}
	}
	for i, a := range in.Actions {
		if err := validate.ID(fmt.Sprintf("input.actionItems.%d.responsibleStaffId", i), a.ResponsibleStaffID); err != nil {
			return err
		}
	}
	return nil
}

// staffNamed loads every staff member the input names, and the recorder
// when staff, in one $in; only active staff of the community are kept.
func (s *Meetings) staffNamed(ctx context.Context, c *access.Caller, in RecordInput) (map[string]*staff.Staff, error) {
	var ids []string
	for _, a := range in.Attendees {
		if a.StaffID != "" {
			ids = append(ids, a.StaffID)
		}
	}
	for _, a := range in.Actions {
		ids = append(ids, a.ResponsibleStaffID)
	}
	if c.IsStaff() {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return map[string]*staff.Staff{}, nil
	}
	all, err := s.cfg.Staff.ByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("staff named on a meeting: %w", err)
	}
	out := make(map[string]*staff.Staff, len(all))
	for id, st := range all {
		if st.Active && (slices.Contains(st.CommunityIDs, in.CommunityID) || slices.Contains(st.Roles, access.Admin)) {
			out[id] = st
		}
	}
	return out, nil
}

// staffOfCommunity: the staff may be named by id only when they work in the
// community (an admin recording is not someone to owe an action item).
func staffOfCommunity(st *staff.Staff, communityID string) bool {
	return st != nil && slices.Contains(st.CommunityIDs, communityID)
}

// meetingAttendees checks who attended: members sitting today, staff of the
// community, each listed once, and the parties the kind of meeting needs.
func meetingAttendees(in RecordInput, sitting []*Seat, staffed map[string]*staff.Staff) ([]Attendee, error) {
	out := make([]Attendee, 0, len(in.Attendees))
	parties := map[Party]bool{}
	members := 0
	named := map[string]bool{} // members and staff already listed
	for i, a := range in.Attendees {
		f := fmt.Sprintf("input.attendees.%d.", i)
		if !slices.Contains(Parties, a.Party) {
			return nil, apperr.Invalid(f+"party", "meeting.bad_party")
		}
		x := Attendee{Party: a.Party}
		var err error
		if x.Title, err = validate.Text(f+"title", a.Title, false, maxAttendeeTitle); err != nil {
			return nil, err
		}
		switch {
		case a.MemberID != "":
			i := slices.IndexFunc(sitting, func(m *Seat) bool { return m.ID == a.MemberID })
			if i < 0 || a.Party != PartyCommittee {
				return nil, apperr.Invalid(f+"committeeMemberId", "meeting.not_member")
			}
			x.MemberID, x.Name, x.Role = a.MemberID, sitting[i].Name, sitting[i].Role
			members++
		case a.StaffID != "":
			st := staffed[a.StaffID]
			if !staffOfCommunity(st, in.CommunityID) || a.Party != PartyCompany {
				return nil, apperr.Invalid(f+"staffId", "meeting.not_staff")
			}
			x.StaffID, x.Name = st.ID, st.Name
		default:
			if x.Name, err = validate.Text(f+"name", a.Name, false, maxAttendeeName); err != nil {
				return nil, err
			}
			if x.Name == "" {
				return nil, apperr.Invalid(f+"name", "meeting.attendee_who")
			}
		}
		for field, id := range map[string]string{"committeeMemberId": x.MemberID, "staffId": x.StaffID} {
			if id == "" {
				continue
			}
			if named[id] {
				return nil, apperr.Invalid(f+field, "meeting.attendee_twice")
			}
			named[id] = true
		}
		parties[a.Party] = true
		out = append(out, x)
	}
	switch {
	case in.Kind == ThreeParty && !(parties[PartyCommittee] && parties[PartyCompany] && parties[PartyNeighborhood]):
		return nil, apperr.Invalid("input.attendees", "meeting.three_parties")
	case in.Kind == CommitteeMeeting && members == 0:
		return nil, apperr.Invalid("input.attendees", "meeting.no_committee")
	}
	return out, nil
}

// actions checks the action items: each owed by an active staff member of
// the community, due on or after the meeting's day there.
func (s *Meetings) actions(m *Meeting, in RecordInput, staffed map[string]*staff.Staff) ([]Action, error) {
	zone := s.zone(m.CommunityID)
	held := m.HeldAt.In(zone).Format(time.DateOnly)
	out := make([]Action, 0, len(in.Actions))
	for i, a := range in.Actions {
		f := fmt.Sprintf("input.actionItems.%d.", i)
		title, err := validate.Text(f+"title", a.Title, true, maxItemText)
		if err != nil {
			return nil, err
		}
		if !staffOfCommunity(staffed[a.ResponsibleStaffID], m.CommunityID) {
			return nil, apperr.Invalid(f+"responsibleStaffId", "meeting.not_staff")
		}
		day, err := time.ParseInLocation(time.DateOnly, a.DueDate, zone)
		if err != nil || day.Format(time.DateOnly) != a.DueDate {
			return nil, apperr.Invalid(f+"dueDate", "meeting.bad_date")
		}
		if a.DueDate < held {
			return nil, apperr.Invalid(f+"dueDate", "meeting.due_before_held")
		}
		out = append(out, Action{ID: actionID(m.ID, i+1), Title: title, StaffID: a.ResponsibleStaffID, DueDate: a.DueDate,
			DueAt: day.AddDate(0, 0, 1).Add(-time.Second).UTC()})
	}
	return out, nil
}

// meetingRecorder is the name the record keeps of who recorded it.
func meetingRecorder(c *access.Caller, sitting []*Seat, staffed map[string]*staff.Staff) (string, error) {
	if c.IsStaff() {
		if st := staffed[c.ID]; st != nil {
			return st.Name, nil
		}
		return "", fmt.Errorf("meeting recorder %s: not an active staff member", c.ID)
	}
	for _, m := range sitting {
		if m.PersonID == c.ID {
			return m.Name, nil
		}
	}
	return "", fmt.Errorf("meeting recorder %s: not a sitting member", c.ID)
}
