package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/committee"
)

// The meeting lists' bounds (see listBounds): the store caps a meeting at
// 60 attendees and 30 action items; a typical one has a dozen and a few.
func init() {
	for k, v := range map[string]int{
		"CommitteeMeeting.attendees":   12,
		"CommitteeMeeting.actionItems": 5,
	} {
		listBounds[k] = v
	}
}

// meetingInput is the domain's form of the API's input.
func meetingInput(in model.RecordCommitteeMeetingInput) committee.RecordInput {
	out := committee.RecordInput{CommunityID: in.CommunityID, Kind: in.Kind, HeldAt: in.HeldAt, Place: in.Place,
		Agenda: in.Agenda, Minutes: in.Minutes}
	for _, a := range in.Attendees {
		out.Attendees = append(out.Attendees, committee.AttendeeInput{Party: a.Party, Name: deref(a.Name), Title: deref(a.Title),
			MemberID: deref(a.CommitteeMemberID), StaffID: deref(a.StaffID)})
	}
	for _, a := range in.ActionItems {
		out.Actions = append(out.Actions, committee.ActionInput{Title: a.Title, ResponsibleStaffID: a.ResponsibleStaffID, DueDate: a.DueDate})
	}
	return out
}
