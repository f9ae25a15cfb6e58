package e2e

import (
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
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/identity"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/ratelimit"
	"qinqing/internal/staff"
)

// No single request may exhaust the server, and nothing secret leaks.

func metricsOn(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }

func withConfig(f func(c *config.Config)) envOption { return f }

func (r *gqlResponse) reason() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["reason"].(string)
	return s
}

// nest wraps inner in n copies of "outer { inner { ... } }".
func nest(outer, inner, leaf string, n int) string {
	for range n {
		leaf = outer + " { " + inner + " { " + leaf + " } }"
	}
	return leaf
}

func TestNestedQueriesRefusedByDepth(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	cleaner := e.staffWithRole(w, "x.cleaner", access.Cleaner)
	tests := []struct {
		name  string
		as    *client
		query string
	}{
		// Each level of household{members} multiplies: 12 levels grew the
		// server past 12 GB before the limit.
		{"an owner nests me.memberships.household.members", owner,
			"{ me { memberships { " + nest("household", "members", "role", 6) + " } } }"},
		{"a cleaner nests households.members.household", cleaner,
			"{ households(first: 100) { edges { node { " + nest("members", "household", "id", 5) + " } } } }"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := tc.as.fails("BAD_USER_INPUT", tc.query, nil)
			if r.reason() != "QUERY_TOO_DEEP" || r.Data != nil && string(r.Data) != "null" {
				t.Fatalf("reason %q, data %s, errors %+v", r.reason(), r.Data, r.Errors)
			}
			d := time.Since(start)
			t.Logf("refused in %v", d)
			if d > 5*time.Second {
				t.Errorf("refused after %v: the query ran before being refused", d)
			}
		})
	}
	resp, _ := httpGet(t, e.URL+"/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after the attack: %d", resp.StatusCode)
	}
	// Ten levels, what the apps need at most, still run.
	owner.ok("{ me { memberships { household { members { household { members { person { name } } } } } } } }", nil, nil)
}

func TestAliasedRootFieldsRefusedByComplexity(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: households(first: 100) { totalCount }", i)
		}
		return b.String() + " }"
	}
	// Each copy counts a page in full: 1,000 of them took 23 s to run.
	start := time.Now()
	r := admin.fails("BAD_USER_INPUT", aliases(1000), nil)
	if r.reason() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("reason %q: %+v", r.reason(), r.Errors)
	}
	d := time.Since(start)
	t.Logf("1,000 aliases refused in %v", d)
	if d > 5*time.Second {
		t.Errorf("refused after %v: the copies ran before being refused", d)
	}
	en := *admin
	en.lang = "en"
	if m := en.do(aliases(1000), nil).Errors[0].Message; !strings.Contains(m, "too complex") {
		t.Errorf("English message = %q", m)
	}
	// A few copies are an ordinary request.
	admin.ok(aliases(3), nil, nil)
	// Fragments are counted where they are spread, not once.
	frag := "fragment F on Query { " + strings.Repeat("households(first: 100) { totalCount } ", 1) + "} "
	var spreads strings.Builder
	for i := range 300 {
		fmt.Fprintf(&spreads, " a%d: households(first: 100) { ...C }", i)
	}
	r = admin.fails("BAD_USER_INPUT", "query {"+spreads.String()+" ...F } fragment C on HouseholdConnection { totalCount } "+frag, nil)
	if r.reason() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("fragments: reason %q: %+v", r.reason(), r.Errors)
	}
}

// otherServer starts a second server on e's database with opts, so a test
// can sign in normally and then call a server with tiny limits.
func (e *env) otherServer(c *client, opts ...envOption) *client {
	e.t.Helper()
	s := startServer(e.t, e.DB, opts...)
	return &client{e: s, token: c.token, lang: c.lang}
}

func TestResponseSizeCapped(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	small := e.otherServer(admin, withConfig(func(c *config.Config) { c.MaxResponseBytes = 200 }))
	r := small.fails("BAD_USER_INPUT", `{ households(first: 100) { edges { node { id label members { person { name phone } } } } } }`, nil)
	if r.reason() != "RESPONSE_TOO_LARGE" || r.Data != nil && string(r.Data) != "null" {
		t.Fatalf("reason %q, data %s", r.reason(), r.Data)
	}
	small.ok(`{ households(first: 1) { totalCount } }`, nil, nil)
}

func TestOperationTimeCapped(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	// A deadline that has passed when the first resolver runs: the
	// operation's context is done, the work stops, and the answer says why.
	slow := e.otherServer(admin, withConfig(func(c *config.Config) { c.OperationTimeout = time.Nanosecond }))
	r := slow.fails("UNAVAILABLE", `{ households(first: 100) { totalCount edges { node { id } } } }`, nil)
	if r.reason() != "OPERATION_TIMEOUT" || len(r.Errors) != 1 {
		t.Fatalf("reason %q, errors %+v", r.reason(), r.Errors)
	}
	// The normal deadline leaves the same query alone.
	admin.ok(`{ households(first: 100) { totalCount edges { node { id } } } }`, nil, nil)
}

// post sends body to /graphql as contentType and decodes the answer.
func post(t *testing.T, url, contentType string, body io.Reader, length int64) (int, *gqlResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", body)
	req.Header.Set("Content-Type", contentType)
	req.ContentLength = length
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("status %d, body not JSON: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, &r
}

func TestRequestBodiesLimited(t *testing.T) {
	e := newEnv(t, withConfig(func(c *config.Config) { c.MaxBodyBytes = 4 << 10; c.MaxUploadBytes = 16 << 10 }))
	jsonBody := func(pad int) []byte {
		b, _ := json.Marshal(map[string]any{"query": "{ __typename }", "variables": map[string]any{"pad": strings.Repeat("x", pad)}})
		return b
	}
	// The padding rides in the operations part: gqlgen reads it before
	// any file, and it is as much a part of the body.
	multipartBody := func(pad int) ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("operations", string(jsonBody(pad)))
		_ = mw.WriteField("map", "{}")
		_ = mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	small, smallType := multipartBody(8 << 10)
	big, bigType := multipartBody(32 << 10)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		chunked     bool // no Content-Length: the limit must hold while reading
		want        int
	}{
		{"JSON under the JSON limit", "application/json", jsonBody(3 << 10), false, http.StatusOK},
		{"JSON over the JSON limit", "application/json", jsonBody(5 << 10), false, http.StatusRequestEntityTooLarge},
		{"JSON over the limit without a length", "application/json", jsonBody(5 << 10), true, http.StatusRequestEntityTooLarge},
		{"multipart over the JSON limit but under its own", smallType, small, false, http.StatusOK},
		{"multipart over its limit", bigType, big, false, http.StatusRequestEntityTooLarge},
		{"multipart over its limit without a length", bigType, big, true, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			length := int64(len(tc.body))
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				length, body = -1, io.MultiReader(body) // hides the length
			}
			status, r := post(t, e.URL, tc.contentType, body, length)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %+v", status, tc.want, r.Errors)
			}
			if tc.want != http.StatusOK && (r.code() != "BAD_REQUEST" || r.reason() != "BODY_TOO_LARGE") {
				t.Fatalf("code %q reason %q: %+v", r.code(), r.reason(), r.Errors)
			}
			if tc.want == http.StatusOK && len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
		})
	}
}

func TestSlowSendersCutOff(t *testing.T) {
	e := newEnv(t, withConfig(func(c *config.Config) {
		c.ReadHeaderTimeout = 300 * time.Millisecond
		c.BodyReadTimeout = 300 * time.Millisecond
	}))
	addr := strings.TrimPrefix(e.URL, "http://")
	tests := []struct {
		name, send string
		answer     bool // an HTTP answer before the close, not a bare close
	}{
		{"half a header", "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: appl", false},
		{"half a body", "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"query\":", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			// Far longer than the configured timeouts: a server that waits
			// for the rest would let this read time out.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server still waits for a slow sender (read %q)", got)
			}
			if tc.answer && !bytes.Contains(got, []byte("408")) {
				t.Errorf("want a 408 answer, got %q", got)
			}
		})
	}
	// The server still answers others.
	if resp, _ := httpGet(t, e.URL+"/readyz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLoggingServer is startServer with every log line, down to debug,
// written to out.
func startLoggingServer(t *testing.T, out io.Writer) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return startServerWithLog(t, mongo.NewTestDB(t, mongo.Options{}), testConfig(), log)
}

// A malformed request is the client's error, never INTERNAL, and no body
// or variable (a password here) ever reaches the log.
func TestMalformedBodiesAreBadRequestsAndNeverLogged(t *testing.T) {
	var logs syncBuffer
	e := startLoggingServer(t, &logs)
	const password = "Hunter2-Sekret-Passw0rd"
	login := `mutation($a:String!,$p:String!){ staffLogin(account:$a,password:$p){ accessToken } }`
	whole, _ := json.Marshal(map[string]any{"query": login, "variables": map[string]any{"a": "admin", "p": password}})
	// The classic slip: the password typed into the account field.
	swapped, _ := json.Marshal(map[string]any{"query": login, "variables": map[string]any{"a": password, "p": "admin"}})
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"cut-off JSON", "application/json", string(whole[:len(whole)-3]), http.StatusBadRequest, "BAD_REQUEST"},
		{"not JSON", "application/json", "query=" + login + "&password=" + password, http.StatusBadRequest, "BAD_REQUEST"},
		{"query is not a string", "application/json", `{"query":{"p":"` + password + `"}}`, http.StatusBadRequest, "BAD_REQUEST"},
		{"variables are not an object", "application/json", `{"query":"` + strings.ReplaceAll(login, `"`, `\"`) + `","variables":["` + password + `"]}`, http.StatusBadRequest, "BAD_REQUEST"},
		{"two documents", "application/json", string(whole) + string(whole), http.StatusBadRequest, "BAD_REQUEST"},
		{"an unsupported content type", "text/plain", string(whole), http.StatusUnsupportedMediaType, "BAD_REQUEST"},
		// Well formed, wrong password: refused by the domain, still not logged.
		{"a wrong password", "application/json", string(whole), http.StatusOK, "UNAUTHENTICATED"},
		{"the password as the account", "application/json", string(swapped), http.StatusOK, "UNAUTHENTICATED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, r := post(t, e.URL, tc.contentType, strings.NewReader(tc.body), int64(len(tc.body)))
			if status != tc.status || r.code() != tc.code {
				t.Fatalf("status %d code %q, want %d %s: %+v", status, r.code(), tc.status, tc.code, r.Errors)
			}
			for _, er := range r.Errors {
				if strings.Contains(er.Message, password) {
					t.Errorf("the answer quotes the password: %q", er.Message)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "/graphql") {
		t.Fatal("the log captured nothing: the test would prove nothing")
	}
	if strings.Contains(logs.String(), password) {
		t.Fatalf("the password reached the log:\n%s", logs.String())
	}
	// Nor the database: login limits key the account by digest.
	var hits []bson.M
	cur, err := e.DB.Collection(ratelimit.Collection).Find(context.Background(), bson.D{})
	if err != nil || cur.All(context.Background(), &hits) != nil || len(hits) == 0 {
		t.Fatalf("no limit records to search (%v): the check would prove nothing", err)
	}
	if b, _ := json.Marshal(hits); strings.Contains(strings.ToLower(string(b)), strings.ToLower(password)) {
		t.Fatalf("the password is stored in a limit key: %s", b)
	}
}

func TestNoSuggestionsWithoutIntrospection(t *testing.T) {
	queries := map[string]string{
		"a misspelt field":    `{ househols(first: 1) { totalCount } }`,
		"a misspelt argument": `{ households(frist: 1) { totalCount } }`,
	}
	for _, on := range []bool{true, false} {
		e := newEnv(t, introspection(on))
		for name, q := range queries {
			r := e.anon().fails("BAD_USER_INPUT", q, nil)
			detail, _ := r.Errors[0].Extensions["detail"].(string)
			// The Chinese message suggests as the English one does.
			hint, detailHint := strings.Contains(r.Errors[0].Message, "是否指"), strings.Contains(detail, "Did you mean")
			if hint != on || detailHint != on {
				t.Errorf("introspection %v, %s: message %q, detail %q", on, name, r.Errors[0].Message, detail)
			}
			en := e.anon()
			en.lang = "en"
			r = en.fails("BAD_USER_INPUT", q, nil)
			if hint := strings.Contains(r.Errors[0].Message, "Did you mean"); hint != on {
				t.Errorf("introspection %v, %s, English: message %q", on, name, r.Errors[0].Message)
			}
		}
	}
}

func TestMetricsOnlyOnTheirOwnAddress(t *testing.T) {
	e := newEnv(t, metricsOn)
	e.anon().ok("{ __typename }", nil, nil)
	if resp, _ := httpGet(t, e.URL+"/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API address serves /metrics: %d", resp.StatusCode)
	}
	resp, body := httpGet(t, "http://"+e.App.MetricsAddr()+"/metrics")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "qinqing_graphql_operations_total") {
		t.Fatalf("metrics address: %d %.200s", resp.StatusCode, body)
	}
	if off := newEnv(t); off.App.MetricsAddr() != "" {
		t.Errorf("metrics served at %s without METRICS_ADDR", off.App.MetricsAddr())
	}
	// An empty variable gets the default from the config library, so "off"
	// is how an operator switches metrics off.
	if off := newEnv(t, func(c *config.Config) { c.MetricsAddr = "off" }); off.App.MetricsAddr() != "" {
		t.Errorf("metrics served at %s with METRICS_ADDR=off", off.App.MetricsAddr())
	}
}

func TestSecurityHeaders(t *testing.T) {
	dev, prod := newEnv(t), newEnv(t, appEnv("production"))
	always := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
	tests := []struct {
		name      string
		e         *env
		method    string
		path      string
		csp, hsts bool
		noStore   bool
	}{
		{"GraphQL", dev, http.MethodPost, "/graphql", true, false, true},
		{"GraphQL over GET", dev, http.MethodGet, "/graphql?query=%7B__typename%7D", true, false, true},
		{"health", dev, http.MethodGet, "/healthz", true, false, false},
		{"a file without a token", dev, http.MethodGet, "/files/x", true, false, false},
		{"the development explorer runs only its own scripts", dev, http.MethodGet, "/", true, false, false},
		{"GraphQL in production", prod, http.MethodPost, "/graphql", true, true, true},
		{"health in production", prod, http.MethodGet, "/healthz", true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.e.URL+tc.path, strings.NewReader(`{"query":"{ __typename }"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range always {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Content-Security-Policy"); (got != "") != tc.csp || tc.csp && !strings.Contains(got, "default-src 'none'") {
				t.Errorf("Content-Security-Policy = %q", got)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tc.hsts {
				t.Errorf("Strict-Transport-Security = %q", got)
			}
			if got := resp.Header.Get("Cache-Control"); (got == "no-store") != tc.noStore {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
}

// staffWithRole adds a staff account with role in w's community X.
func (e *env) staffWithRole(w *world, account string, role access.Role) *client {
	e.t.Helper()
	hash, err := identity.HashPassword(w.Password)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.App.Services.Staff.Upsert(context.Background(), &staff.Staff{Account: account, Name: account, PasswordHash: hash,
		Roles: []access.Role{role}, CommunityIDs: []string{w.X.ID}}); err != nil {
		e.t.Fatal(err)
	}
	return e.staff(account, w.Password)
}

// A subscription lives as long as its websocket: the operation deadline
// would end every one of them, so subscriptions are exempt.
func TestSubscriptionsOutliveTheOperationDeadline(t *testing.T) {
	a := newEnv(t)
	w := a.world()
	b := startServer(t, a.DB, withConfig(func(c *config.Config) { c.OperationTimeout = time.Nanosecond }))
	owner := a.owner(w.OwnerA.Phone)
	sub, err := dialWS(t, b, owner.token)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("1", subQ, map[string]any{"id": w.HA.ID})
	got := make(chan wsMsg, 1)
	go func() {
		m, _ := sub.read(20 * time.Second)
		got <- m
	}()
	butler := a.staff(w.butlerX, w.Password)
	deadline := time.After(20 * time.Second)
	// Changes until one arrives: the subscription registers asynchronously.
	for i := 0; ; i++ {
		butler.ok(`mutation($in:AddHouseholdMemberInput!){ addHouseholdMember(input:$in){ membership { role } } }`,
			map[string]any{"in": map[string]any{"householdId": w.HA.ID, "role": "FAMILY", "person": map[string]any{"name": fmt.Sprintf("家人%d", i)}}}, nil)
		select {
		case m := <-got:
			if m.Type != "next" || !strings.Contains(string(m.Payload), "HOUSEHOLD_MEMBER_ADDED") {
				t.Fatalf("subscription ended or failed: %s %s", m.Type, m.Payload)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("no event reached the subscription")
		}
	}
}

// Fragments spreading fragments twice over stand for 2^30 fields in a query
// of a few hundred bytes: the estimate expands them, within a bounded walk.
func TestFragmentExplosionRefused(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	admin := e.staff(w.adminAcct, w.Password)
	var q strings.Builder
	q.WriteString("query { ...F30 } fragment F0 on Query { households(first: 1) { totalCount } }")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&q, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
	}
	start := time.Now()
	r := admin.fails("BAD_USER_INPUT", q.String(), nil)
	t.Logf("refused in %v", time.Since(start))
	if r.reason() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("reason %q: %+v", r.reason(), r.Errors)
	}
}
