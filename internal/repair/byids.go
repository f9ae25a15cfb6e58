package repair

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

// VisibleByIDs is Get for many (a page of incidents linking their
// public-area repairs): the requests among ids the caller may see, in one query.
func (s *Service) VisibleByIDs(ctx context.Context, c *access.Caller, ids []string) (map[string]*Request, error) {
	all, err := mongo.ByIDs(ctx, s.col, ids, func(r *Request) string { return r.ID })
	if err != nil {
		return nil, err
	}
	for id, r := range all {
		if !canSee(c, r) {
			delete(all, id)
		}
	}
	return all, nil
}
