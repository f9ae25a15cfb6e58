package notify

import (
	"context"
	"fmt"

	"qinqing/internal/household"
	"qinqing/internal/platform/auth"
)

// ResidentPages pages a community's memberships (household.Service).
type ResidentPages interface {
	MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
}

// Sends sends one message to its recipients (the Engine).
type Sends interface {
	Send(ctx context.Context, msg Message) (int, error)
}

// ResidentPage is how many memberships one read, and one Send, cover.
const ResidentPage = 500

// TellResidents sends msg to every resident of the community, owners,
// family and tenants: the memberships a page at a time (one query per
// page, no query per person), one Send per page, each person once even
// with two flats. What the community is told of its owners' affairs (a
// statement, a report, outcomes, a vote) goes out this way; msg.Key makes
// a resumed notice deliver nothing twice.
func TellResidents(ctx context.Context, s Sends, r ResidentPages, communityID string, msg Message) error {
	seen := map[string]bool{}
	after := ""
	for {
		ms, err := r.MembershipsInCommunity(ctx, communityID, after, ResidentPage)
		if err != nil {
			return fmt.Errorf("residents of %s: %w", communityID, err)
		}
		var rs []Recipient
		for _, m := range ms {
			if !seen[m.PersonID] {
				seen[m.PersonID] = true
				rs = append(rs, Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: communityID})
			}
		}
		if len(rs) > 0 {
			msg.Recipients = rs
			if _, err := s.Send(ctx, msg); err != nil {
				return fmt.Errorf("notice %s: %w", msg.Key, err)
			}
		}
		if len(ms) < ResidentPage {
			return nil
		}
		after = ms[len(ms)-1].ID
	}
}
