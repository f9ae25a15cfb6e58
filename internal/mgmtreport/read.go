package mgmtreport

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/publication"
	"qinqing/internal/platform/validate"
)

// load is the version id names with the caller's level, NOT_FOUND when
// the caller may not read it (a resident and a draft included).
func (s *Service) load(ctx context.Context, c *access.Caller, id string) (level, *Report, error) {
	if c == nil {
		return none, nil, apperr.ErrUnauthenticated
	}
	communityID, _, _, ok := ParseID(id)
	if !ok {
		return none, nil, apperr.Invalid("id", "input.bad_id")
	}
	lvl, err := s.levelOf(ctx, c, communityID)
	if err != nil {
		return none, nil, err
	}
	if lvl < resident {
		return none, nil, ErrNotFound
	}
	r, err := mongo.FindByID[Report](ctx, s.reports, id, ErrNotFound)
	if err != nil {
		return none, nil, err
	}
	if !lvl.sees(r.Status) {
		return none, nil, ErrNotFound
	}
	return lvl, r, nil
}

// read is one version with the versions of its period the level sees.
func (s *Service) read(ctx context.Context, lvl level, id string) (*Report, error) {
	communityID, p, _, _ := ParseID(id)
	vs, err := s.versions(ctx, lvl, communityID, []string{p})
	if err != nil {
		return nil, err
	}
	for _, r := range vs[p] {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, ErrNotFound
}

// Get is one version, for those who may read it; anyone else NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Report, error) {
	lvl, _, err := s.load(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return s.read(ctx, lvl, id)
}

// versions loads every version of the periods the level sees in one
// query, newest first per period.
func (s *Service) versions(ctx context.Context, lvl level, communityID string, periods []string) (map[string][]*Report, error) {
	out, err := publication.Versions(ctx, s.reports, communityID, periods, "report versions", chain, func(r *Report) bool { return lvl.sees(r.Status) })
	for _, vs := range out {
		for _, r := range vs {
			r.Versions = vs
		}
	}
	return out, err
}

// chain reads a report's place among its period's versions.
var chain = publication.Chain[Report]{Period: func(r *Report) string { return r.Period }, Version: func(r *Report) int { return r.Version }}

// List is the community's reports, one per period, newest period first:
// each the latest version the caller may read (residents: published ones
// only; committee members and staff: drafts too), with the period's
// versions. Anyone else NOT_FOUND. The total counts periods.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Report], error) {
	var none page.Page[*Report]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	lvl, err := s.levelOf(ctx, c, communityID)
	if err != nil {
		return none, err
	}
	if lvl < resident {
		return none, community.ErrNotFound.WithField("communityId")
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if lvl < sitting {
		q = append(q, bson.E{Key: "published", Value: true})
	}
	return publication.Latest(ctx, s.periods, q, p, func(periods []string) (map[string][]*Report, error) {
		return s.versions(ctx, lvl, communityID, periods)
	})
}

// CommunityName names the report's community (the PDF's heading).
func (s *Service) CommunityName(ctx context.Context, id string) (string, error) {
	cs, err := s.cfg.Places.ByIDs(ctx, []string{id})
	if err != nil {
		return "", err
	}
	if cs[id] == nil {
		return "", nil
	}
	return cs[id].Name, nil
}
