package graph

import (
	"context"
	"errors"

	"qinqing/graph/model"
	"qinqing/internal/notify"
	"qinqing/internal/platform/page"
	"qinqing/internal/vote"
)

// The vote lists' bounds (see listBounds): a ballot has at most 10 options;
// an owner holds a few units of a register, or a few proxies.
func init() {
	for k, v := range map[string]int{
		"Vote.options":       vote.MaxOptions,
		"VoteResult.options": vote.MaxOptions,
		"Vote.myUnits":       5,
	} {
		listBounds[k] = v
	}
	notifyKinds = append(notifyKinds, notify.VoteOpened, notify.VoteResultPublished)
}

// squareMetres shows hundredths of a square metre as square metres.
func squareMetres(h int64) float64 { return float64(h) / 100 }

func voteConnection(pg page.Page[*vote.Vote]) *model.VoteConnection {
	return &model.VoteConnection{
		Edges:      edges(pg, func(cur string, n *vote.Vote) *model.VoteEdge { return &model.VoteEdge{Cursor: cur, Node: n} }),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

func voteResult(v *vote.Vote) *model.VoteResult {
	r := v.Result
	if r == nil {
		return nil
	}
	out := &model.VoteResult{Participating: &r.Participating, ParticipationMet: r.ParticipationMet, Outcome: r.Outcome, AdoptedOption: v.Option(r.AdoptedOptionID)}
	for i := range r.Options {
		o := &r.Options[i]
		out.Options = append(out.Options, &model.VoteOptionResult{Option: v.Option(o.OptionID), Tally: &o.Tally, Reached: o.Reached})
	}
	return out
}

// ballotReceipt shows a receipt with its option, looked up in v unless known.
func ballotReceipt(v *vote.Vote, r *vote.Receipt) *model.BallotReceipt {
	if r == nil {
		return nil
	}
	o := r.Option
	if o == nil {
		o = v.Option(r.OptionID)
	}
	return &model.BallotReceipt{VoteID: r.VoteID, HouseholdID: r.HouseholdID, Receipt: r.Code, Option: o, CastAt: r.CastAt, ByProxy: r.ByProxy}
}

func voteUnit(v *vote.Vote, u *vote.UnitStatus) *model.VoteUnit {
	return &model.VoteUnit{HouseholdID: u.HouseholdID, Label: u.Label, Area: squareMetres(u.Area), AsProxy: u.AsProxy, Voted: u.Voted,
		MyBallot: ballotReceipt(v, u.Mine), ProxyPhone: strp(u.ProxyPhone)}
}

func voteBallot(v *vote.Vote, b *vote.Ballot) *model.VoteBallot {
	out := &model.VoteBallot{HouseholdID: b.HouseholdID, UnitLabel: b.Label, Area: squareMetres(b.Area), Cast: b.Cast}
	if b.Cast {
		by := model.BallotCasterOwner
		if b.ByProxy {
			by = model.BallotCasterProxy
		}
		out.CastBy, out.Option, out.CastAt, out.Receipt = &by, v.Option(b.OptionID), b.CastAt, strp(b.Receipt)
	}
	return out
}

func openVoteInput(in model.OpenVoteInput) vote.OpenInput {
	out := vote.OpenInput{CommunityID: in.CommunityID, Title: in.Title, Description: in.Description, Rule: in.Rule, OpensAt: in.OpensAt, ClosesAt: in.ClosesAt}
	for _, o := range in.Options {
		out.Options = append(out.Options, vote.OptionInput{Text: o.Text, Abstain: o.Abstain != nil && *o.Abstain})
	}
	return out
}

// myVoteUnits is the caller's units in v, batched over a page of votes.
func myVoteUnits(ctx context.Context, v *vote.Vote) ([]*model.VoteUnit, error) {
	us, err := loaders(ctx).MyVoteUnits.Load(ctx, v.Key())
	if errors.Is(err, errNotFound) {
		us, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]*model.VoteUnit, len(us))
	for i, u := range us {
		out[i] = voteUnit(v, u)
	}
	return out, nil
}
