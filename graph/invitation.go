package graph

import (
	"context"

	"qinqing/graph/model"
	"qinqing/internal/household"
	"qinqing/internal/platform/auth"
)

// inviter names who invited: a resident's or staff member's name and the
// role they invited in. The invitee sees this before they can see anything
// else of the household.
func (r *Resolver) inviter(ctx context.Context, inv *household.Invitation) (*model.InvitationInviter, error) {
	out := &model.InvitationInviter{Role: inv.InviterRole}
	if inv.InviterKind == auth.KindPerson {
		p, err := one(ctx, loaders(ctx).Person, inv.InviterID)
		if err != nil {
			return nil, err
		}
		out.Name = p.Name
		return out, nil
	}
	st, err := one(ctx, loaders(ctx).Staff, inv.InviterID)
	if err != nil {
		return nil, err
	}
	out.Name = st.Name
	return out, nil
}
