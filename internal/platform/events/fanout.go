package events

type sub struct {
	ch     chan Event
	filter func(Event) bool
	closed bool // guarded by Bus.mu
}

// Subscribe delivers the events for which filter (nil: all) returns true on
// a channel with the given buffer. A subscriber that lets its buffer fill is
// dropped: its channel is closed. The returned func unsubscribes and closes
// the channel; it may be called any number of times from any goroutine.
// filter runs on the tailer goroutine under the bus lock, so it must be quick
// and must not call the Bus.
func (b *Bus) Subscribe(filter func(Event) bool, buffer int) (<-chan Event, func()) {
	if buffer < 1 {
		buffer = DefaultBuffer
	}
	s := &sub{ch: make(chan Event, buffer), filter: filter}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		close(s.ch)
		return s.ch, func() {}
	}
	b.subs[s] = struct{}{}
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.closeLocked(s)
	}
}

func (b *Bus) closeLocked(s *sub) {
	if !s.closed {
		s.closed = true
		close(s.ch)
		delete(b.subs, s)
	}
}

func (b *Bus) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			// Blocking here would stall every other subscriber and, through
			// the cursor, the whole process's view of the spine.
			b.log.Warn("dropping slow event subscriber", "buffer", cap(s.ch), "type", e.Type)
			b.closeLocked(s)
		}
	}
}
