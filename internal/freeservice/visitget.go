package freeservice

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/platform/validate"
)

// Visit returns a booking (visit) the caller may see: members of its
// household and staff of its community; NOT_FOUND for anyone else, as for
// an unknown id (the call log links a call to the booking it became).
func (s *Service) Visit(ctx context.Context, c *access.Caller, id string) (*Visit, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	v, err := s.visit(ctx, id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, ErrNotFound
	}
	if _, ok := c.RoleIn(v.HouseholdID); !ok && !c.WorksIn(v.CommunityID) {
		return nil, ErrNotFound
	}
	return v, nil
}
