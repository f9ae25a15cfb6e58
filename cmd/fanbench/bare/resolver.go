package bare

import "sync"

// Resolver keeps its subscribers in memory, as gqlgen's chat example does:
// the least a gqlgen server can do per event.
type Resolver struct {
	mu   sync.Mutex
	subs map[string]map[chan *HouseholdEvent]struct{}
}

// Broadcast hands e to every subscriber of its household without waiting.
func (r *Resolver) Broadcast(e *HouseholdEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.subs[e.HouseholdID] {
		select {
		case ch <- e:
		default:
		}
	}
}
