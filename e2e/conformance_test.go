package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"qinqing/internal/platform/config"
)

// A conformance case: one request and what the answer must be. The ids and
// descriptions are those of the graphql-http server audits
// (graphql/graphql-http src/audits/server.ts, the current draft of the
// GraphQL-over-HTTP specification); ids starting with QQ are this API's own
// cases for the same rules.
type confCase struct {
	id, desc    string
	method      string // GET sends body as the query string
	accept      string // "" sends no Accept header
	contentType string // "" sends no Content-Type
	body        string
	status      int
	media       string // the response's media type
	errors      bool   // the answer must have errors (else it must have none)
	noData      bool   // the answer must have no data entry
	reason      string // extensions.reason of the first error, when set
}

const (
	gqlJSON = "application/json"
	gqlResp = "application/graphql-response+json"
)

func confBody(v any) string { b, _ := json.Marshal(v); return string(b) }

func confQuery(v url.Values) string { return v.Encode() }

func conformanceCases() []confCase {
	typename := confBody(map[string]any{"query": "{ __typename }"})
	typeQuery := "query Type($name: String!) { __type(name: $name) { name } }"
	var cs []confCase
	add := func(c confCase) {
		if c.method == "" {
			c.method = http.MethodPost
		}
		if c.method == http.MethodPost && c.contentType == "" && c.id != "9ABE" {
			c.contentType = gqlJSON
		}
		if c.media == "" {
			c.media = gqlJSON
			if c.accept == gqlResp {
				c.media = gqlResp
			}
		}
		cs = append(cs, c)
	}
	// Media types.
	add(confCase{id: "22EB", desc: "SHOULD accept application/graphql-response+json and match the content-type", accept: gqlResp, body: typename, status: 200})
	add(confCase{id: "4655", desc: "MUST accept application/json and match the content-type", accept: gqlJSON, body: typename, status: 200})
	add(confCase{id: "47DE", desc: "SHOULD accept */* and use application/json for the content-type", accept: "*/*", body: typename, status: 200})
	add(confCase{id: "80D8", desc: "SHOULD assume application/json content-type when accept is missing", body: typename, status: 200})
	add(confCase{id: "82A3", desc: "MUST use utf-8 encoding when responding", body: typename, status: 200})
	add(confCase{id: "BF61", desc: "MUST accept utf-8 encoded request", contentType: "application/json; charset=utf-8",
		body: confBody(map[string]any{"query": `{ __type(name: "Run🏃Swim🏊") { name } }`}), status: 200})
	add(confCase{id: "78D5", desc: "MUST assume utf-8 in request if encoding is unspecified", body: typename, status: 200})
	// Requests.
	add(confCase{id: "2C94", desc: "MUST accept POST requests", body: typename, status: 200})
	add(confCase{id: "5A70", desc: "MAY accept application/x-www-form-urlencoded formatted GET requests", method: http.MethodGet,
		body: confQuery(url.Values{"query": {"{ __typename }"}}), status: 200})
	add(confCase{id: "9C48", desc: "MAY NOT allow executing mutations on GET requests", method: http.MethodGet, accept: gqlResp,
		body: confQuery(url.Values{"query": {"mutation { logout }"}}), status: 405, errors: true, noData: true, reason: "METHOD_NOT_ALLOWED"})
	add(confCase{id: "9ABE", desc: "MAY respond with 4xx status code if content-type is not supplied on POST requests", status: 415, errors: true, noData: true, reason: "UNSUPPORTED_MEDIA_TYPE"})
	add(confCase{id: "03D4", desc: "MUST accept application/json POST requests", body: typename, status: 200})
	add(confCase{id: "A5BF", desc: "MAY use 400 status code when request body is missing on POST", status: 400, errors: true, noData: true})
	// Request parameters.
	add(confCase{id: "423L", desc: "MAY use 400 status code on missing {query} parameter", accept: gqlResp,
		body: confBody(map[string]any{"notquery": "{ __typename }"}), status: 400, errors: true, noData: true, reason: "MISSING_QUERY"})
	for i, bad := range []any{map[string]any{"obj": "ect"}, 0, false, []any{"array"}} {
		add(confCase{id: "LKJ" + string(rune('0'+i)), desc: "MAY use 400 status code on " + kindOf(bad) + " {query} parameter",
			body: confBody(map[string]any{"query": bad}), status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
		add(confCase{id: "6C0" + string(rune('0'+i)), desc: "MAY use 400 status code on " + kindOf(bad) + " {operationName} parameter",
			body: confBody(map[string]any{"operationName": bad, "query": "{ __typename }"}), status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
	}
	add(confCase{id: "34A2", desc: "SHOULD allow string {query} parameter when accepting application/graphql-response+json", accept: gqlResp, body: typename, status: 200})
	add(confCase{id: "13EE", desc: "MUST allow string {query} parameter when accepting application/json", accept: gqlJSON, body: typename, status: 200})
	named := confBody(map[string]any{"operationName": "Query", "query": "query Query { __typename }"})
	add(confCase{id: "8161", desc: "SHOULD allow string {operationName} parameter when accepting application/graphql-response+json", accept: gqlResp, body: named, status: 200})
	add(confCase{id: "B8B3", desc: "MUST allow string {operationName} parameter when accepting application/json", accept: gqlJSON, body: named, status: 200})
	for i, p := range []string{"variables", "operationName", "extensions"} {
		body := confBody(map[string]any{"query": "{ __typename }", p: nil})
		n := string(rune('0' + i))
		add(confCase{id: "94B" + n, desc: "SHOULD allow null {" + p + "} parameter when accepting application/graphql-response+json", accept: gqlResp, body: body, status: 200})
		add(confCase{id: "022" + n, desc: "MUST allow null {" + p + "} parameter when accepting application/json", accept: gqlJSON, body: body, status: 200})
	}
	for i, bad := range []any{"string", 0, false, []any{"array"}} {
		n := string(rune('0' + i))
		add(confCase{id: "476" + n, desc: "MAY use 400 status code on " + kindOf(bad) + " {variables} parameter",
			body: confBody(map[string]any{"query": "{ __typename }", "variables": bad}), status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
		add(confCase{id: "58B" + n, desc: "MAY use 400 status code on " + kindOf(bad) + " {extensions} parameter",
			body: confBody(map[string]any{"query": "{ __typename }", "extensions": bad}), status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
	}
	withVars := confBody(map[string]any{"query": typeQuery, "variables": map[string]any{"name": "sometype"}})
	add(confCase{id: "2EA1", desc: "SHOULD allow map {variables} parameter when accepting application/graphql-response+json", accept: gqlResp, body: withVars, status: 200})
	add(confCase{id: "28B9", desc: "MUST allow map {variables} parameter when accepting application/json", accept: gqlJSON, body: withVars, status: 200})
	getVars := confQuery(url.Values{"query": {typeQuery}, "variables": {`{"name":"sometype"}`}})
	add(confCase{id: "D6D5", desc: "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json", method: http.MethodGet, accept: gqlResp, body: getVars, status: 200})
	add(confCase{id: "6A70", desc: "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json", method: http.MethodGet, accept: gqlJSON, body: getVars, status: 200})
	withExt := confBody(map[string]any{"query": "{ __typename }", "extensions": map[string]any{"some": "value"}})
	add(confCase{id: "428F", desc: "SHOULD allow map {extensions} parameter when accepting application/graphql-response+json", accept: gqlResp, body: withExt, status: 200})
	add(confCase{id: "1B7A", desc: "MUST allow map {extensions} parameter when accepting application/json", accept: gqlJSON, body: withExt, status: 200})
	add(confCase{id: "B6DC", desc: "MAY use 4xx or 5xx status codes on JSON parsing failure", body: `{ "not a JSON`, status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
	add(confCase{id: "BCF8", desc: "MAY use 400 status code on JSON parsing failure", accept: gqlResp, body: `{ "not a JSON`, status: 400, errors: true, noData: true, reason: "MALFORMED_BODY"})
	typo := confBody(map[string]any{"qeury": "{ __typename }"})
	add(confCase{id: "8764", desc: "MAY use 4xx or 5xx status codes if parameters are invalid", body: typo, status: 400, errors: true, noData: true, reason: "MISSING_QUERY"})
	add(confCase{id: "3E3A", desc: "MAY use 400 status code if parameters are invalid", accept: gqlResp, body: typo, status: 400, errors: true, noData: true, reason: "MISSING_QUERY"})
	// Responses: application/json answers a document that cannot run with
	// 200, application/graphql-response+json with 400; neither has data.
	unparsable := confBody(map[string]any{"query": "{"})
	invalid := confBody(map[string]any{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"})
	coercion := confBody(map[string]any{"query": "query CoerceFailure($id: ID!){ __typename }", "variables": map[string]any{"id": nil}})
	add(confCase{id: "572B", desc: "SHOULD use 200 status code on document parsing failure when accepting application/json", accept: gqlJSON, body: unparsable, status: 200, errors: true, noData: true, reason: "GRAPHQL_PARSE_FAILED"})
	add(confCase{id: "FDE2", desc: "SHOULD use 200 status code on document validation failure when accepting application/json", accept: gqlJSON, body: invalid, status: 200, errors: true, noData: true})
	add(confCase{id: "7B9B", desc: "SHOULD use a status code of 200 on variable coercion failure when accepting application/json", accept: gqlJSON, body: coercion, status: 200, errors: true, noData: true, reason: "GRAPHQL_VALIDATION_FAILED"})
	add(confCase{id: "865D", desc: "SHOULD use 4xx or 5xx status codes on document parsing failure when accepting application/graphql-response+json", accept: gqlResp, body: unparsable, status: 400, errors: true, noData: true})
	add(confCase{id: "556A", desc: "SHOULD use 400 status code on document parsing failure when accepting application/graphql-response+json", accept: gqlResp, body: unparsable, status: 400, errors: true, noData: true})
	add(confCase{id: "D586", desc: "SHOULD not contain the data entry on document parsing failure when accepting application/graphql-response+json", accept: gqlResp, body: unparsable, status: 400, errors: true, noData: true, reason: "GRAPHQL_PARSE_FAILED"})
	add(confCase{id: "51FE", desc: "SHOULD use 4xx or 5xx status codes on document validation failure when accepting application/graphql-response+json", accept: gqlResp, body: invalid, status: 400, errors: true, noData: true})
	add(confCase{id: "74FF", desc: "SHOULD use 400 status code on document validation failure when accepting application/graphql-response+json", accept: gqlResp, body: invalid, status: 400, errors: true, noData: true})
	add(confCase{id: "5E5B", desc: "SHOULD not contain the data entry on document validation failure when accepting application/graphql-response+json", accept: gqlResp, body: invalid, status: 400, errors: true, noData: true})
	add(confCase{id: "86EE", desc: "SHOULD use a status code of 400 on variable coercion failure when accepting application/graphql-response+json", accept: gqlResp, body: coercion, status: 400, errors: true, noData: true, reason: "GRAPHQL_VALIDATION_FAILED"})
	return cs
}

// ownCases are this API's cases of the same rules: methods, batches, media
// types, persisted queries and subscriptions over HTTP.
func ownCases(bodyLimit int) []confCase {
	login := "mutation { logout }"
	q := "{ __typename }"
	hash := sha256.Sum256([]byte(q))
	apq := func(query, h string) string {
		m := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}}
		if query != "" {
			m["query"] = query
		}
		return confBody(m)
	}
	var cs []confCase
	for _, accept := range []string{"", gqlResp} {
		media := gqlJSON
		requestErr := 200
		if accept == gqlResp {
			media, requestErr = gqlResp, 400
		}
		sfx := " (Accept: " + accept + ")"
		cs = append(cs,
			confCase{id: "QQ-GET-MUTATION", desc: "a mutation over GET answers 405 with Allow: POST" + sfx, method: http.MethodGet, accept: accept,
				body: confQuery(url.Values{"query": {login}}), status: 405, media: media, errors: true, noData: true, reason: "METHOD_NOT_ALLOWED"},
			confCase{id: "QQ-GET-OPNAME-MUTATION", desc: "an operationName selecting a mutation over GET answers 405" + sfx, method: http.MethodGet, accept: accept,
				body: confQuery(url.Values{"query": {"query Q { __typename } mutation M { logout }"}, "operationName": {"M"}}), status: 405, media: media, errors: true, noData: true, reason: "METHOD_NOT_ALLOWED"},
			confCase{id: "QQ-GET-QUERY-OPNAME", desc: "an operationName selecting the query of the same document runs over GET" + sfx, method: http.MethodGet, accept: accept,
				body: confQuery(url.Values{"query": {"query Q { __typename } mutation M { logout }"}, "operationName": {"Q"}}), status: 200, media: media},
			confCase{id: "QQ-BATCH", desc: "a JSON array (batch) is refused with a code" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: "[" + confBody(map[string]any{"query": q}) + "]", status: 400, media: media, errors: true, noData: true, reason: "BATCH_NOT_SUPPORTED"},
			confCase{id: "QQ-MEDIA-TYPE", desc: "an unsupported content type answers 415 with a code" + sfx, method: http.MethodPost, accept: accept, contentType: "text/plain",
				body: confBody(map[string]any{"query": q}), status: 415, media: media, errors: true, noData: true, reason: "UNSUPPORTED_MEDIA_TYPE"},
			confCase{id: "QQ-BODY-LIMIT", desc: "a body over the limit answers 413 with a code" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: confBody(map[string]any{"query": q, "variables": map[string]any{"pad": strings.Repeat("x", bodyLimit)}}), status: 413, media: media, errors: true, noData: true, reason: "BODY_TOO_LARGE"},
			confCase{id: "QQ-APQ-MISMATCH", desc: "an APQ hash that does not match its query is a coded request error" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: apq(q, strings.Repeat("0", 64)), status: requestErr, media: media, errors: true, noData: true, reason: "PERSISTED_QUERY_HASH_MISMATCH"},
			confCase{id: "QQ-APQ-NOT-FOUND", desc: "an unknown APQ hash is PersistedQueryNotFound with a code" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: apq("", strings.Repeat("1", 64)), status: requestErr, media: media, errors: true, noData: true, reason: "PERSISTED_QUERY_NOT_FOUND"},
			confCase{id: "QQ-APQ-REGISTER", desc: "a matching APQ hash registers and runs the query" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: apq(q, hex.EncodeToString(hash[:])), status: 200, media: media},
			confCase{id: "QQ-APQ-INVALID", desc: "an APQ extension of another version is a coded request error" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: confBody(map[string]any{"query": q, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": "x"}}}), status: requestErr, media: media, errors: true, noData: true, reason: "PERSISTED_QUERY_INVALID"},
			confCase{id: "QQ-SUBSCRIPTION-POST", desc: "a subscription over POST is a coded request error, not a wait for its first event" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: confBody(map[string]any{"query": "subscription { notificationReceived { id } }"}), status: requestErr, media: media, errors: true, noData: true, reason: "SUBSCRIPTION_NEEDS_WEBSOCKET"},
			confCase{id: "QQ-UNKNOWN-FIELD", desc: "an unknown field is a validation failure" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: confBody(map[string]any{"query": "{ noSuchField }"}), status: requestErr, media: media, errors: true, noData: true, reason: "GRAPHQL_VALIDATION_FAILED"},
			confCase{id: "QQ-EXECUTION-ERROR", desc: "an execution error keeps 200 and its data" + sfx, method: http.MethodPost, accept: accept, contentType: gqlJSON,
				body: confBody(map[string]any{"query": "{ __typename me { kind } }"}), status: 200, media: media, errors: true},
		)
	}
	return cs
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case int:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "string"
}

// confAnswer is a raw answer: the body is kept to tell a missing data entry
// from a null one.
type confAnswer struct {
	status int
	header http.Header
	body   []byte
	raw    map[string]json.RawMessage
	errs   []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

func confDo(t *testing.T, base string, c confCase, token string) *confAnswer {
	t.Helper()
	var req *http.Request
	if c.method == http.MethodGet {
		req, _ = http.NewRequest(http.MethodGet, base+"/graphql?"+c.body, nil)
	} else {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, _ = http.NewRequest(http.MethodPost, base+"/graphql", body)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.id, err)
	}
	defer resp.Body.Close()
	a := &confAnswer{status: resp.StatusCode, header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	if err := json.Unmarshal(a.body, &a.raw); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %q", resp.StatusCode, a.body)
	}
	if e, ok := a.raw["errors"]; ok {
		if err := json.Unmarshal(e, &a.errs); err != nil {
			t.Fatalf("errors is not a list: %s", e)
		}
	}
	return a
}

// check asserts what every case asserts: status, media type, UTF-8, errors
// present or not, each error with a code that is not INTERNAL.
func (a *confAnswer) check(t *testing.T, c confCase) {
	t.Helper()
	if a.status != c.status {
		t.Errorf("status %d, want %d: %s", a.status, c.status, a.body)
	}
	if mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); mt != c.media {
		t.Errorf("Content-Type %q, want %s", a.header.Get("Content-Type"), c.media)
	}
	if !utf8.Valid(a.body) {
		t.Errorf("body is not UTF-8")
	}
	if c.errors != (len(a.errs) > 0) {
		t.Errorf("errors %+v, want errors: %v", a.errs, c.errors)
	}
	if _, has := a.raw["data"]; c.noData && has {
		t.Errorf("the answer has a data entry: %s", a.body)
	}
	if !c.noData && !c.errors {
		if _, has := a.raw["data"]; !has {
			t.Errorf("the answer has no data: %s", a.body)
		}
	}
	for _, e := range a.errs {
		code, _ := e.Extensions["code"].(string)
		if code == "" || code == "INTERNAL" {
			t.Errorf("error without a client code (%q): %s", code, a.body)
		}
		if e.Message == "" {
			t.Errorf("error without a message: %s", a.body)
		}
	}
	if c.reason != "" && len(a.errs) > 0 {
		if r, _ := a.errs[0].Extensions["reason"].(string); r != c.reason {
			t.Errorf("reason %q, want %s: %s", r, c.reason, a.body)
		}
	}
	if c.status == http.StatusMethodNotAllowed && a.header.Get("Allow") != "POST" {
		t.Errorf("405 with Allow %q, want POST", a.header.Get("Allow"))
	}
}

// TestConformance runs the graphql-http server audits that apply to this
// API, and this API's own cases of the same rules, against the real handler.
func TestConformance(t *testing.T) {
	const bodyLimit = 8 << 10
	e := newEnv(t, withConfig(func(c *config.Config) { c.MaxBodyBytes = bodyLimit }))
	for _, c := range append(conformanceCases(), ownCases(bodyLimit)...) {
		t.Run(c.id+" "+c.desc, func(t *testing.T) {
			confDo(t, e.URL, c, "").check(t, c)
		})
	}
}

// A GET mutation is refused before it runs: nothing is sent.
func TestConformanceGETMutationDoesNotRun(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	phone := w.OwnerB.Phone
	c := confCase{id: "QQ-GET-MUTATION", method: http.MethodGet, body: confQuery(url.Values{
		"query": {`mutation($p:String!){ requestLoginCode(phone:$p){ retryAfterSeconds } }`}, "variables": {`{"p":"` + phone + `"}`}}),
		status: 405, media: gqlJSON, errors: true, noData: true, reason: "METHOD_NOT_ALLOWED"}
	confDo(t, e.URL, c, "").check(t, c)
	if n := e.SMS.count(phone); n != 0 {
		t.Fatalf("the GET mutation ran: %d texts", n)
	}
}

// Two root fields in one subscription is a validation error (GraphQL's
// "single root field" rule), over the websocket and over POST.
func TestConformanceSubscriptionSingleRootField(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	const two = `subscription { notificationReceived { id } householdUpdated(id: "x") { __typename } }`
	invalid := []string{
		two,
		// Two response keys of one field: gqlparser's rule counts names.
		`subscription { a: notificationReceived { id } b: notificationReceived { id } }`,
		`subscription S { ...F } fragment F on Subscription { notificationReceived { id } householdUpdated(id: "x") { __typename } }`,
		// A root field that may be skipped leaves no field at all.
		`subscription { notificationReceived @skip(if: true) { id } }`,
		`subscription($on: Boolean!) { notificationReceived @include(if: $on) { id } }`,
	}
	ws := dialRaw(t, e).ack(owner.token)
	for i, q := range invalid {
		id := string(rune('a' + i))
		ws.subscribe(id, q, map[string]any{"on": true})
		m := ws.next(10 * time.Second)
		var errs []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		}
		if m.Type != "error" || m.ID != id || json.Unmarshal(m.Payload, &errs) != nil || len(errs) == 0 {
			t.Fatalf("%s: want an error message for %s, got %+v (%s)", q, id, m, m.Payload)
		}
		for _, er := range errs {
			if er.Extensions["code"] != "BAD_USER_INPUT" || er.Extensions["reason"] != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("%s over the websocket: %+v, want BAD_USER_INPUT / GRAPHQL_VALIDATION_FAILED", q, er)
			}
		}
	}

	for _, accept := range []string{gqlJSON, gqlResp} {
		status := map[string]int{gqlJSON: 200, gqlResp: 400}[accept]
		c := confCase{id: "QQ-SUBSCRIPTION-TWO-FIELDS", method: http.MethodPost, accept: accept, contentType: gqlJSON,
			body: confBody(map[string]any{"query": two}), status: status, media: accept, errors: true, noData: true, reason: "GRAPHQL_VALIDATION_FAILED"}
		confDo(t, e.URL, c, owner.token).check(t, c)
	}
}
