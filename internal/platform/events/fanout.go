package events

// A subscriber gets events either as values (Subscribe) or as pointers to
// one shared copy (SubscribeShared). The shared form is for fan-outs to
// thousands of subscribers of one kind (websocket subscriptions): a buffer
// of pointers costs 8 bytes a slot instead of an Event's 128, and one event
// is not copied once per subscriber.
type sub struct {
	val    chan Event
	ref    chan *Event
	filter func(*Event) bool
	closed bool // guarded by Bus.mu
}

// Subscribe delivers the events for which filter (nil: all) returns true on
// a channel with the given buffer. A subscriber that lets its buffer fill is
// dropped: its channel is closed. The returned func unsubscribes and closes
// the channel; it may be called any number of times from any goroutine.
// filter runs on the tailer goroutine under the bus lock, so it must be quick
// and must not call the Bus.
func (b *Bus) Subscribe(filter func(Event) bool, buffer int) (<-chan Event, func()) {
	s := &sub{val: make(chan Event, bufferOf(buffer))}
	if filter != nil {
		s.filter = func(e *Event) bool { return filter(*e) }
	}
	return s.val, b.add(s)
}

// SubscribeShared is Subscribe with every subscriber receiving a pointer to
// the same Event: receivers must treat it (and its Data) as read-only.
func (b *Bus) SubscribeShared(filter func(*Event) bool, buffer int) (<-chan *Event, func()) {
	s := &sub{ref: make(chan *Event, bufferOf(buffer)), filter: filter}
	return s.ref, b.add(s)
}

func bufferOf(n int) int {
	if n < 1 {
		return DefaultBuffer
	}
	return n
}

func (b *Bus) add(s *sub) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		b.closeLocked(s)
		return func() {}
	}
	b.subs[s] = struct{}{}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.closeLocked(s)
	}
}

func (b *Bus) closeLocked(s *sub) {
	if !s.closed {
		s.closed = true
		if s.val != nil {
			close(s.val)
		} else {
			close(s.ref)
		}
		delete(b.subs, s)
	}
}

func (b *Bus) deliver(e Event) {
	p := &e
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(p) {
			continue
		}
		var sent bool
		if s.ref != nil {
			select {
			case s.ref <- p:
				sent = true
			default:
			}
		} else {
			select {
			case s.val <- e:
				sent = true
			default:
			}
		}
		if !sent {
			// Blocking here would stall every other subscriber and, through
			// the cursor, the whole process's view of the spine.
			b.log.Warn("dropping slow event subscriber", "buffer", max(cap(s.val), cap(s.ref)), "type", e.Type)
			b.closeLocked(s)
		}
	}
}
