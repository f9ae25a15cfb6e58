package announce

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
)

// VisibleByIDs is Get for many (a page of incidents linking theirs): the
// announcements among ids the caller may see, read in one query and
// decorated together. Staff of the community see them without a lookup;
// a resident's recipient check stays one lookup each, as in Get.
func (s *Service) VisibleByIDs(ctx context.Context, c *access.Caller, ids []string) (map[string]*Announcement, error) {
	all, err := mongo.ByIDs(ctx, s.col, ids, func(a *Announcement) string { return a.ID })
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Announcement, len(all))
	seen := make([]*Announcement, 0, len(all))
	for id, a := range all {
		ok, err := s.canSee(ctx, c, a)
		if err != nil {
			return nil, err
		}
		if ok {
			out[id] = a
			seen = append(seen, a)
		}
	}
	if err := s.decorate(ctx, c, seen); err != nil {
		return nil, err
	}
	return out, nil
}
