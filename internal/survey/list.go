package survey

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Get returns a survey the caller may see: staff of its community, and
// residents of a household in its audience once it is published. Others,
// and residents asking for a draft, get NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Survey, error) {
	sv, _, err := s.visible(ctx, c, "id", id)
	if err != nil {
		return nil, err
	}
	return sv, s.decorate(ctx, c, []*Survey{sv}, nil)
}

// visible loads a survey and checks the caller may see it; for a resident
// it also returns their households in its audience.
func (s *Service) visible(ctx context.Context, c *access.Caller, field, id string) (*Survey, []*household.Household, error) {
	if c == nil {
		return nil, nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID(field, id); err != nil {
		return nil, nil, err
	}
	sv, err := mongo.FindByID[Survey](ctx, s.col, id, ErrNotFound)
	if err != nil {
		return nil, nil, err
	}
	if c.WorksIn(sv.CommunityID) {
		return sv, nil, nil
	}
	if !c.IsPerson() || sv.Status == Draft {
		return nil, nil, ErrNotFound
	}
	mine, err := s.audienceOf(ctx, c, sv)
	if err != nil {
		return nil, nil, err
	}
	if len(mine) == 0 {
		return nil, nil, ErrNotFound
	}
	return sv, mine, nil
}

// audienceOf is the caller's households in the survey's audience.
func (s *Service) audienceOf(ctx context.Context, c *access.Caller, sv *Survey) ([]*household.Household, error) {
	hs, err := s.cfg.Households.Mine(ctx, c)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hs, func(h *household.Household) bool { return !sv.Covers(h) }), nil
}

// List is a community's surveys, newest first. Staff of the community see
// all of them (optionally of one status) with their response counts; its
// residents the published and closed ones whose audience covers one of
// their households, each with whether they answered. Anyone else:
// NOT_FOUND, as for a community they cannot see.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, status Status, p page.Request) (page.Page[*Survey], error) {
	var none page.Page[*Survey]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if status != "" && !slices.Contains([]Status{Draft, Published, Closed}, status) {
		return none, apperr.Invalid("status", "input.bad_value")
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	var mine []*household.Household
	switch {
	case c.WorksIn(communityID):
		if status != "" {
			q = append(q, bson.E{Key: "status", Value: status})
		}
	case c.IsPerson():
		hs, err := s.cfg.Households.Mine(ctx, c)
		if err != nil {
			return none, err
		}
		keys := []string{"c:" + communityID}
		for _, h := range hs {
			if h.CommunityID == communityID {
				mine = append(mine, h)
				keys = append(keys, "b:"+h.BuildingID)
			}
		}
		if len(mine) == 0 {
			return none, community.ErrNotFound
		}
		shown := []Status{Published, Closed}
		if status != "" {
			shown = slices.DeleteFunc(shown, func(x Status) bool { return x != status })
		}
		q = bson.D{{Key: "targets", Value: bson.D{{Key: "$in", Value: keys}}}, {Key: "status", Value: bson.D{{Key: "$in", Value: shown}}},
			{Key: "communityId", Value: communityID}}
	default:
		return none, community.ErrNotFound
	}
	pg, err := mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Count: true}, func(sv *Survey) string { return sv.SortKey })
	if err != nil {
		return none, err
	}
	return pg, s.decorate(ctx, c, pg.Items, mine)
}

// decorate fills ResponseCount (staff of the community) or Answered
// (residents) for a page: one query whatever its size. mine is the
// resident's households (loaded when nil).
func (s *Service) decorate(ctx context.Context, c *access.Caller, list []*Survey, mine []*household.Household) error {
	if len(list) == 0 {
		return nil
	}
	if c.IsPerson() {
		return s.markAnswered(ctx, c, list, mine)
	}
	var ids []string
	for _, sv := range list {
		if c.WorksIn(sv.CommunityID) {
			ids = append(ids, sv.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cur, err := s.responses.Aggregate(ctx, mgo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "surveyId", Value: bson.D{{Key: "$in", Value: ids}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$surveyId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return fmt.Errorf("count survey responses: %w", err)
	}
	var counts []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &counts); err != nil {
		return fmt.Errorf("count survey responses: %w", err)
	}
	byID := map[string]int{}
	for _, n := range counts {
		byID[n.ID] = n.N
	}
	for _, sv := range list {
		if c.WorksIn(sv.CommunityID) {
			n := byID[sv.ID]
			sv.ResponseCount = &n
		}
	}
	return nil
}

// markAnswered sets Answered on each survey: every respondent the caller
// speaks for (themselves, or each of their households in the audience) has
// a response. The response ids are derived, so this is one $in by _id.
func (s *Service) markAnswered(ctx context.Context, c *access.Caller, list []*Survey, mine []*household.Household) error {
	if mine == nil {
		var err error
		if mine, err = s.cfg.Households.Mine(ctx, c); err != nil {
			return err
		}
	}
	want := map[string][]string{}
	var all []string
	for _, sv := range list {
		for _, h := range mine {
			if sv.Covers(h) {
				id := s.responseID(sv, h.ID, c.ID)
				if !slices.Contains(want[sv.ID], id) {
					want[sv.ID] = append(want[sv.ID], id)
					all = append(all, id)
				}
			}
		}
	}
	have := map[string]bool{}
	if len(all) > 0 {
		found, err := mongo.ByIDs(ctx, s.responses, all, func(r *responseDoc) string { return r.ID })
		if err != nil {
			return err
		}
		for id := range found {
			have[id] = true
		}
	}
	for _, sv := range list {
		ids := want[sv.ID]
		done := len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return !have[id] })
		sv.Answered = &done
	}
	return nil
}
