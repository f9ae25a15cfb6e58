package graph

import (
	"context"
	"errors"

	"qinqing/internal/staff"
)

// The review lists' bounds (see listBounds): a community's active staff
// (the store caps it at 500; a few tens typically), the figures of one
// review (at most 11; a role has about six), a rating's versions (at most
// 20, typically one or two), a session's attendance. A client lists the
// month's figures for everyone and opens a figure's items for one staff
// member (staffId).
func init() {
	for k, v := range map[string]int{
		"Query.staffReviews":         30,
		"StaffReview.figures":        6,
		"StaffRating.figures":        6,
		"StaffRating.history":        3,
		"StaffRatingVersion.figures": 6,
		"TrainingSession.attendees":  30,
		"TrainingSession.absent":     10,
	} {
		listBounds[k] = v
	}
}

// staffList loads staff by id through the request's loader (one batch),
// skipping any that no longer exist.
func staffList(ctx context.Context, ids []string) ([]*staff.Staff, error) {
	thunks := make([]func() (*staff.Staff, error), len(ids))
	for i, id := range ids {
		thunks[i] = loaders(ctx).Staff.LoadThunk(ctx, id)
	}
	out := make([]*staff.Staff, 0, len(ids))
	for _, th := range thunks {
		st, err := th()
		if err != nil && !errors.Is(err, errNotFound) {
			return nil, err
		}
		if st != nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// intOr is *p, or def when absent.
func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
