package seed

import (
	"sync"
	"time"
)

// Clock is the time the fee services see. The seed replays a year of fees
// (bills issued on the 1st, payments on the day they were made, reminders a
// week apart) through services that stamp their own clock on what they
// write and enforce intervals by it, so they are built with Clock.Now and
// the seed sets it to each past moment in turn. Unset, it is the base clock.
type Clock struct {
	mu   sync.Mutex
	base func() time.Time
	at   time.Time
}

// NewClock is a clock that reads base until the seed sets it.
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the set moment, or the base clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		return c.at
	}
	return c.base()
}

func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	c.at = t
	c.mu.Unlock()
}

// release gives the base clock back.
func (c *Clock) release() { c.set(time.Time{}) }
