package household

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"

	"qinqing/internal/access"
	"qinqing/internal/platform/validate"
)

// A household's placement (its community and building) is fixed when it is
// created: no mutation moves a household and none deletes one. Whether a
// caller may see a household depends only on that placement and on the
// caller, so the placement may be kept for the life of the process. Ten
// thousand sockets subscribing to households then cost one read per
// household, not one per subscription.
type placements struct {
	mu     sync.Mutex
	m      map[string]access.HouseholdRef
	flight singleflight.Group
}

// maxPlacements bounds the cache (about 100 bytes an entry); when full it
// starts again rather than tracking recency.
const maxPlacements = 200_000

func (p *placements) get(id string) (access.HouseholdRef, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[id]
	return r, ok
}

func (p *placements) put(r access.HouseholdRef) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxPlacements {
		p.m = make(map[string]access.HouseholdRef)
	}
	p.m[r.ID] = r
}

// VisibleByID answers Visible for a household named by id, from the kept
// placement when there is one. A household the caller cannot see, or that
// does not exist, is ErrNotFound.
func (s *Service) VisibleByID(ctx context.Context, c *access.Caller, id string) error {
	if err := validate.ID("id", id); err != nil {
		return err
	}
	ref, ok := s.placed.get(id)
	if !ok {
		v, err, _ := s.placed.flight.Do(id, func() (any, error) {
			h, err := s.byID(context.WithoutCancel(ctx), id)
			if err != nil {
				return nil, err
			}
			s.placed.put(h.Ref())
			return h.Ref(), nil
		})
		if err != nil {
			return err
		}
		ref = v.(access.HouseholdRef)
	}
	if !c.CanSeeHousehold(ref) {
		return ErrNotFound
	}
	return nil
}
