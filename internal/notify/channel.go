package notify

import (
	"context"
	"time"

	"qinqing/internal/platform/auth"
)

// Outgoing is one delivery handed to a channel: the message already rendered
// in the recipient's language.
type Outgoing struct {
	DeliveryID     string
	NotificationID string
	RecipientKind  auth.Kind
	RecipientID    string
	Kind           Kind
	Priority       int
	Title, Body    string
	Data           map[string]string
	Attempt        int // 1 for the first try
}

// Delivery statuses.
const (
	StatusPending       = "PENDING"
	StatusSending       = "SENDING"
	StatusSent          = "SENT"
	StatusFailed        = "FAILED"        // gave up after retries
	StatusUndeliverable = "UNDELIVERABLE" // nowhere to send it (no device, no grant)
	StatusSuppressed    = "SUPPRESSED"    // turned off by the person's preferences
	StatusRetry         = "RETRY"         // only in a Result: try again later
)

// Result is what a channel says about one delivery.
type Result struct {
	DeliveryID string
	Status     string        // SENT, RETRY, UNDELIVERABLE or FAILED
	RetryAfter time.Duration // for RETRY: the server's Retry-After, 0 to let the outbox back off
	Error      string
}

// Sender is one channel. Vendor push services (HMS, ...) are added by
// implementing it; the engine does not change.
type Sender interface {
	Channel() string
	// Send delivers one round (up to the outbox's batch, 2,000 by default,
	// split by the channel as its service needs) and answers for every
	// delivery.
	Send(ctx context.Context, batch []Outgoing) []Result
}

// batchLimiter is a channel that takes smaller rounds than the outbox's: one
// that sends a message at a time must finish its round well within the lease.
type batchLimiter interface {
	MaxBatch() int
}
