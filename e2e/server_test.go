package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"qinqing/internal/app"
	"qinqing/internal/platform/config"
)

// Server behaviour outside the business rules: what is exposed per
// environment, the transports, and a clean shutdown.

func introspection(on bool) envOption { return func(c *config.Config) { c.Introspect = &on } }
func appEnv(name string) envOption    { return func(c *config.Config) { c.Env = name } }

func TestIntrospectionPerEnvironment(t *testing.T) {
	const q = `{ __schema { types { name } } }`
	tests := []struct {
		name string
		opts []envOption
		on   bool
	}{
		{"on by default outside production", nil, true},
		{"on in development", []envOption{appEnv("development")}, true},
		{"off when GRAPHQL_INTROSPECTION=false", []envOption{introspection(false)}, false},
		{"off by default in production", []envOption{appEnv("production")}, false},
		{"on in production when asked for", []envOption{appEnv("production"), introspection(true)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			r := e.anon().do(q, nil)
			var out struct {
				Schema *struct{ Types []struct{ Name string } } `json:"__schema"`
			}
			_ = json.Unmarshal(r.Data, &out)
			if tc.on {
				if len(r.Errors) > 0 || out.Schema == nil || !hasType(out.Schema.Types, "Household") {
					t.Fatalf("introspection refused: %+v (data %s)", r.Errors, r.Data)
				}
				return
			}
			if len(r.Errors) == 0 || (out.Schema != nil && len(out.Schema.Types) > 0) {
				t.Fatalf("introspection answered while off: data %s", r.Data)
			}
			// Off is not a server fault: a client asked for something not offered.
			if c := r.code(); c != "FORBIDDEN" {
				t.Errorf("introspection off answers %q, want FORBIDDEN: %+v", c, r.Errors)
			}
		})
	}
}

func hasType(types []struct{ Name string }, name string) bool {
	for _, ty := range types {
		if ty.Name == name {
			return true
		}
	}
	return false
}

func TestPlaygroundPerEnvironment(t *testing.T) {
	off := false
	tests := []struct {
		name   string
		opts   []envOption
		status int
	}{
		{"development serves the playground", []envOption{appEnv("development")}, http.StatusOK},
		{"development with GRAPHQL_PLAYGROUND=false does not", []envOption{appEnv("development"), func(c *config.Config) { c.Playground = &off }}, http.StatusNotFound},
		{"production never does", []envOption{appEnv("production")}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			resp, body := httpGet(t, e.URL+"/")
			if resp.StatusCode != tc.status {
				t.Fatalf("GET / = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusOK {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), "/graphql") {
					t.Errorf("playground: content type %q, body %.200s", ct, body)
				}
			}
			// Only the root is the playground; other paths stay unknown.
			if resp, _ := httpGet(t, e.URL+"/nothing-here"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /nothing-here = %d", resp.StatusCode)
			}
		})
	}
}

func httpGet(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return resp, body
}

// GET /graphql answers queries (cacheable reads) and refuses mutations, which
// must never run from a link or a prefetch.
func TestGraphQLOverGET(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	get := func(query string, vars map[string]any, token string) (int, gqlResponse) {
		t.Helper()
		v := url.Values{"query": {query}}
		if vars != nil {
			b, _ := json.Marshal(vars)
			v.Set("variables", string(b))
		}
		var hdr []string
		if token != "" {
			hdr = []string{"Authorization", "Bearer " + token}
		}
		resp, body := httpGet(t, e.URL+"/graphql?"+v.Encode(), hdr...)
		var r gqlResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("GET %s: status %d, body %s", query, resp.StatusCode, body)
		}
		return resp.StatusCode, r
	}

	status, r := get(`query($id:ID!){ household(id:$id){ label } }`, map[string]any{"id": w.HA.ID}, owner.token)
	var out struct{ Household struct{ Label string } }
	_ = json.Unmarshal(r.Data, &out)
	if status != http.StatusOK || len(r.Errors) > 0 || out.Household.Label != "1栋1单元101" {
		t.Errorf("GET query: status %d, errors %+v, data %s", status, r.Errors, r.Data)
	}

	// The same rules apply as over POST.
	status, r = get(`query($id:ID!){ household(id:$id){ label } }`, map[string]any{"id": w.HB.ID}, owner.token)
	if status != http.StatusOK || r.code() != "NOT_FOUND" {
		t.Errorf("GET of a neighbour's household: status %d, %+v", status, r.Errors)
	}

	// A mutation over GET is refused before it runs: no code is texted.
	phone := w.OwnerB.Phone // a resident's phone: a code would be texted
	status, r = get(`mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`, map[string]any{"p": phone}, "")
	if status != http.StatusMethodNotAllowed || r.code() != "BAD_REQUEST" || len(r.Data) > 0 {
		t.Errorf("GET mutation: status %d, errors %+v, data %s; want 405 with a coded error and no data", status, r.Errors, r.Data)
	}
	if n := e.SMS.count(phone); n != 0 {
		t.Errorf("GET mutation ran: %d texts sent", n)
	}
	// Over POST the same mutation works.
	e.anon().ok(`mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`, map[string]any{"p": phone}, nil)
	if n := e.SMS.count(phone); n != 1 {
		t.Errorf("POST mutation sent %d texts, want 1", n)
	}
}

// The multipart transport (GraphQL multipart request spec) carries ordinary
// operations too: an "operations" part, a "map" part and no files.
func TestMultipartRequest(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	butler := e.staff(w.butlerX, w.Password)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": `query($id:ID!){ household(id:$id){ label members { person { name } } } }`, "variables": map[string]any{"id": w.HA.ID}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", "{}")
	_ = mw.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+butler.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r gqlResponse
	_ = json.Unmarshal(body, &r)
	var out struct {
		Household struct {
			Label   string
			Members []struct{ Person struct{ Name string } }
		}
	}
	_ = json.Unmarshal(r.Data, &out)
	if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 || out.Household.Label != "1栋1单元101" || len(out.Household.Members) != 1 {
		t.Fatalf("multipart: status %d, body %s", resp.StatusCode, body)
	}
}

// On shutdown the server stops accepting, lets a request in flight finish,
// closes websockets with a close frame, and Run returns.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)

	// A second server on the same database whose run context the test holds,
	// started the way startServer starts one.
	cfg := *e.cfg
	a, err := app.New(&cfg, app.Deps{DB: e.DB, Log: slog.New(slog.DiscardHandler), Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return at cleanup")
		}
	})
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("event spine did not start")
	}
	srv := &env{t: t, URL: "http://" + addr}

	// A live subscription.
	ws, err := dialWS(t, srv, owner.token)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", subQ, map[string]any{"id": w.HA.ID})

	// A client keeps calling until the server stops accepting it. Each call
	// is served in full or not accepted at all; none is cut short.
	clientsDone := make(chan struct{})
	var served, notAccepted int
	var clientErrs []error
	go func() {
		defer close(clientsDone)
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			res := rawPost(addr, `{"query":"{ __typename }"}`)
			switch {
			case res.hung:
				clientErrs = append(clientErrs, fmt.Errorf("accepted but never answered: %v", res.err))
				return
			case !res.answered:
				// Refused, or closed before the server read it (it was still
				// in the accept queue when the listener closed).
				notAccepted++
				if res.refused {
					return
				}
			case res.err != nil || res.status != http.StatusOK || !strings.Contains(res.body, `"__typename":"Query"`):
				clientErrs = append(clientErrs, fmt.Errorf("status %d body %q: %v", res.status, res.body, res.err))
				return
			default:
				served++
			}
		}
		clientErrs = append(clientErrs, errors.New("the server kept accepting connections for 15s"))
	}()

	// A request in flight: headers and half the body sent, the rest to follow
	// after shutdown has begun.
	body := `{"query":"{ __typename }"}`
	slow, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_ = slow.SetDeadline(time.Now().Add(20 * time.Second))
	head := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	if _, err := io.WriteString(slow, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server reads the headers; the connection is active

	cancel()

	// (a) The websocket is closed with a close frame, not left hanging.
	wsDeadline := time.Now().Add(5 * time.Second)
	for {
		m, err := ws.read(time.Until(wsDeadline))
		if err == nil {
			continue // e.g. an error message before the close
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("websocket still open 5s after shutdown (last message %+v)", m)
		}
		// 1001 going away: the client reconnects elsewhere (never 1000, which
		// would say the server meant to end the conversation).
		if st := websocket.CloseStatus(err); st != websocket.StatusGoingAway {
			t.Errorf("websocket closed with status %v: %v", st, err)
		}
		t.Logf("websocket ended: %v", err)
		break
	}

	// The listener is closed while the request in flight holds Run open.
	refusedBy := time.Now().Add(3 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(refusedBy) {
			t.Fatal("server still accepts connections after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-clientsDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the client was still being served 5s after shutdown began")
	}
	for _, err := range clientErrs {
		t.Errorf("a request during shutdown was cut: %v", err)
	}
	t.Logf("during shutdown: %d requests served, %d not accepted", served, notAccepted)
	if served == 0 || notAccepted == 0 {
		t.Errorf("the client saw %d served and %d refused requests, want both", served, notAccepted)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) before the request in flight finished", err)
	default:
	}

	// (c) The request in flight is answered in full.
	if _, err := io.WriteString(slow, body[10:]); err != nil {
		t.Fatalf("finish the request in flight: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatalf("request in flight got no answer: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"__typename":"Query"`) {
		t.Fatalf("request in flight: status %d body %q err %v", resp.StatusCode, got, err)
	}

	// (b) Run returns promptly once nothing is in flight.
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Run returned %v", err)
		}
		done <- err // for the cleanup
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of the last request")
	}
}

type rawResult struct {
	refused  bool // the connection was not accepted
	answered bool // at least one byte of a response arrived
	hung     bool // accepted, then neither answered nor closed within 5s
	status   int
	body     string
	err      error
}

// rawPost sends one request on its own connection and tells a refused or
// unanswered connection from a response cut short.
func rawPost(addr, body string) rawResult {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return rawResult{refused: true, err: err}
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", addr, len(body), body)
	if _, err := io.WriteString(c, req); err != nil {
		return rawResult{err: err}
	}
	br := bufio.NewReader(c)
	if _, err := br.Peek(1); err != nil {
		var ne net.Error
		return rawResult{err: err, hung: errors.As(err, &ne) && ne.Timeout()}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return rawResult{answered: true, err: err}
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return rawResult{answered: true, status: resp.StatusCode, body: string(got), err: err}
}
