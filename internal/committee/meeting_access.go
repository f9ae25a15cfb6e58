package committee

import (
	"context"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// viewer is what a caller may do with one community's meetings.
type viewer struct {
	all    bool // every kind: the community's staff and sitting committee members
	record bool // supervisors and admins; the chair and vice-chair
}

// reads reports whether v may read a meeting of kind k: residents who are
// not on the committee read the owners' forums, which were held for them.
func (v viewer) reads(k MeetingKind) bool { return v.all || k == OwnersForum }

// viewerOf decides once per request what the caller may do in community:
// anyone who is neither its staff nor its resident gets NOT_FOUND, as for a
// community they cannot see.
func (s *Meetings) viewerOf(ctx context.Context, c *access.Caller, communityID string) (viewer, error) {
	if c == nil {
		return viewer{}, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return viewer{}, err
	}
	if c.IsStaff() {
		if !c.WorksIn(communityID) {
			return viewer{}, community.ErrNotFound.WithField("communityId")
		}
		return viewer{all: true, record: c.SupervisesIn(communityID) || c.IsAdmin()}, nil
	}
	if !c.IsPerson() || !slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID }) {
		return viewer{}, community.ErrNotFound.WithField("communityId")
	}
	role, err := s.cfg.Roster.RoleOf(ctx, c, communityID)
	if err != nil {
		return viewer{}, err
	}
	return viewer{all: role != "", record: role.Leads()}, nil
}
