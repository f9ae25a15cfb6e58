package graph

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/httpserver"
)

// HandlerOptions configure the GraphQL endpoint.
type HandlerOptions struct {
	Tokens        *auth.Tokens
	Metrics       *httpserver.Metrics
	Log           *slog.Logger
	Introspection bool
	// Shutdown is cancelled when the server stops; open websockets then end
	// with a close message instead of being cut.
	Shutdown context.Context
	// TrustedProxies may set X-Forwarded-For (see ClientIP).
	TrustedProxies []netip.Prefix
	// Limits bound one request's cost (see limits.go).
	Limits Limits
	// Websockets bounds connections and subscriptions (zero: defaults).
	Websockets WSLimits
	// Now is the clock access tokens are checked against (nil: time.Now).
	Now func() time.Time
	// LoaderWait, when set, sends every loader batch this long after its
	// first key instead of when its level is resolved (see batch.go).
	LoaderWait time.Duration
}

// NewHandler builds /graphql: POST, GET, graphql-transport-ws websockets and
// multipart uploads, with the error presenter, metrics and per-response
// loaders.
func NewHandler(svc *Services, o HandlerOptions) http.Handler {
	r := &Resolver{Svc: svc}
	es := NewExecutableSchema(Config{Resolvers: r})
	srv := handler.New(es)
	var count ErrorCounter
	if o.Metrics != nil {
		count = func(c apperr.Code) { o.Metrics.Errors.WithLabelValues(string(c)).Inc() }
	}
	present := ErrorPresenter(o.Log, count)
	if !o.Introspection {
		srv.SetDisableSuggestion(true)
		present = withoutSuggestions(present)
	}
	srv.AddTransport(newWSTransport(r, o, present))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(specTransport{Transport: transport.GET{}, get: true})
	srv.AddTransport(specTransport{Transport: transport.POST{}})
	lim := o.Limits.withDefaults()
	srv.AddTransport(specTransport{Transport: transport.MultipartForm{MaxUploadSize: lim.MaxUploadBytes, MaxMemory: 8 << 20}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(singleRootSubscription{})
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(present)
	useLimits(srv, lim, present)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		o.Log.ErrorContext(ctx, "panic in resolver", "panic", v, "stack", string(debug.Stack()))
		return apperr.ErrInternal
	})
	batching := batchOptions{wait: o.LoaderWait, info: newSchemaInfo(es.Schema()), log: o.Log, memos: &liveMemos{}}
	if batching.log == nil {
		batching.log = slog.New(slog.DiscardHandler)
	}
	srv.AroundFields(countField)
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		ctx = withLoaders(ctx, svc, batching)
		start := time.Now()
		resp := next(ctx)
		if slot := liveSlotOf(ctx); slot != nil {
			slot.done()
		}
		if o.Metrics != nil && graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			name, typ := oc.OperationName, "unknown"
			if oc.Operation != nil {
				typ = string(oc.Operation.Operation)
				if name == "" {
					name = oc.Operation.Name
				}
			}
			if name == "" {
				name = "anonymous"
			}
			o.Metrics.Operations.WithLabelValues(name, typ).Inc()
			o.Metrics.Latency.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
		}
		return resp
	})

	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Answers are per caller and may be personal: never cached.
		w.Header().Set("Cache-Control", "no-store")
		if !isUpgrade(req) {
			// Status codes and media types of GraphQL over HTTP (httpspec.go).
			sw, sreq := withSpec(w, req)
			defer sw.finish()
			w, req = sw, sreq
		}
		ctx := WithLang(req.Context(), apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language")))
		ctx = WithClientIP(ctx, req, o.TrustedProxies)
		if o.Shutdown != nil && strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			stop := context.AfterFunc(o.Shutdown, cancel)
			defer stop()
			defer cancel()
		}
		if h := req.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			var err error
			if ctx, err = authenticate(ctx, r, o.Tokens, strings.TrimSpace(tok)); err != nil || !ok || !sessionLive(ctx) {
				writeUnauthenticated(w, LangFrom(ctx))
				return
			}
		}
		ctx, w = withRetryAfter(ctx, w, req) // RATE_LIMITED errors set Retry-After
		req = req.WithContext(ctx)
		if !isUpgrade(req) {
			var ok bool
			if req, w, ok = guardBody(w, req, lim, present); !ok {
				return
			}
			// Errors gqlgen's transports write themselves get a code too.
			w = codeTransportErrors(w, LangFrom(ctx), count)
		}
		srv.ServeHTTP(w, req)
	})
}

// authenticate verifies an access token and attaches a caller that is loaded
// (roles, scopes, session still active) on first use.
func authenticate(ctx context.Context, r *Resolver, tokens *auth.Tokens, tok string) (context.Context, error) {
	claims, err := tokens.Verify(tok)
	if err != nil {
		return ctx, apperr.ErrUnauthenticated
	}
	id := auth.Identity{Kind: claims.Kind, Subject: claims.Subject, Session: claims.Session}
	ctx = auth.WithIdentity(ctx, id)
	// Top-level fields resolve concurrently: load the caller exactly once.
	load := sync.OnceValues(func() (*access.Caller, error) { return r.sessionCaller(ctx, id) })
	return access.WithLazyCaller(ctx, load), nil
}

// sessionCaller refuses tokens of a logged-out session, so logout takes
// effect at once rather than when the access token expires.
func (r *Resolver) sessionCaller(ctx context.Context, id auth.Identity) (*access.Caller, error) {
	if id.Session != "" && r.Svc.Identity != nil {
		ok, err := r.Svc.Identity.SessionActive(ctx, id.Session)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.ErrUnauthenticated
		}
	}
	return r.ResolveCaller(ctx, id)
}

// sessionLive loads the caller now, before anything runs, so that every
// cause of a refused token (a logged-out session, a deleted account) is
// answered like a bad or expired one: 401, not an error per field. The load
// is the request's lazy caller, so resolvers reuse it. A database failure is
// not the caller's fault: the request goes on and its fields report it.
func sessionLive(ctx context.Context) bool {
	_, err := access.CallerFrom(ctx)
	return apperr.CodeOf(err) != apperr.Unauthenticated
}

// writeUnauthenticated answers 401 for every unauthenticated cause found
// before execution (RFC 6750: the challenge names the bearer scheme).
// bearerCaller authenticates a plain HTTP request (files, reports,
// documents) by its Authorization header as /graphql does; false when it
// answered 401 itself.
func bearerCaller(w http.ResponseWriter, req *http.Request, r *Resolver, tokens *auth.Tokens, lang apperr.Lang) (context.Context, *access.Caller, bool) {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeUnauthenticated(w, lang)
		return nil, nil, false
	}
	ctx, err := authenticate(req.Context(), r, tokens, strings.TrimSpace(tok))
	if err != nil {
		writeUnauthenticated(w, lang)
		return nil, nil, false
	}
	c, err := caller(ctx)
	if err != nil {
		writeUnauthenticated(w, lang)
		return nil, nil, false
	}
	return ctx, c, true
}

func writeUnauthenticated(w http.ResponseWriter, lang apperr.Lang) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="qinqing", error="invalid_token"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	msg := apperr.Message(apperr.New(apperr.Unauthenticated, "auth.bad_token"), lang)
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"UNAUTHENTICATED"}}]}`))
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"auth.bad_token": {ZH: "登录已失效，请重新登录", EN: "Your session is invalid or expired; please sign in again"},
	})
}
