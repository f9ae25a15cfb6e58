package graph

import (
	"context"
	"net/http"
	"strconv"
	"sync"
)

// A RATE_LIMITED error must also reach clients that look only at HTTP (proxies,
// generic retry logic) as a Retry-After header. gqlgen's transports write the
// response themselves, after the error presenter has run, so the presenter
// notes the wait in the request's retryAfterBox and the response writer sets
// the header just before the status line goes out.

type retryAfterKey struct{}

type retryAfterBox struct {
	mu   sync.Mutex // fields of one response resolve concurrently
	secs int
}

// noteRetryAfter records a wait for the response's Retry-After header; with
// several RATE_LIMITED errors in one response, the longest wait wins.
func noteRetryAfter(ctx context.Context, secs int) {
	if b, ok := ctx.Value(retryAfterKey{}).(*retryAfterBox); ok {
		b.mu.Lock()
		b.secs = max(b.secs, secs)
		b.mu.Unlock()
	}
}

// withRetryAfter prepares a plain HTTP request for a Retry-After header.
// Websocket upgrades are left alone: their errors travel as messages, and
// the upgrade needs the server's own writer (http.Hijacker).
func withRetryAfter(ctx context.Context, w http.ResponseWriter, r *http.Request) (context.Context, http.ResponseWriter) {
	if r.Header.Get("Upgrade") != "" {
		return ctx, w
	}
	b := &retryAfterBox{}
	return context.WithValue(ctx, retryAfterKey{}, b), &retryAfterWriter{ResponseWriter: w, box: b}
}

type retryAfterWriter struct {
	http.ResponseWriter
	box         *retryAfterBox
	wroteHeader bool
}

func (w *retryAfterWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.box.mu.Lock()
		if w.box.secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(w.box.secs))
		}
		w.box.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *retryAfterWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
