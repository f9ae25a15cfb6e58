package app

import (
	"context"
	"time"

	"qinqing/graph"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/vote"
)

// wireVotes builds the owners' votes (业主大会表决) over the household
// register and the owners' committee.
func wireVotes(svc *graph.Services, d Deps, communities *community.Service, households *household.Service, engine *notify.Engine, zone func(string) *time.Location, committee vote.Committee) {
	svc.Votes = vote.NewService(vote.Config{DB: d.DB, Committee: committee, Households: households, Sender: engine,
		Places: communityNames{communities}, Zone: zone, Log: d.Log, Now: d.Now})
}

// communityNames names communities for the vote notices.
type communityNames struct{ c *community.Service }

func (n communityNames) CommunityName(ctx context.Context, id string) (string, error) {
	cs, err := n.c.ByIDs(ctx, []string{id})
	if err != nil || cs[id] == nil {
		return "", err
	}
	return cs[id].Name, nil
}
