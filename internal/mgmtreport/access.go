package mgmtreport

import (
	"context"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// level is what a caller may do with a community's reports; each level
// includes the ones below it.
type level int

const (
	none      level = iota
	resident        // reads published versions
	sitting         // also reads drafts and comments on them
	staffRead       // staff of the community: reads everything
	editor          // generates and writes commentary (finance clerks too)
	publisher       // publishes: supervisors of the community, admins
)

// levelOf decides the caller's level in the community. The committee is
// asked only for a resident of the community.
func (s *Service) levelOf(ctx context.Context, c *access.Caller, communityID string) (level, error) {
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	switch {
	case c.IsAdmin() || c.SupervisesIn(communityID):
		return publisher, nil
	case c.StaffIn(communityID, access.Finance):
		return editor, nil
	case c.WorksIn(communityID):
		return staffRead, nil
	}
	if !c.IsPerson() || !slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID }) {
		return none, nil
	}
	if s.cfg.Committee != nil {
		role, err := s.cfg.Committee.RoleOf(ctx, c, communityID)
		if err != nil {
			return none, err
		}
		if role != "" {
			return sitting, nil
		}
	}
	return resident, nil
}

// sees reports whether a caller at l may read a version in status st.
func (l level) sees(st Status) bool {
	return st == Published && l >= resident || l >= sitting
}
