// A websocket's outgoing side: every message goes through one bounded
// queue emptied by the socket's own writer, so a fan-out never waits on a
// slow socket (see ws.go).

package graph

import (
	"context"
	"encoding/json"
	"time"

	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// send queues one message without waiting: a socket that cannot keep up is
// closed rather than allowed to hold up an event fan-out.
func (c *wsConn) send(m wsMessage) {
	b, err := json.Marshal(m)
	if err != nil {
		c.t.log.Error("websocket: unencodable message", "type", m.Type, "err", err)
		return
	}
	c.enqueue(b)
}

// sendNext frames a result without re-encoding it: one event fans out to
// every subscriber, so each byte of work here is multiplied.
func (c *wsConn) sendNext(id string, payload []byte) {
	idJSON, _ := json.Marshal(id)
	b := make([]byte, 0, len(payload)+len(idJSON)+32)
	b = append(b, `{"id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"type":"next","payload":`...)
	b = append(b, payload...)
	c.enqueue(append(b, '}'))
}

func (c *wsConn) enqueue(b []byte) {
	select {
	case <-c.done:
	case c.out <- b:
	default:
		c.end(closeTryAgain, "send queue full")
	}
}

func (c *wsConn) writer(finished chan<- struct{}) {
	defer close(finished)
	ping := time.NewTicker(c.t.lim.PingInterval)
	defer ping.Stop()
	pingMsg, _ := json.Marshal(wsMessage{Type: "ping"})
	write := func(b []byte) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
			c.end(closeTryAgain, "write failed")
			return false
		}
		return true
	}
	for {
		select {
		case <-c.done:
			// Close performs the close handshake (at most 5s) while the
			// reader takes the peer's close frame.
			_ = c.ws.Close(c.endCode, c.endWhy)
			return
		case b := <-c.out:
			if !write(b) {
				continue
			}
		case <-ping.C:
			write(pingMsg)
		}
	}
}

// sendErrors answers a subscribe with an error message, which ends that
// operation (no complete follows).
func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		return
	}
	c.send(wsMessage{ID: id, Type: "error", Payload: b})
}
