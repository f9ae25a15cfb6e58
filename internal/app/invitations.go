package app

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
)

// invitationNotices sends household invitations through the notification
// engine (household cannot import notify, which imports household).
type invitationNotices struct{ engine *notify.Engine }

var inviterRoleNames = map[access.Role][2]string{
	access.Owner: {"业主", "owner"}, access.Supervisor: {"物业主管", "property supervisor"},
	access.Butler: {"物业管家", "butler"}, access.Admin: {"物业", "property service"},
}

func (n invitationNotices) InvitationReceived(ctx context.Context, in household.InvitationNotice) error {
	role, ok := inviterRoleNames[in.InviterRole]
	if !ok {
		role = inviterRoleNames[access.Admin]
	}
	_, err := n.engine.Send(ctx, notify.Message{
		Kind: notify.HouseholdInvitation, Key: "household-invitation:" + in.InvitationID,
		Recipients: []notify.Recipient{{Kind: auth.KindPerson, ID: in.PersonID, CommunityID: in.CommunityID}},
		Vars:       map[string]any{"label": in.Label, "inviterRole": role[0], "inviterRoleEN": role[1]},
		Data:       map[string]string{"invitationId": in.InvitationID},
	})
	return err
}
