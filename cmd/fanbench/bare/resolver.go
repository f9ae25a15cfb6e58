package bare

// THIS CODE WILL BE UPDATED WITH SCHEMA CHANGES. PREVIOUS IMPLEMENTATION FOR SCHEMA CHANGES WILL BE KEPT IN THE COMMENT SECTION. IMPLEMENTATION FOR UNCHANGED SCHEMA WILL BE KEPT.

import (
	"context"
	"sync"
)

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

// Ping is the resolver for the ping field.
func (r *queryResolver) Ping(ctx context.Context) (bool, error) {
	return true, nil
}

// HouseholdUpdated is the resolver for the householdUpdated field.
func (r *subscriptionResolver) HouseholdUpdated(ctx context.Context, id string) (<-chan *HouseholdEvent, error) {
	ch := make(chan *HouseholdEvent, 1)
	r.mu.Lock()
	if r.subs == nil {
		r.subs = map[string]map[chan *HouseholdEvent]struct{}{}
	}
	if r.subs[id] == nil {
		r.subs[id] = map[chan *HouseholdEvent]struct{}{}
	}
	r.subs[id][ch] = struct{}{}
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		delete(r.subs[id], ch)
		r.mu.Unlock()
	}()
	return ch, nil
}

// Query returns QueryResolver implementation.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// Subscription returns SubscriptionResolver implementation.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

type (
	queryResolver        struct{ *Resolver }
	subscriptionResolver struct{ *Resolver }
)
