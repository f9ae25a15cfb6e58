package graph

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/events"
)

// wsRegistry is this process's index of open websockets by session family
// and by subject, so that a control event on the spine (published by any
// server) reaches the connections whose kept access decision it ends.
type wsRegistry struct {
	mu        sync.Mutex
	bySession map[string]map[*wsConn]struct{}
	bySubject map[string]map[*wsConn]struct{}
	ops       map[string]int // active operations per subject
}

func newWSRegistry() *wsRegistry {
	return &wsRegistry{
		bySession: map[string]map[*wsConn]struct{}{},
		bySubject: map[string]map[*wsConn]struct{}{},
		ops:       map[string]int{},
	}
}

// add registers c unless its subject already has maxConns connections.
func (g *wsRegistry) add(c *wsConn, maxConns int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bySubject[c.id.Subject]) >= maxConns {
		return false
	}
	put := func(m map[string]map[*wsConn]struct{}, k string) {
		if m[k] == nil {
			m[k] = map[*wsConn]struct{}{}
		}
		m[k][c] = struct{}{}
	}
	put(g.bySubject, c.id.Subject)
	if c.id.Session != "" {
		put(g.bySession, c.id.Session)
	}
	return true
}

func (g *wsRegistry) remove(c *wsConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	del := func(m map[string]map[*wsConn]struct{}, k string) {
		if s := m[k]; s != nil {
			delete(s, c)
			if len(s) == 0 {
				delete(m, k)
			}
		}
	}
	del(g.bySubject, c.id.Subject)
	del(g.bySession, c.id.Session)
}

// reserve takes one of subject's operation slots, if one is free.
func (g *wsRegistry) reserve(subject string, limit int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ops[subject] >= limit {
		return false
	}
	g.ops[subject]++
	return true
}

func (g *wsRegistry) release(subject string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ops[subject]--; g.ops[subject] <= 0 {
		delete(g.ops, subject)
	}
}

// siblingDecision is the kept caller of another open connection of c's
// session whose decision is current (acknowledged, not revoked, not waiting
// for a re-resolve), or nil. A session's decision depends on nothing but the
// session and its subject, and the control events that end or change it
// reach every connection of the session (c is registered before it asks),
// so an app that opens many sockets, or many apps behind one session, pay
// for one decision, not one per socket.
func (g *wsRegistry) siblingDecision(c *wsConn) *access.Caller {
	if c.id.Session == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for o := range g.bySession[c.id.Session] {
		if o == c || o.revoked.Load() || o.ended() {
			continue
		}
		o.mu.Lock()
		current := o.acked && o.fresh == nil
		o.mu.Unlock()
		if cl := o.kept.Load(); current && cl != nil {
			return cl
		}
	}
	return nil
}

// affected lists the connections a control event is about.
func (g *wsRegistry) affected(e events.Event) []*wsConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	var set map[*wsConn]struct{}
	switch e.Type {
	case events.TypeSessionRevoked:
		set = g.bySession[e.SubjectID]
	case events.TypeSubjectRevoked, events.TypeAccessChanged:
		set = g.bySubject[e.SubjectID]
	}
	// A revocation that names its sessions spares those begun after it;
	// one that names none ends them all.
	var only map[string]bool
	if e.Type == events.TypeSubjectRevoked {
		if fs, ok := e.Data["families"]; ok {
			only = map[string]bool{}
			for _, f := range stringList(fs) {
				only[f] = true
			}
		}
	}
	out := make([]*wsConn, 0, len(set))
	for c := range set {
		if only == nil || c.id.Session == "" || only[c.id.Session] {
			out = append(out, c)
		}
	}
	return out
}

// mark is the spine subscription's filter. It runs on the tailer while
// events are handed out in order, so flagging the affected connections here
// means that no event delivered after a revocation or access change is
// shown on the old decision, even before the closing below has happened. It
// only touches memory, as a filter must.
func (g *wsRegistry) mark(e events.Event) bool {
	switch e.Type {
	case events.TypeSessionRevoked, events.TypeSubjectRevoked:
		cs := g.affected(e)
		for _, c := range cs {
			c.revoked.Store(true)
		}
		return len(cs) > 0
	case events.TypeAccessChanged:
		cs := g.affected(e)
		for _, c := range cs {
			c.markStale()
		}
		return len(cs) > 0
	}
	return false
}

// watch applies control events until ctx is done: revoked connections are
// closed with 4403, changed ones re-resolve their caller once.
func (g *wsRegistry) watch(ctx context.Context, bus *events.Bus, log *slog.Logger) {
	for ctx.Err() == nil {
		// A large buffer: this consumer only looks up maps, and a dropped
		// control subscription would miss revocations.
		in, cancel := bus.Subscribe(g.mark, 4096)
		for e := range in {
			for _, c := range g.affected(e) {
				if e.Type == events.TypeAccessChanged {
					c.refresh()
				} else {
					c.end(closeForbidden, "Forbidden: session revoked")
				}
			}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		// The bus dropped or stopped this subscription: revocations may have
		// been missed, so no kept decision can be trusted. Clients reconnect
		// and decide afresh.
		log.Warn("websocket: control event subscription lost; closing websockets")
		g.mu.Lock()
		var all []*wsConn
		for _, s := range g.bySubject {
			for c := range s {
				all = append(all, c)
			}
		}
		g.mu.Unlock()
		for _, c := range all {
			c.end(closeInternal, "event stream lost; reconnect")
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
