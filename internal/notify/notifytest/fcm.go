// Package notifytest has local stand-ins for the push services, for tests
// and benchmarks: a fake FCM v1 server reached through the real firebase
// client, and a throwaway service-account key with a fake OAuth server.
package notifytest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Seen is one request the fake FCM server received.
type Seen struct {
	Path     string
	Auth     string
	Token    string
	Title    string
	Body     string
	Data     map[string]string
	Priority string // android.priority
	Sound    string // apns.payload.aps.sound
}

// FakeFCM answers POST /v1/projects/{p}/messages:send by token prefix:
// ok- succeeds, gone- is UNREGISTERED (404), busy- is QUOTA_EXCEEDED (429,
// Retry-After: 7), down- is UNAVAILABLE (503), invalid- is a token the server
// calls malformed (400), bad- a payload it refuses (400).
type FakeFCM struct {
	*httptest.Server
	mu   sync.Mutex
	seen []Seen
	// countOnly keeps pushes per token instead of every request, so a
	// benchmark's peak memory is the server's, not the fake's.
	countOnly bool
	perToken  map[string]int
	total     int
}

// CountOnly stops keeping requests (Requests returns none) and only counts
// them per token; see Count.
func (f *FakeFCM) CountOnly() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countOnly, f.perToken = true, map[string]int{}
}

// Count returns the pushes received and how many distinct tokens got one.
func (f *FakeFCM) Count() (pushes, tokens int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.countOnly {
		return f.total, len(f.perToken)
	}
	distinct := map[string]bool{}
	for _, s := range f.seen {
		distinct[s.Token] = true
	}
	return len(f.seen), len(distinct)
}

func (f *FakeFCM) Requests() []Seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Seen(nil), f.seen...)
}

func (f *FakeFCM) ForToken(tok string) []Seen {
	var out []Seen
	for _, s := range f.Requests() {
		if s.Token == tok {
			out = append(out, s)
		}
	}
	return out
}

func errorBody(code int, status, errorCode, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": status,
		"details": []any{map[string]any{
			"@type":     "type.googleapis.com/google.firebase.fcm.v1.FcmError",
			"errorCode": errorCode,
		}},
	}})
	return string(b)
}

func NewFakeFCM(t testing.TB) *FakeFCM {
	t.Helper()
	f := &FakeFCM{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/projects/") || !strings.HasSuffix(r.URL.Path, "/messages:send") {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct {
			Message struct {
				Token        string                       `json:"token"`
				Notification struct{ Title, Body string } `json:"notification"`
				Data         map[string]string            `json:"data"`
				Android      struct {
					Priority string `json:"priority"`
				} `json:"android"`
				APNS struct {
					Payload struct {
						Aps struct {
							Sound string `json:"sound"`
						} `json:"aps"`
					} `json:"payload"`
				} `json:"apns"`
			} `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m := req.Message
		f.mu.Lock()
		if f.countOnly {
			f.total++
			f.perToken[m.Token]++
		} else {
			f.seen = append(f.seen, Seen{
				Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Token: m.Token,
				Title: m.Notification.Title, Body: m.Notification.Body, Data: m.Data,
				Priority: m.Android.Priority, Sound: m.APNS.Payload.Aps.Sound,
			})
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		reply := func(code int, body string) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}
		switch tok := m.Token; {
		case strings.HasPrefix(tok, "ok-"):
			reply(http.StatusOK, `{"name":"projects/p/messages/1"}`)
		case strings.HasPrefix(tok, "gone-"):
			reply(http.StatusNotFound, errorBody(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."))
		case strings.HasPrefix(tok, "busy-"):
			w.Header().Set("Retry-After", "7")
			reply(http.StatusTooManyRequests, errorBody(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded."))
		case strings.HasPrefix(tok, "down-"):
			reply(http.StatusServiceUnavailable, errorBody(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."))
		case strings.HasPrefix(tok, "invalid-"):
			reply(http.StatusBadRequest, errorBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"))
		case strings.HasPrefix(tok, "bad-"):
			reply(http.StatusBadRequest, errorBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Message is too big"))
		default:
			reply(http.StatusInternalServerError, errorBody(500, "INTERNAL", "INTERNAL", "unexpected token"))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// writeServiceAccount writes a throwaway service-account key whose token_uri
// is a local fake OAuth server, and returns the file's path.
func WriteServiceAccount(t testing.TB, project string) string {
	t.Helper()
	oauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`))
	}))
	t.Cleanup(oauth.Close)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sa := map[string]string{
		"type":           "service_account",
		"project_id":     project,
		"private_key_id": "key1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "fcm@" + project + ".iam.gserviceaccount.com",
		"client_id":      "1234567890",
		"token_uri":      oauth.URL + "/token",
	}
	b, err := json.Marshal(sa)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
