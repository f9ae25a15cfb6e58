package tasks

import (
	"context"
	"time"

	"qinqing/internal/dunning"
	"qinqing/internal/fee"
)

// FeeCalls owes the courteous call or visit on every household in arrears
// after its two reminders, and the follow-up once an owner's promised date
// has passed, to the household's butler; done by recording the call
// (recordDunningStep).
type FeeCalls struct {
	Dunning interface {
		CallsOwedIn(ctx context.Context, communityID string, limit int) ([]*dunning.Case, error)
		CallDueAt(x *dunning.Case) time.Time
	}
}

// Owed implements Source.
func (f FeeCalls) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	xs, err := f.Dunning.CallsOwedIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(xs))
	for _, x := range xs {
		title := "物业费催缴：请电话或上门沟通，欠费 " + fee.Yuan(x.ArrearsFen) + " 元"
		if x.HeldUntil != "" {
			title = "物业费催缴：业主承诺 " + x.HeldUntil + " 前缴费，请跟进"
		}
		out = append(out, &Task{ID: string(FeeReminderCall) + ":" + x.ID, Kind: FeeReminderCall, CommunityID: x.CommunityID,
			BuildingID: x.BuildingID, HouseholdID: x.HouseholdID, SubjectID: x.HouseholdID, Title: title,
			DueAt: f.Dunning.CallDueAt(x), CreatedAt: x.OpenedAt})
	}
	return out, nil
}
