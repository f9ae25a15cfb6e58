package graph

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"sync"
	"time"

	"qinqing/internal/platform/events"
)

// eventPayloads shares the payload one live event shows among all of this
// process's subscribers that hear it: a broadcast to 500 subscribers is one
// database trip, not 500, so fan-out does not crowd out request handling.
// Each subscriber still applies its own access rule to the shared value,
// which must therefore be read only.
type eventPayloads struct {
	mu    sync.Mutex
	m     map[payloadKey]*payloadLoad
	swept time.Time
}

type payloadKey struct {
	event bson.ObjectID
	what  string
}

type payloadLoad struct {
	once sync.Once
	v    any
	err  error
	at   time.Time
}

// keepPayload is how long a loaded payload is reused for late subscribers of
// the same event; after that it is loaded again.
const keepPayload = 30 * time.Second

func eventPayload[T any](p *eventPayloads, e *events.Event, what string, load func() (T, error)) (T, error) {
	key := payloadKey{e.ID, what} // no string built per subscriber
	now := time.Now()
	p.mu.Lock()
	if p.m == nil {
		p.m = map[payloadKey]*payloadLoad{}
	}
	if now.Sub(p.swept) > keepPayload {
		for k, l := range p.m {
			if now.Sub(l.at) > keepPayload {
				delete(p.m, k)
			}
		}
		p.swept = now
	}
	l := p.m[key]
	if l == nil {
		l = &payloadLoad{at: now}
		p.m[key] = l
	}
	p.mu.Unlock()
	l.once.Do(func() { l.v, l.err = load() })
	v, _ := l.v.(T)
	return v, l.err
}
