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
// prefix is the message's start up to the payload, made once per operation.
func (c *wsConn) sendNext(prefix, payload []byte) {
	b := make([]byte, 0, len(prefix)+len(payload)+1)
	b = append(b, prefix...)
	b = append(b, payload...)
	c.enqueue(append(b, '}'))
}

// nextPrefix is `{"id":<id>,"type":"next","payload":`.
func nextPrefix(id string) []byte {
	idJSON, _ := json.Marshal(id)
	b := append([]byte(`{"id":`), idJSON...)
	return append(b, `,"type":"next","payload":`...)
}

// enqueue adds b to the send queue. The queue is a slice grown on demand
// rather than a channel of SendQueue slots: with ten thousand sockets that
// mostly idle, a preallocated queue would be most of a connection's memory.
func (c *wsConn) enqueue(b []byte) {
	if c.ended() {
		return
	}
	c.sendMu.Lock()
	full := len(c.queue) >= c.t.lim.SendQueue
	if !full {
		c.queue = append(c.queue, b)
	}
	c.sendMu.Unlock()
	if full {
		c.end(closeTryAgain, "send queue full")
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // the writer is already woken
	}
}

// writeStall is how long a burst of writes may block on a peer that does
// not read before the socket is cut.
const writeStall = 10 * time.Second

func (c *wsConn) writer(finished chan<- struct{}) {
	defer close(finished)
	ping := time.NewTicker(c.t.lim.PingInterval)
	defer ping.Stop()
	pingMsg, _ := json.Marshal(wsMessage{Type: "ping"})
	// A peer that stops reading would block a write for good. Rather than a
	// deadline context per message (coder/websocket arms a context.AfterFunc
	// for each, which a ten-thousand-way broadcast pays ten thousand times),
	// one timer per connection is armed around each burst of writes and cuts
	// the socket if the burst stalls.
	stall := time.AfterFunc(time.Hour, func() {
		c.end(closeTryAgain, "write stalled")
		_ = c.ws.CloseNow()
	})
	stall.Stop()
	defer stall.Stop()
	write := func(b []byte) bool {
		if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
			c.end(closeTryAgain, "write failed")
			return false
		}
		return true
	}
	var spare [][]byte
	for {
		select {
		case <-c.done:
			// Close performs the close handshake (at most 5s) while the
			// reader takes the peer's close frame.
			_ = c.ws.Close(c.endCode, c.endWhy)
			return
		case <-c.wake:
			for {
				// Two slices take turns: the writer sends one while senders
				// append to the other. They must never be the same array.
				c.sendMu.Lock()
				batch := c.queue
				if len(batch) == 0 {
					c.sendMu.Unlock()
					break
				}
				c.queue = spare[:0]
				c.sendMu.Unlock()
				stall.Reset(writeStall)
				for _, b := range batch {
					if c.ended() || !write(b) {
						break
					}
				}
				stall.Stop()
				clear(batch) // the messages, not the slice, are let go
				spare = batch
			}
		case <-ping.C:
			stall.Reset(writeStall)
			write(pingMsg)
			stall.Stop()
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
