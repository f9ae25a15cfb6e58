package committee

import (
	"context"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// meetingViewer is what a caller may do with one community's meetings.
type meetingViewer struct {
	all    bool // every kind: the community's staff and sitting committee members
	record bool // supervisors and admins; the chair and vice-chair
}

// reads reports whether v may read a meeting of kind k: residents who are
// not on the committee read the owners' forums, which were held for them.
func (v meetingViewer) reads(k MeetingKind) bool { return v.all || k == OwnersForum }

// viewerOf decides once per request what the caller may do in community:
// anyone who is neither its staff nor its resident gets NOT_FOUND, as for a
// community they cannot see.
func (s *Meetings) viewerOf(ctx context.Context, c *access.Caller, communityID string) (meetingViewer, error) {
	if c == nil {
		return meetingViewer{}, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return meetingViewer{}, err
	}
	if c.IsStaff() {
		if !c.WorksIn(communityID) {
			return meetingViewer{}, community.ErrNotFound.WithField("communityId")
		}
		return meetingViewer{all: true, record: c.SupervisesIn(communityID) || c.IsAdmin()}, nil
	}
	if !c.IsPerson() || !slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID }) {
		return meetingViewer{}, community.ErrNotFound.WithField("communityId")
	}
	role, err := s.cfg.Roster.RoleOf(ctx, c, communityID)
	if err != nil {
		return meetingViewer{}, err
	}
	return meetingViewer{all: role != "", record: role.Leads()}, nil
}
