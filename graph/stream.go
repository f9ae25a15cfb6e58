package graph

import (
	"context"

	"qinqing/internal/platform/events"
)

// stream turns events from the spine into a subscription's channel. next
// maps one event to what the subscriber sees, re-checking access each time;
// it answers ok=false to end the subscription (access lost). The bus drops
// a subscriber that cannot keep up, which ends the stream too; a subscriber
// never blocks the spine.
func stream[T any](ctx context.Context, bus *events.Bus, filter func(*events.Event) bool, next func(*events.Event) (*T, bool)) <-chan *T {
	// Shared events: one copy per event, whatever the number of subscribers.
	in, cancel := bus.SubscribeShared(filter, events.DefaultBuffer)
	slot := liveSlotOf(ctx) // on a websocket: which event the response renders
	out := make(chan *T, 1)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case e, open := <-in:
				if !open {
					return
				}
				v, ok := next(e)
				if !ok {
					return
				}
				if v == nil {
					continue
				}
				if slot != nil {
					slot.set(e)
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
				if slot != nil {
					// The slot must name e until its response is rendered.
					select {
					case <-slot.rendered:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return out
}
