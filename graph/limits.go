package graph

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

// Limits bound what one request may cost the server. This is the one place
// they are configured (from config, see internal/app); zero fields take the
// defaults below.
type Limits struct {
	// MaxDepth is the deepest field nesting an operation may have.
	MaxDepth int
	// MaxComplexity bounds the estimated cost: every field costs 1, and a
	// list multiplies what is selected under it by its size (a connection's
	// first/last, else the bound declared in listBounds).
	MaxComplexity int
	// MaxResponseBytes bounds one response, and one subscription message.
	MaxResponseBytes int
	// OperationTimeout is the deadline of one query or mutation; the
	// context is cancelled then, so the work stops. Subscriptions live on.
	OperationTimeout time.Duration
	// MaxBodyBytes bounds a JSON request body; MaxUploadBytes a multipart one.
	MaxBodyBytes   int64
	MaxUploadBytes int64
	// BodyReadTimeout is how long a client may take to send its body.
	BodyReadTimeout time.Duration
}

// Defaults: well above what the apps' own screens need (a page of 100
// households with their members costs about 6,000), well below what hurts.
const (
	DefaultMaxDepth         = 10
	DefaultMaxComplexity    = 20000
	DefaultMaxResponseBytes = 4 << 20
	DefaultOperationTimeout = 15 * time.Second
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxUploadBytes   = 20 << 20
	DefaultBodyReadTimeout  = 30 * time.Second
	// parserTokenLimit stops a huge query before it is even parsed; the
	// body limit bounds it too, this bounds the parser's work.
	parserTokenLimit = 20000
	// maxVisits bounds the walk over an operation with its fragments
	// expanded: fragments spread fragments, so a short query can stand for
	// an exponential number of fields.
	maxVisits = 50000
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxComplexity, DefaultMaxComplexity)
	def(&l.MaxResponseBytes, DefaultMaxResponseBytes)
	if l.OperationTimeout <= 0 {
		l.OperationTimeout = DefaultOperationTimeout
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if l.BodyReadTimeout <= 0 {
		l.BodyReadTimeout = DefaultBodyReadTimeout
	}
	return l
}

// Errors of the limits; extensions.reason tells them apart for clients.
var (
	ErrQueryTooDeep     = apperr.New(apperr.BadUserInput, "query.too_deep").WithReason("QUERY_TOO_DEEP")
	ErrQueryTooComplex  = apperr.New(apperr.BadUserInput, "query.too_complex").WithReason("QUERY_TOO_COMPLEX")
	ErrResponseTooLarge = apperr.New(apperr.BadUserInput, "query.response_too_large").WithReason("RESPONSE_TOO_LARGE")
	ErrOperationTimeout = apperr.New(apperr.Unavailable, "query.timeout").WithReason("OPERATION_TIMEOUT")
	ErrBodyTooLarge     = apperr.New(apperr.BadRequest, "request.body_too_large").WithReason("BODY_TOO_LARGE")
	ErrMalformedBody    = apperr.New(apperr.BadRequest, "common.bad_request").WithReason("MALFORMED_BODY")
	ErrBodyTimeout      = apperr.New(apperr.BadRequest, "request.body_timeout").WithReason("BODY_TIMEOUT")
	ErrMediaType        = apperr.New(apperr.BadRequest, "request.media_type").WithReason("UNSUPPORTED_MEDIA_TYPE")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"query.too_deep":           {ZH: "查询嵌套过深（最多 %d 层）", EN: "The query is nested too deeply (at most %d levels)"},
		"query.too_complex":        {ZH: "查询过于复杂（估算超过上限 %d），请减少字段或每页条数", EN: "The query is too complex (its estimated cost exceeds %d); select fewer fields or smaller pages"},
		"query.response_too_large": {ZH: "返回数据过大（上限 %d 字节），请减少字段或每页条数", EN: "The response is too large (limit %d bytes); select fewer fields or smaller pages"},
		"query.timeout":            {ZH: "操作超时（上限 %v），请稍后再试或缩小查询", EN: "The operation took too long (limit %v); try again later or ask for less"},
		"request.body_too_large":   {ZH: "请求体过大（上限 %d 字节）", EN: "The request body is too large (limit %d bytes)"},
		"request.body_timeout":     {ZH: "请求体发送超时", EN: "The request body was not received in time"},
		"request.media_type":       {ZH: "不支持的请求类型，请使用 application/json 或 multipart/form-data", EN: "Unsupported content type; use application/json or multipart/form-data"},
	})
}

// useLimits installs the limits on srv: the parser's token limit, depth and
// complexity, the operation deadline and the response size.
func useLimits(srv *handler.Server, l Limits, present graphql.ErrorPresenterFunc) {
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.Use(queryLimits{l})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// The body is read by now (every transport reads it before
		// executing): a slow-sender deadline must not cut the operation.
		if done, ok := ctx.Value(bodyReadKey{}).(func()); ok {
			done()
		}
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, l.OperationTimeout)
		h := next(ctx)
		first := true
		return func(rctx context.Context) *graphql.Response {
			resp := h(rctx)
			timedOut := first && errors.Is(ctx.Err(), context.DeadlineExceeded)
			first = false
			if resp == nil || resp.HasNext == nil || !*resp.HasNext {
				cancel() // the last response: release the timer
			}
			if timedOut {
				// Whatever was done is cut (gqlgen then answers nothing at
				// all); say why once, not with an error per field.
				cancel()
				return errorResponse(present(rctx, limitError(ErrOperationTimeout.WithArgs(l.OperationTimeout))))
			}
			return resp
		}
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		size := len(resp.Data)
		if len(resp.Errors) > 0 {
			b, _ := json.Marshal(resp.Errors)
			size += len(b)
		}
		if size > l.MaxResponseBytes {
			return errorResponse(present(ctx, limitError(ErrResponseTooLarge.WithArgs(l.MaxResponseBytes))))
		}
		return resp
	})
}

func errorResponse(e *gqlerror.Error) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{e}}
}

// withoutSuggestions strips gqlparser's "Did you mean ...?" hints, which
// would reveal field, argument and enum names while introspection is off.
// (gqlgen's SetDisableSuggestion covers only some of the rules.)
func withoutSuggestions(p graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := p(ctx, err)
		e.Message = stripSuggestion(e.Message)
		if d, ok := e.Extensions["detail"].(string); ok {
			e.Extensions["detail"] = stripSuggestion(d)
		}
		return e
	}
}

func stripSuggestion(msg string) string {
	if i := strings.Index(msg, "。"+zhSuggestion); i >= 0 {
		return msg[:i] + "。"
	}
	for _, sep := range []string{"; Did you mean", ". Did you mean", " Did you mean"} {
		if i := strings.Index(msg, sep); i >= 0 {
			return strings.TrimRight(msg[:i], " ;.") + "."
		}
	}
	return msg
}
