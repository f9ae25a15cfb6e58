package tasks

import (
	"context"

	"qinqing/internal/enquiry"
)

// OverdueEnquiries owes an answer on every open enquiry past its promised
// time, by its owner (首问责任制); one nobody has taken yet falls to the
// household's butler.
type OverdueEnquiries struct {
	Enquiries interface {
		OverdueIn(ctx context.Context, communityID string, limit int) ([]*enquiry.Enquiry, error)
	}
}

// Owed implements Source.
func (o OverdueEnquiries) Owed(ctx context.Context, communityID string, limit int) ([]*Task, error) {
	xs, err := o.Enquiries.OverdueIn(ctx, communityID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Task, 0, len(xs))
	for _, x := range xs {
		out = append(out, &Task{ID: string(EnquiryOverdue) + ":" + x.ID, Kind: EnquiryOverdue, CommunityID: x.CommunityID, HouseholdID: x.HouseholdID,
			SubjectID: x.ID, Title: "咨询超时未答复：" + summary(x.Question), DueAt: x.PromisedBy, CreatedAt: x.CreatedAt, StaffID: x.OwnerStaffID,
			PersonID: x.AskerID})
	}
	return out, nil
}
