// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/):
// the status codes, content types and bodies the specification asks for,
// layered around gqlgen's own transports rather than forking them.
//
// The rules, per kind of failure:
//   - a request that is not well formed (not JSON, a batch, a query that is
//     missing or not a string, variables that are not an object): 400,
//     whatever the client accepts;
//   - a document that cannot run (it does not parse or validate, its
//     variables do not coerce, an APQ hash that does not match): 200 with
//     errors for application/json, 400 for application/graphql-response+json;
//     never a data entry, since nothing was executed;
//   - a mutation or subscription over GET: 405 with Allow: POST;
//   - a subscription over POST: refused like a document that cannot run
//     (it would otherwise wait for its first event and answer only that);
//   - field errors during execution: 200 with data, as before.
//
// Every error a client sees carries extensions.code (see errors.go).

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Errors of the protocol itself; extensions.reason tells them apart.
var (
	ErrMissingQuery      = apperr.New(apperr.BadRequest, "request.missing_query").WithReason("MISSING_QUERY")
	ErrBatchUnsupported  = apperr.New(apperr.BadRequest, "request.batch").WithReason("BATCH_NOT_SUPPORTED")
	ErrMethodNotAllowed  = apperr.New(apperr.BadRequest, "request.get_mutation").WithReason("METHOD_NOT_ALLOWED")
	ErrSubscriptionHTTP  = apperr.New(apperr.BadRequest, "request.subscription_http").WithReason("SUBSCRIPTION_NEEDS_WEBSOCKET")
	ErrAPQHashMismatch   = apperr.New(apperr.BadRequest, "request.apq_mismatch").WithReason("PERSISTED_QUERY_HASH_MISMATCH")
	ErrAPQInvalid        = apperr.New(apperr.BadRequest, "request.apq_invalid").WithReason("PERSISTED_QUERY_INVALID")
	errPersistedNotFound = apperr.New(apperr.BadRequest, "request.apq_not_found").WithReason("PERSISTED_QUERY_NOT_FOUND")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"request.missing_query":     {ZH: "请求缺少 query 参数", EN: "The request has no query"},
		"request.batch":             {ZH: "不支持批量请求，请逐个发送操作", EN: "Batched requests are not supported; send one operation per request"},
		"request.get_mutation":      {ZH: "GET 请求只能执行查询，修改操作请使用 POST", EN: "GET requests may only run queries; send mutations with POST"},
		"request.subscription_http": {ZH: "订阅须通过 WebSocket（graphql-transport-ws）建立", EN: "Subscriptions need a websocket (graphql-transport-ws)"},
		"request.apq_mismatch":      {ZH: "持久化查询的哈希与查询内容不符", EN: "The persisted query hash does not match the query"},
		"request.apq_invalid":       {ZH: "持久化查询参数无效", EN: "The persisted query extension is invalid"},
		// Clients of the APQ protocol (Apollo, urql) retry with the full
		// query when they see this exact message, so it is not translated.
		"request.apq_not_found": {ZH: "PersistedQueryNotFound", EN: "PersistedQueryNotFound"},
	})
}

// specState is what the handler learns about one request on the way: the
// transport wrapper records what kind of failure it was, the writer turns
// that into the status the specification asks for.
type specState struct {
	graphQLResponse bool // the answer is application/graphql-response+json
	requestError    bool // the document could not run: nothing was executed
	malformed       bool // not a well-formed GraphQL-over-HTTP request
	method          bool // an operation other than a query over GET
}

type specKey struct{}

func specFrom(ctx context.Context) *specState {
	st, _ := ctx.Value(specKey{}).(*specState)
	return st
}

// withSpec starts the protocol bookkeeping of one (non-websocket) request.
// finish must be called once the handler is done writing.
func withSpec(w http.ResponseWriter, r *http.Request) (*specWriter, *http.Request) {
	st := &specState{graphQLResponse: acceptsGraphQLResponse(r.Header.Get("Accept"))}
	r = r.WithContext(context.WithValue(r.Context(), specKey{}, st))
	return &specWriter{ResponseWriter: w, st: st}, r
}

// acceptsGraphQLResponse is gqlgen's choice of response media type (see its
// transport/headers.go), repeated so errors written before or around its
// transports agree with it: the first of the listed types it knows wins,
// application/json when Accept is missing or says */*.
func acceptsGraphQLResponse(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return false
		case mediaGraphQLResponse:
			return true
		}
	}
	return true
}

// specTransport wraps one of gqlgen's HTTP transports so that its executor
// reports what kind of failure a request met, and refuses operations the
// transport must not run.
type specTransport struct {
	graphql.Transport
	get bool // GET runs queries only
}

func (t specTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	st := specFrom(r.Context())
	if st == nil {
		st = &specState{}
	}
	t.Transport.Do(w, r, specExec{GraphExecutor: exec, get: t.get, st: st})
}

type specExec struct {
	graphql.GraphExecutor
	get bool
	st  *specState
}

func (x specExec) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	missing := p.Query == "" && p.Extensions["persistedQuery"] == nil
	oc, errs := x.GraphExecutor.CreateOperationContext(ctx, p)
	switch {
	case missing:
		x.st.malformed = true
		return oc, gqlerror.List{limitError(ErrMissingQuery)}
	case errs != nil:
		x.st.requestError = true
		return oc, errs
	case oc.Operation == nil:
		return oc, nil
	case x.get && oc.Operation.Operation != ast.Query:
		// Before anything runs: a link or a prefetch must never change data.
		x.st.requestError, x.st.method = true, true
		return oc, gqlerror.List{limitError(ErrMethodNotAllowed)}
	case oc.Operation.Operation == ast.Subscription:
		x.st.requestError = true
		return oc, gqlerror.List{limitError(ErrSubscriptionHTTP)}
	}
	return oc, nil
}

// specWriter sets the status and content type the specification asks for,
// and takes the data entry out of error answers (a request error is
// answered before execution, so it has no data at all). Error answers are
// held until finish, so their bodies can be rewritten whole.
type specWriter struct {
	http.ResponseWriter
	st     *specState
	status int
	held   *bytes.Buffer // the body of an error answer, written by finish
}

func (w *specWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	st := w.st
	switch {
	case st.method:
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", "POST")
	case st.malformed:
		status = http.StatusBadRequest
	case st.requestError && st.graphQLResponse:
		status = http.StatusBadRequest
	case st.requestError:
		status = http.StatusOK
	}
	w.status = status
	h := w.Header()
	ct := h.Get("Content-Type")
	switch {
	case st.graphQLResponse && (ct == "" || strings.HasPrefix(ct, mediaJSON)):
		h.Set("Content-Type", mediaGraphQLResponse)
	case ct == "":
		h.Set("Content-Type", mediaJSON)
	}
	if status >= http.StatusBadRequest || st.requestError {
		h.Del("Content-Length")
		w.held = &bytes.Buffer{}
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *specWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.held != nil {
		return w.held.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// finish writes a held error answer without its data entry.
func (w *specWriter) finish() {
	if w.held == nil {
		return
	}
	body := w.held.Bytes()
	var resp map[string]json.RawMessage
	if json.Unmarshal(body, &resp) == nil && resp["errors"] != nil {
		delete(resp, "data")
		if b, err := json.Marshal(resp); err == nil {
			body = b
		}
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
	w.held = nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *specWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// presentAPQ maps the errors of gqlgen's automatic persisted queries, which
// carry no Go error to recognise, to ours; ok is false for other errors.
func presentAPQ(msg string) (*apperr.Error, bool) {
	switch msg {
	case "PersistedQueryNotFound":
		return errPersistedNotFound, true
	case "provided APQ hash does not match query":
		return ErrAPQHashMismatch, true
	case "invalid APQ extension data", "unsupported APQ version":
		return ErrAPQInvalid, true
	}
	return nil, false
}

// singleRootSubscription completes gqlparser's SingleFieldSubscriptions
// rule, which counts root fields by name: a subscription whose root has two
// response keys (a: x b: x) or a field it may skip (@skip, @include) would
// pass it and then fail inside the executor as an internal error. The
// GraphQL specification makes both validation errors, and so are they here.
type singleRootSubscription struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = singleRootSubscription{}

func (singleRootSubscription) ExtensionName() string                   { return "SingleRootSubscription" }
func (singleRootSubscription) Validate(graphql.ExecutableSchema) error { return nil }
func (singleRootSubscription) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Operation
	if op == nil || op.Operation != ast.Subscription {
		return nil
	}
	keys, conditional := map[string]bool{}, false
	var walk func(set ast.SelectionSet, depth int)
	walk = func(set ast.SelectionSet, depth int) {
		if depth > 10 { // fragment cycles are refused by validation already
			return
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				keys[s.Alias] = true
				conditional = conditional || skippable(s.Directives)
			case *ast.InlineFragment:
				conditional = conditional || skippable(s.Directives)
				walk(s.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				conditional = conditional || skippable(s.Directives)
				if s.Definition != nil {
					walk(s.Definition.SelectionSet, depth+1)
				}
			}
		}
	}
	walk(op.SelectionSet, 0)
	if len(keys) == 1 && !conditional {
		return nil
	}
	name := "Anonymous Subscription"
	if op.Name != "" {
		name = `Subscription "` + op.Name + `"`
	}
	msg := name + " must select only one top level field."
	if conditional {
		msg = name + " must not use @skip or @include on its top level field."
	}
	e := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
	if op.Position != nil {
		e.Locations = []gqlerror.Location{{Line: op.Position.Line, Column: op.Position.Column}}
	}
	return e
}

func skippable(ds ast.DirectiveList) bool {
	return ds.ForName("skip") != nil || ds.ForName("include") != nil
}
