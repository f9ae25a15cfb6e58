package finance

import "context"

// Latest is the newest published version of the community's statement for
// period, nil when none, with no caller check: for services that decide
// themselves who reads it (the owners' management report).
func (s *Service) Latest(ctx context.Context, communityID, period string) (*Statement, error) {
	vs, err := s.versions(ctx, communityID, []string{period})
	if err != nil {
		return nil, err
	}
	if v := vs[period]; len(v) > 0 {
		return v[0], nil
	}
	return nil, nil
}
