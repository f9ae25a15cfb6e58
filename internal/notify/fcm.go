package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// FCMConfig configures the FCM channel.
type FCMConfig struct {
	CredentialsFile string // service-account JSON; "" = channel off
	ProjectID       string // optional; read from the credentials file when empty
	Endpoint        string // "" = Google's; tests point it at a local fake (option.WithEndpoint)
}

// fcmEndpoint is the API base the SDK wants (it appends
// /projects/{p}/messages:send): a bare origin such as http://127.0.0.1:9000
// gets the "/v1" that Google's https://fcm.googleapis.com/v1 has.
func fcmEndpoint(e string) string {
	e = strings.TrimRight(strings.TrimSpace(e), "/")
	if u, err := url.Parse(e); err == nil && u.Host != "" && u.Path == "" {
		e += "/v1"
	}
	return e
}

const (
	fcmMaxBatch = 500 // SendEach takes at most 500 messages
	// fcmChunkTimeout bounds one SendEach call (50 requests in flight inside
	// the SDK), so a hung connection cannot hold the outbox lease.
	fcmChunkTimeout = 60 * time.Second
	// fcmMaxRetryAfter caps a server's Retry-After so a bogus header cannot
	// park a delivery for days; it matches the outbox's longest backoff.
	fcmMaxRetryAfter = time.Hour
	// fcmHighPriority is the Spec priority from which Android pushes are sent
	// with high priority (wakes the device from Doze).
	fcmHighPriority = 80
)

// fcmScopes are the OAuth scopes for FCM HTTP v1 (the SDK's own wider list
// does not apply, since FCM hands it a ready-made authenticated client).
var fcmScopes = []string{
	"https://www.googleapis.com/auth/firebase.messaging",
	"https://www.googleapis.com/auth/cloud-platform",
}

// FCM pushes to the apps through Firebase Cloud Messaging (HTTP v1, one
// request per token via SendEach).
//
// The Admin SDK retries by itself: every messaging request goes through an
// HTTP client built with internal.WithDefaultRetryConfig (4 retries, on
// network errors and on HTTP 503 only, backing off 0s/1s/2s/4s or the
// server's Retry-After when longer, giving up at once when Retry-After is
// over 2 minutes). That config sits in unexported fields and cannot be turned
// off. Backing off is the outbox's job, so FCM installs fcmOneAttempt under
// the SDK: a 503 reaches the SDK as a 500 and a transport error as a
// synthetic 502, neither of which it retries, so each token costs exactly one
// request and the server's Retry-After comes back to the outbox. 429 is not
// retried by the SDK in any case.
type FCM struct {
	project string
	client  *messaging.Client
	devices *Devices
	log     *slog.Logger
}

// NewFCM returns the channel, or (nil, nil) when no credentials are
// configured (the caller logs "FCM off").
func NewFCM(ctx context.Context, cfg FCMConfig, devices *Devices, log *slog.Logger) (*FCM, error) {
	if strings.TrimSpace(cfg.CredentialsFile) == "" {
		return nil, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	raw, err := os.ReadFile(cfg.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("fcm credentials: %w", err)
	}
	var sa struct {
		Type      string `json:"type"`
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(raw, &sa); err != nil {
		return nil, fmt.Errorf("fcm credentials %s: %w", cfg.CredentialsFile, err)
	}
	if sa.Type != "service_account" {
		return nil, fmt.Errorf("fcm credentials %s: type %q, want service_account", cfg.CredentialsFile, sa.Type)
	}
	project := cfg.ProjectID
	if project == "" {
		project = sa.ProjectID
	}
	if project == "" {
		return nil, errors.New("fcm: no project ID in config or credentials file")
	}

	// The authenticated HTTP client, with fcmOneAttempt on top of the OAuth
	// transport so that token-endpoint failures are covered as well.
	hc, _, err := htransport.NewClient(ctx,
		option.WithCredentialsJSON(raw),
		option.WithScopes(fcmScopes...),
	)
	if err != nil {
		return nil, fmt.Errorf("fcm http client: %w", err)
	}
	hc = &http.Client{Transport: fcmOneAttempt{next: hc.Transport}}

	opts := []option.ClientOption{option.WithHTTPClient(hc)}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(fcmEndpoint(cfg.Endpoint)))
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project}, opts...)
	if err != nil {
		return nil, fmt.Errorf("firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase messaging: %w", err)
	}
	return &FCM{project: project, client: client, devices: devices, log: log}, nil
}

// Project is the Firebase project the channel sends through.
func (f *FCM) Project() string { return f.project }

// Channel is ChannelFCM.
func (f *FCM) Channel() string { return ChannelFCM }

// fcmTry is one message to one token, and what became of it.
type fcmTry struct {
	delivery int // index into the batch
	token    string
	err      error
}

// Send delivers a batch: one message per device token of each recipient.
// A delivery is SENT when any of its tokens took the message. Tokens FCM
// says are gone are removed and do not count. When every token failed, the
// delivery is RETRY if any failure was transient (429, 5xx, transport),
// UNDELIVERABLE if every token was gone, and FAILED otherwise.
func (f *FCM) Send(ctx context.Context, batch []Outgoing) []Result {
	results := make([]Result, len(batch))
	if len(batch) == 0 {
		return results
	}
	ids := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, o := range batch {
		if !seen[o.RecipientID] {
			seen[o.RecipientID] = true
			ids = append(ids, o.RecipientID)
		}
	}
	devs, err := f.devices.TokensFor(ctx, ids)
	if err != nil {
		f.log.WarnContext(ctx, "fcm: load device tokens", "err", err)
		for i, o := range batch {
			results[i] = Result{DeliveryID: o.DeliveryID, Status: StatusRetry, Error: err.Error()}
		}
		return results
	}

	var tries []fcmTry
	var msgs []*messaging.Message
	for i, o := range batch {
		for _, d := range devs[o.RecipientID] {
			// A device belongs to a caller kind; a staff ID never receives a
			// resident's push or the reverse, even if IDs were to collide.
			if o.RecipientKind != "" && d.UserKind != string(o.RecipientKind) {
				continue
			}
			tries = append(tries, fcmTry{delivery: i, token: d.Token})
			msgs = append(msgs, fcmMessage(o, d.Token))
		}
	}

	for start := 0; start < len(msgs); start += fcmMaxBatch {
		end := min(start+fcmMaxBatch, len(msgs))
		f.sendChunk(ctx, msgs[start:end], tries[start:end])
	}

	// Tokens FCM no longer accepts: removed in one call, whatever else happened.
	var gone []string
	goneSeen := map[string]bool{}
	for _, t := range tries {
		if t.err != nil && fcmTokenGone(t.err) && !goneSeen[t.token] {
			goneSeen[t.token] = true
			gone = append(gone, t.token)
		}
	}
	if len(gone) > 0 {
		if err := f.devices.Remove(context.WithoutCancel(ctx), gone); err != nil {
			f.log.WarnContext(ctx, "fcm: remove unregistered tokens", "tokens", len(gone), "err", err)
		} else {
			f.log.InfoContext(ctx, "fcm: removed unregistered tokens", "tokens", len(gone))
		}
	}

	byDelivery := make([][]fcmTry, len(batch))
	for _, t := range tries {
		byDelivery[t.delivery] = append(byDelivery[t.delivery], t)
	}
	for i, o := range batch {
		results[i] = fcmResult(o.DeliveryID, byDelivery[i])
	}
	return results
}

// sendChunk sends at most 500 messages and records each token's error.
func (f *FCM) sendChunk(ctx context.Context, msgs []*messaging.Message, tries []fcmTry) {
	cctx, cancel := context.WithTimeout(ctx, fcmChunkTimeout)
	defer cancel()
	br, err := f.client.SendEach(cctx, msgs)
	if err == nil && (br == nil || len(br.Responses) != len(msgs)) {
		err = errors.New("fcm: SendEach answered for the wrong number of messages")
	}
	if err != nil {
		// SendEach itself only fails before sending (validation); per-token
		// transport errors come back in the responses. Either way nothing in
		// this chunk is known to have gone out: try again later.
		f.log.WarnContext(ctx, "fcm: SendEach", "messages", len(msgs), "err", err)
		for i := range tries {
			tries[i].err = fcmTransient{err}
		}
		return
	}
	for i, r := range br.Responses {
		switch {
		case r == nil:
			tries[i].err = fcmTransient{errors.New("fcm: no response for message")}
		case !r.Success:
			tries[i].err = r.Error
			if r.Error == nil {
				tries[i].err = errors.New("fcm: failed without an error")
			}
		}
	}
}

// fcmResult folds a delivery's per-token outcomes into one Result.
func fcmResult(id string, tries []fcmTry) Result {
	if len(tries) == 0 {
		return Result{DeliveryID: id, Status: StatusUndeliverable, Error: "no device"}
	}
	var (
		gone       int
		transient  bool
		retryAfter time.Duration
		firstErr   error
		retryErr   error
	)
	for _, t := range tries {
		switch {
		case t.err == nil:
			return Result{DeliveryID: id, Status: StatusSent}
		case fcmTokenGone(t.err):
			gone++
		case fcmRetryable(t.err):
			transient = true
			if retryErr == nil {
				retryErr = t.err
			}
			retryAfter = max(retryAfter, fcmRetryAfter(t.err, time.Now()))
		default:
			if firstErr == nil {
				firstErr = t.err
			}
		}
	}
	switch {
	case transient:
		return Result{DeliveryID: id, Status: StatusRetry, RetryAfter: retryAfter, Error: retryErr.Error()}
	case gone == len(tries):
		return Result{DeliveryID: id, Status: StatusUndeliverable, Error: "device tokens no longer registered"}
	default:
		return Result{DeliveryID: id, Status: StatusFailed, Error: firstErr.Error()}
	}
}

// fcmMessage is the push for one token.
func fcmMessage(o Outgoing, token string) *messaging.Message {
	data := make(map[string]string, len(o.Data)+2)
	for k, v := range o.Data {
		if fcmReservedKey(k) {
			continue // FCM rejects the whole message for these
		}
		data[k] = v
	}
	data["kind"] = string(o.Kind)
	data["notificationId"] = o.NotificationID
	m := &messaging.Message{
		Token:        token,
		Notification: &messaging.Notification{Title: o.Title, Body: o.Body},
		Data:         data,
		APNS: &messaging.APNSConfig{Payload: &messaging.APNSPayload{
			Aps: &messaging.Aps{Sound: "default"},
		}},
	}
	if o.Priority >= fcmHighPriority {
		m.Android = &messaging.AndroidConfig{Priority: "high"}
	}
	return m
}

// fcmReservedKey reports data keys FCM v1 refuses.
func fcmReservedKey(k string) bool {
	switch k {
	case "from", "notification", "message_type":
		return true
	}
	return strings.HasPrefix(k, "google.") || strings.HasPrefix(k, "gcm.")
}

// fcmTokenGone reports whether FCM says the token itself is dead: not
// registered any more, registered to another sender, or not a token at all.
// INVALID_ARGUMENT also covers bad payloads (too large, ...), which must not
// cost people their devices, so it counts only when FCM names the token.
func fcmTokenGone(err error) bool {
	if messaging.IsUnregistered(err) || messaging.IsSenderIDMismatch(err) {
		return true
	}
	return messaging.IsInvalidArgument(err) && strings.Contains(strings.ToLower(err.Error()), "token")
}

// fcmRetryable reports a failure worth trying again: quota (429), server
// trouble (5xx) or no answer at all (transport, timeout).
func fcmRetryable(err error) bool {
	var tr fcmTransient
	if errors.As(err, &tr) {
		return true
	}
	if messaging.IsQuotaExceeded(err) || messaging.IsUnavailable(err) || messaging.IsInternal(err) {
		return true
	}
	if errorutils.IsResourceExhausted(err) || errorutils.IsUnavailable(err) || errorutils.IsInternal(err) ||
		errorutils.IsDeadlineExceeded(err) || errorutils.IsCancelled(err) {
		return true
	}
	if resp := errorutils.HTTPResponse(err); resp != nil {
		return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	}
	// Not an HTTP answer: a transport error or the context ran out.
	return true
}

// fcmRetryAfter reads Retry-After (seconds or an HTTP date) from the HTTP
// response behind err; 0 when there is none.
func fcmRetryAfter(err error, now time.Time) time.Duration {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return 0
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > int64(fcmMaxRetryAfter/time.Second) {
			return fcmMaxRetryAfter
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, fcmMaxRetryAfter)
}

// fcmTransient marks an error that says nothing about the token: try later.
type fcmTransient struct{ err error }

func (e fcmTransient) Error() string { return e.err.Error() }
func (e fcmTransient) Unwrap() error { return e.err }

// fcmOneAttempt keeps the Admin SDK's built-in retry loop from firing, so
// the outbox alone decides when to try again (see FCM). The SDK retries a
// response only when its status is exactly 503 and any transport error; this
// transport hands it a 500 instead of a 503 (the body, with its UNAVAILABLE
// status and FCM error code, and the Retry-After header are kept) and a
// synthetic 502 instead of a transport error. A cancelled or expired request
// context is passed through as the error it is.
type fcmOneAttempt struct{ next http.RoundTripper }

// fcmUpstreamStatus carries the status the server really sent.
const fcmUpstreamStatus = "X-Qinqing-Upstream-Status"

func (t fcmOneAttempt) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		if r.Context().Err() != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string]any{"error": map[string]any{
			"code":    http.StatusBadGateway,
			"status":  "UNAVAILABLE",
			"message": "fcm transport: " + err.Error(),
		}})
		return &http.Response{
			Status:        "502 Bad Gateway",
			StatusCode:    http.StatusBadGateway,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{"Content-Type": {"application/json"}, fcmUpstreamStatus: {"transport"}},
			Body:          io.NopCloser(strings.NewReader(string(body))),
			ContentLength: int64(len(body)),
			Request:       r,
		}, nil
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		resp.Header.Set(fcmUpstreamStatus, strconv.Itoa(resp.StatusCode))
		resp.StatusCode = http.StatusInternalServerError
		resp.Status = "500 Internal Server Error"
	}
	return resp, nil
}
