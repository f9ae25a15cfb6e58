// The access decision a websocket keeps: the caller resolved at
// connection_init, re-resolved once when the spine says it changed, and
// consulted in memory for every event (see ws.go and ws_registry.go).

package graph

import (
	"context"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

type wsConnKey struct{}

// keptCaller is the connection's access decision, checked in memory. While
// an access.changed event is being applied it waits for the one re-resolve.
func (c *wsConn) keptCaller(ctx context.Context) (*access.Caller, error) {
	for {
		if c.revoked.Load() || !c.t.now().Before(c.expires) || c.ended() {
			c.end(closeForbidden, "Forbidden")
			return nil, apperr.ErrUnauthenticated
		}
		c.mu.Lock()
		fresh := c.fresh
		c.mu.Unlock()
		if fresh == nil {
			return c.kept.Load(), nil
		}
		select {
		case <-fresh:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// liveCaller is the caller one subscription event may be shown to: on a
// websocket the connection's kept decision (no database trip), elsewhere the
// request's caller.
func liveCaller(ctx context.Context) (*access.Caller, error) {
	if c, ok := ctx.Value(wsConnKey{}).(*wsConn); ok {
		return c.keptCaller(ctx)
	}
	return caller(ctx)
}

// markStale runs on the event spine's delivery path (see wsRegistry.mark):
// every event delivered after it waits for the re-resolve.
func (c *wsConn) markStale() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.staleGen++
	if c.fresh == nil {
		c.fresh = make(chan struct{})
	}
}

// refresh re-resolves the caller once per connection (not per subscription
// or event), again if another change arrived meanwhile. A caller that can
// no longer be resolved (session gone, staff deactivated) ends the
// connection with 4403.
func (c *wsConn) refresh() {
	c.mu.Lock()
	if c.refreshing || c.fresh == nil || !c.acked {
		c.mu.Unlock()
		return
	}
	c.refreshing = true
	c.mu.Unlock()
	go func() {
		for {
			c.mu.Lock()
			gen := c.staleGen
			c.mu.Unlock()
			cl, err := c.t.r.sessionCaller(c.ctx, c.id)
			if err != nil {
				if code := apperr.CodeOf(err); code == apperr.Unauthenticated || code == apperr.Forbidden {
					c.end(closeForbidden, "Forbidden: access changed")
				} else {
					// Not known either way: the client reconnects and is decided afresh.
					c.end(closeInternal, "internal error")
				}
				return
			}
			c.kept.Store(cl)
			c.mu.Lock()
			if gen == c.staleGen {
				close(c.fresh)
				c.fresh, c.refreshing = nil, false
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
		}
	}()
}
