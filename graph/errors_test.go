package graph

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"qinqing/internal/platform/apperr"
)

// Every RATE_LIMITED error tells the client a whole number of seconds to
// wait, at least one; other errors carry no wait.
func TestPresenterRetryAfterSeconds(t *testing.T) {
	present := ErrorPresenter(slog.New(slog.DiscardHandler), nil)
	for _, tc := range []struct {
		name string
		err  error
		want any
	}{
		{"exact seconds", apperr.ErrRateLimited.WithRetryAfter(4 * time.Second), 4},
		{"rounded up", apperr.ErrRateLimited.WithRetryAfter(1200 * time.Millisecond), 2},
		{"under a second", apperr.ErrRateLimited.WithRetryAfter(300 * time.Millisecond), 1},
		{"limit did not say", apperr.ErrRateLimited, 60},
		{"not rate limited", apperr.ErrForbidden, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			box := &retryAfterBox{}
			ctx := context.WithValue(context.Background(), retryAfterKey{}, box)
			got := present(ctx, tc.err).Extensions["retryAfterSeconds"]
			if got != tc.want {
				t.Fatalf("retryAfterSeconds = %v, want %v", got, tc.want)
			}
			if want, _ := tc.want.(int); box.secs != want {
				t.Fatalf("Retry-After noted %d, want %d", box.secs, want)
			}
		})
	}
}
