package tasks

import (
	"context"

	"qinqing/internal/committee"
)

// CommitteeAction is an action item agreed at a committee meeting (会议事项).
const CommitteeAction Kind = "COMMITTEE_ACTION"

// CommitteeActions owes each open action item of the community's committee
// meetings to the staff member responsible for it, by its due date; it
// leaves the list when completeCommitteeAction marks it done.
type CommitteeActions struct {
	Meetings interface {
		OpenActionsIn(ctx context.Context, communityID string, limit int) ([]committee.Action, error)
	}
}

// meetingNames are the kinds of meeting as a task's title names them.
var meetingNames = map[committee.MeetingKind]string{
	committee.CommitteeMeeting: "业委会会议事项：",
	committee.ThreeParty:       "三方联席会议事项：",
	committee.OwnersForum:      "业主恳谈会事项：",
}

// Owed implements Source.
func (m CommitteeActions) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	as, err := m.Meetings.OpenActionsIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(as))
	for _, a := range as {
		out = append(out, &Task{ID: string(CommitteeAction) + ":" + a.ID, Kind: CommitteeAction, CommunityID: a.CommunityID,
			SubjectID: a.ID, Title: meetingNames[a.Kind] + summary(a.Title), DueAt: a.DueAt, CreatedAt: a.RecordedAt, StaffID: a.StaffID})
	}
	return out, nil
}
