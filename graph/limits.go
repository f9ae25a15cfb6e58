package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/page"
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

// listBounds declares how many items an unpaged list field can hold, for
// the complexity estimate: "Type.field" -> bound. Every list of objects
// outside a connection must be here (TestEveryListFieldHasABound); a list
// directly on a *Connection type counts 1, as the connection field already
// multiplies by its page size. Lists of scalars and enums are leaves and
// cost 1. A bound is a generous typical count (a household has a handful
// of members, a survey some 20 questions), not a hard cap: the estimate
// needs the order of magnitude to stop multiplying nestings; a list that
// grows past its bound is still held by the response size and time caps.
var listBounds = map[string]int{
	"Query.communities":                  50,
	"Query.myHouseholds":                 10,
	"Query.householdInvitations":         20,
	"Query.myInvitations":                10,
	"Query.campaignSlots":                50,
	"Query.festivalCalendar":             30,
	"Query.festivalSettings":             30,
	"Query.engineers":                    50,
	"Query.repairDeadlines":              10,
	"Query.serviceCatalog":               50,
	"Query.serviceOrderCounts":           20,
	"Mutation.updateFestivalSettings":    30,
	"Mutation.setRepairDeadlines":        10,
	"Mutation.recordWechatSubscription":  20,
	"Me.communities":                     50,
	"Me.memberships":                     10,
	"Person.memberships":                 10,
	"Household.members":                  10,
	"Community.buildings":                50,
	"Staff.communities":                  50,
	"Staff.buildings":                    50,
	"CommunityEvent.buildings":           50,
	"CommunityEvent.mySignUps":           10,
	"CommunityEvent.timeline":            30,
	"EventSignUp.timeline":               30,
	"EventAttendance.signUps":            200,
	"EventAttendance.noShows":            200,
	"EventAttendance.waitingList":        200,
	"EventAttendance.ratings":            5,
	"EventAttendance.feedback":           200,
	"ServiceCampaign.buildings":          50,
	"ServiceCampaign.myVisits":           10,
	"CampaignVisit.timeline":             30,
	"CampaignCoverage.counts":            10,
	"CampaignCoverage.edges":             100,
	"Complaint.replies":                  30,
	"Complaint.callbacks":                10,
	"Complaint.timeline":                 30,
	"MoveBooking.timeline":               30,
	"Notification.data":                  20,
	"DeliveryReport.byChannel":           10,
	"Renovation.workers":                 30,
	"Renovation.reviews":                 20,
	"Renovation.inspections":             20,
	"Renovation.extensions":              10,
	"Renovation.timeline":                30,
	"RepairRequest.workOrders":           10,
	"RepairRequest.acceptances":          10,
	"RepairRequest.callbacks":            10,
	"RepairRequest.timeline":             30,
	"WorkOrder.materials":                20,
	"WorkOrderCounts.byStatus":           10,
	"ServiceItem.windows":                20,
	"ServiceItem.priceHistory":           30,
	"Laundry.items":                      30,
	"ServiceOrder.extras":                20,
	"ServiceOrder.timeline":              30,
	"ButlerTaskList.tasks":               200,
	"Query.staffMembers":                 200,
	"Survey.buildings":                   50,
	"Survey.questions":                   20,
	"Survey.timeline":                    30,
	"SurveyResponse.answers":             20,
	"SurveyResults.dimensions":           20,
	"SurveyResults.questions":            20,
	"SurveyDimensionResult.importance":   5,
	"SurveyDimensionResult.satisfaction": 5,
	"SurveyQuestionResult.options":       20,
	"SurveyQuestionResult.ratings":       5,
	"SurveyQuestionResult.textAnswers":   50,
}

// unknownListBound is used for a list missing from listBounds (a test
// fails first); it is the page maximum, so an omission errs on the safe side.
const unknownListBound = page.MaxFirst

// queryLimits is the gqlgen extension that refuses an operation deeper or
// costlier than the limits, after validation and before any resolver runs.
type queryLimits struct{ l Limits }

func (queryLimits) ExtensionName() string                          { return "QueryLimits" }
func (queryLimits) Validate(schema graphql.ExecutableSchema) error { return nil }

func (q queryLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &walker{vars: oc.Variables, limit: q.l.MaxComplexity}
	if w.tooDeep(oc.Operation.SelectionSet, 1, q.l.MaxDepth) {
		if w.visits > maxVisits {
			return limitError(ErrQueryTooComplex.WithArgs(q.l.MaxComplexity))
		}
		return limitError(ErrQueryTooDeep.WithArgs(q.l.MaxDepth))
	}
	w.visits = 0
	if c := w.cost(oc.Operation.SelectionSet, false); c > q.l.MaxComplexity {
		return limitError(ErrQueryTooComplex.WithArgs(q.l.MaxComplexity))
	}
	return nil
}

// limitError carries ae through gqlgen to the error presenter, which maps it.
func limitError(ae *apperr.Error) *gqlerror.Error {
	return &gqlerror.Error{Message: ae.Error(), Err: ae}
}

// walker walks an operation with fragments expanded, counting every field
// it visits so that no query, however its fragments nest, makes it work
// more than maxVisits steps (gqlparser already refuses fragment cycles).
type walker struct {
	vars   map[string]any
	limit  int
	visits int
}

// fields calls fn for every field of set, expanding fragments, until fn
// returns false or the visits run out; it reports whether it went through.
func (w *walker) fields(set ast.SelectionSet, fn func(*ast.Field) bool) bool {
	for _, s := range set {
		w.visits++
		if w.visits > maxVisits {
			return false
		}
		switch s := s.(type) {
		case *ast.Field:
			if !fn(s) {
				return false
			}
		case *ast.InlineFragment:
			if !w.fields(s.SelectionSet, fn) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !w.fields(s.Definition.SelectionSet, fn) {
				return false
			}
		}
	}
	return true
}

// introspective fields (__schema, __type) are exempt: they read the
// in-memory schema, are off in production, and gqlparser's
// MaxIntrospectionDepth rule bounds their nesting.
func introspective(f *ast.Field) bool { return strings.HasPrefix(f.Name, "__") }

// tooDeep reports whether a field in set lies deeper than max (set's own
// fields are at depth), or the walk ran out of visits.
func (w *walker) tooDeep(set ast.SelectionSet, depth, max int) bool {
	deep := false
	ok := w.fields(set, func(f *ast.Field) bool {
		if introspective(f) {
			return true
		}
		if depth > max || w.tooDeep(f.SelectionSet, depth+1, max) {
			deep = true
			return false
		}
		return true
	})
	return deep || !ok
}

// cost estimates set's cost; it stops counting just above the limit, so
// the numbers never overflow and the walk ends early.
func (w *walker) cost(set ast.SelectionSet, onConnection bool) int {
	over := w.limit + 1
	total := 0
	ok := w.fields(set, func(f *ast.Field) bool {
		if introspective(f) || f.Definition == nil {
			return true
		}
		n, conn := w.size(f, onConnection)
		c := 1
		if len(f.SelectionSet) > 0 && n > 0 {
			child := w.cost(f.SelectionSet, conn)
			// A selection of only __typename costs nothing below f.
			if child >= over || (child > 0 && n >= over/child+1) {
				c = over
			} else {
				c += n * child
			}
		}
		total += c
		if total >= over {
			total = over
			return false
		}
		return true
	})
	if !ok {
		return over
	}
	return total
}

// size is how many times f's selection runs, and whether f is a connection
// (so its own list fields count once).
func (w *walker) size(f *ast.Field, onConnection bool) (n int, conn bool) {
	t := f.Definition.Type
	if strings.HasSuffix(t.Name(), "Connection") && t.Elem == nil {
		n = page.MaxFirst
		args := f.ArgumentMap(w.vars)
		for _, name := range []string{"first", "last"} {
			if v, ok := args[name]; ok && v != nil {
				if i, ok := toInt(v); ok && i >= 0 && i < n {
					n = i
				}
				break
			}
		}
		return n, true
	}
	if t.Elem == nil {
		return 1, false
	}
	if onConnection {
		return 1, false
	}
	if b, ok := listBounds[f.ObjectDefinition.Name+"."+f.Name]; ok {
		return b, false
	}
	return unknownListBound, false
}

func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		i, err := v.Int64()
		return int(i), err == nil
	}
	return 0, false
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
		for _, sep := range []string{"; Did you mean", ". Did you mean", " Did you mean"} {
			if i := strings.Index(e.Message, sep); i >= 0 {
				e.Message = strings.TrimRight(e.Message[:i], " ;.") + "."
				break
			}
		}
		return e
	}
}

type bodyReadKey struct{}

// guardBody enforces the body limits before gqlgen reads a request: a JSON
// body is read here (within MaxBodyBytes and BodyReadTimeout) and checked to
// be a GraphQL request, a multipart one is bounded by MaxUploadBytes. It
// answers refused requests itself (413, 400, 408, 415, all with a coded
// body) and returns false then. Websocket upgrades pass untouched: they
// have no body, and a read deadline would outlive the upgrade.
func guardBody(w http.ResponseWriter, r *http.Request, l Limits, present graphql.ErrorPresenterFunc) (*http.Request, http.ResponseWriter, bool) {
	if r.Method != http.MethodPost {
		return r, w, true
	}
	ctx := r.Context()
	refuse := func(status int, ae *apperr.Error) (*http.Request, http.ResponseWriter, bool) {
		writeError(w, status, present(ctx, limitError(ae)))
		return r, w, false
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(l.BodyReadTimeout))
	clear := func() { _ = rc.SetReadDeadline(time.Time{}) }
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		if r.ContentLength > l.MaxBodyBytes {
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxBodyBytes))
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, l.MaxBodyBytes+1))
		_ = r.Body.Close()
		switch {
		case err != nil:
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestTimeout, ErrBodyTimeout)
		case int64(len(body)) > l.MaxBodyBytes:
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxBodyBytes))
		}
		clear()
		// The shape gqlgen expects; anything else is the client's error,
		// answered here so the body is never quoted in a message or a log.
		var params struct {
			Query         string         `json:"query"`
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
			Extensions    map[string]any `json:"extensions"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil || dec.More() {
			return refuse(http.StatusBadRequest, ErrMalformedBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r, w, true
	case "multipart/form-data":
		if r.ContentLength > l.MaxUploadBytes {
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxUploadBytes))
		}
		// A body without a length is cut at the limit; gqlgen then answers
		// with an uncoded error, which oversize replaces with ours.
		ow := &oversizeWriter{ResponseWriter: w, ctx: ctx, present: present, max: l.MaxUploadBytes}
		r.Body = &countingBody{ReadCloser: r.Body, left: l.MaxUploadBytes, over: &ow.over}
		r = r.WithContext(context.WithValue(ctx, bodyReadKey{}, clear))
		return r, ow, true
	default:
		return refuse(http.StatusUnsupportedMediaType, ErrMediaType)
	}
}

func writeError(w http.ResponseWriter, status int, e *gqlerror.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorResponse(e))
}

// countingBody notes when a body runs past its limit.
type countingBody struct {
	io.ReadCloser
	left int64
	over *bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		*b.over = true
		return 0, errors.New("request body too large")
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		*b.over = true
		return n, errors.New("request body too large")
	}
	return n, err
}

// oversizeWriter answers 413 with a coded error instead of whatever gqlgen
// writes once the body ran past the limit.
type oversizeWriter struct {
	http.ResponseWriter
	ctx      context.Context
	present  graphql.ErrorPresenterFunc
	max      int64
	over     bool
	replaced bool
}

func (o *oversizeWriter) WriteHeader(status int) {
	if o.over {
		if !o.replaced {
			o.replaced = true
			o.ResponseWriter.Header().Set("Connection", "close")
			writeError(o.ResponseWriter, http.StatusRequestEntityTooLarge, o.present(o.ctx, limitError(ErrBodyTooLarge.WithArgs(o.max))))
		}
		return
	}
	o.ResponseWriter.WriteHeader(status)
}

func (o *oversizeWriter) Write(b []byte) (int, error) {
	if o.over {
		o.WriteHeader(http.StatusRequestEntityTooLarge)
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (o *oversizeWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// isUpgrade is a websocket handshake: a GET without a body. A POST that
// merely claims an upgrade still has its body checked.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
