package fee

import "context"

// TenantsSeeBills reports whether a household's owners let its tenants see
// (and so pay) its bills: payments ask it for tenant callers.
func (s *Service) TenantsSeeBills(ctx context.Context, householdID string) (bool, error) {
	m, err := s.tenantsAllowed(ctx, []string{householdID})
	if err != nil {
		return false, err
	}
	return m[householdID], nil
}
