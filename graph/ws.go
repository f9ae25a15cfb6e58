package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/httpserver"
)

// The graphql-transport-ws protocol
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) is the
// only websocket protocol served: the apps and tests all speak it, and the
// legacy "graphql-ws" (subscriptions-transport-ws) protocol has no close codes
// for a refused or revoked connection.
const wsSubprotocol = "graphql-transport-ws"

// Close codes. The reference client reconnects on 1000/1001/4403/4408 and
// gives up on 4400/4401/4409/4429, so a failure is never closed with 1000.
const (
	closeNormal         websocket.StatusCode = 1000 // the client said goodbye
	closeGoingAway      websocket.StatusCode = 1001 // server shutdown
	closeInternal       websocket.StatusCode = 1011 // database unavailable: retry
	closeTryAgain       websocket.StatusCode = 1013 // could not keep up: retry later
	closeBadRequest     websocket.StatusCode = 4400
	closeUnauthorized   websocket.StatusCode = 4401 // subscribe before connection_ack
	closeForbidden      websocket.StatusCode = 4403 // refused, revoked or expired access
	closeBadSubprotocol websocket.StatusCode = 4406
	closeInitTimeout    websocket.StatusCode = 4408
	closeDuplicateID    websocket.StatusCode = 4409
	closeTooMany        websocket.StatusCode = 4429 // second connection_init, or too many connections
)

// WSLimits bound what one process keeps for websockets. Zero fields take
// the defaults below.
type WSLimits struct {
	InitTimeout                time.Duration // connection_init must arrive within it (10s)
	PingInterval               time.Duration // server pings this often (15s)
	SubscriptionsPerConnection int           // active operations on one connection (50)
	SubscriptionsPerUser       int           // across this process's connections of one user (200)
	ConnectionsPerUser         int           // acked or authenticating connections of one user (20)
	SendQueue                  int           // messages waiting for a slow socket before it is closed
}

func (l WSLimits) withDefaults() WSLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.InitTimeout <= 0 {
		l.InitTimeout = 10 * time.Second
	}
	if l.PingInterval <= 0 {
		l.PingInterval = 15 * time.Second
	}
	def(&l.SubscriptionsPerConnection, 50)
	def(&l.SubscriptionsPerUser, 200)
	def(&l.ConnectionsPerUser, 20)
	// One event can reach every subscription of a connection at once: the
	// queue holds at least one message per subscription.
	def(&l.SendQueue, 256)
	l.SendQueue = max(l.SendQueue, l.SubscriptionsPerConnection+16)
	return l
}

// wsTransport is a gqlgen transport for graphql-transport-ws that keeps the
// access decision made at connection_init with the connection (see wsConn).
type wsTransport struct {
	r        *Resolver
	tokens   *auth.Tokens
	now      func() time.Time
	metrics  *httpserver.Metrics
	log      *slog.Logger
	lim      WSLimits
	reg      *wsRegistry
	presentF graphql.ErrorPresenterFunc
}

var _ graphql.Transport = (*wsTransport)(nil)

func (t *wsTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// Apps authenticate with a bearer token in connection_init, never with
	// cookies, so a cross-origin page gains nothing: allow any origin.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}, InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	if ws.Subprotocol() != wsSubprotocol {
		_ = ws.Close(closeBadSubprotocol, "Subprotocol not acceptable: use graphql-transport-ws")
		return
	}
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(r.Context())
	c := &wsConn{
		t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel, headers: r.Header,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		ops: map[string]*wsOp{},
	}
	c.run(r.Context())
}

// wsMessage is one graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type wsOp struct {
	cancel context.CancelFunc
	byPeer atomic.Bool // the client completed it: no complete is sent back
}

// wsConn is one websocket. After connection_init it keeps the caller, the
// session family, the subject and the token's expiry; events on its
// subscriptions are checked against that kept decision in memory, and the
// registry ends the connection when the spine says the decision is no
// longer true.
type wsConn struct {
	t       *wsTransport
	ws      *websocket.Conn
	exec    graphql.GraphExecutor
	ctx     context.Context // request values; cancelled when the connection ends
	cancel  context.CancelFunc
	headers http.Header

	sendMu  sync.Mutex
	queue   [][]byte      // guarded by sendMu: at most lim.SendQueue messages for the writer
	wake    chan struct{} // one slot: tells the writer the queue is not empty
	done    chan struct{} // closed by end
	endOnce sync.Once
	endCode websocket.StatusCode
	endWhy  string

	mu       sync.Mutex
	initSeen bool
	acked    bool
	counted  bool // in the gauge: decremented exactly once
	ops      map[string]*wsOp
	expiry   *time.Timer

	// The kept access decision. id and expires are set once before the
	// connection is registered and never change.
	id         auth.Identity
	expires    time.Time
	kept       atomic.Pointer[access.Caller]
	revoked    atomic.Bool
	staleGen   int           // guarded by mu: access.changed events seen
	fresh      chan struct{} // guarded by mu: non-nil while the kept caller is stale
	refreshing bool          // guarded by mu
}

// end closes the connection once with code; the writer sends the close frame.
func (c *wsConn) end(code websocket.StatusCode, why string) {
	c.endOnce.Do(func() {
		c.endCode, c.endWhy = code, why
		close(c.done)
	})
}

func (c *wsConn) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *wsConn) run(reqCtx context.Context) {
	finished := make(chan struct{})
	go c.writer(finished)
	initTimer := time.AfterFunc(c.t.lim.InitTimeout, func() {
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		if !acked {
			c.end(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	// The handler cancels the request context at server shutdown.
	stop := context.AfterFunc(reqCtx, func() { c.end(closeGoingAway, "server shutting down") })
	defer func() {
		stop()
		initTimer.Stop()
		c.cleanup()
		<-finished
	}()
	for {
		// Reads use their own context: cancelling a coder/websocket read
		// cuts the connection without a close frame.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			code := closeGoingAway
			if websocket.CloseStatus(err) == closeNormal {
				code = closeNormal
			}
			c.end(code, "")
			return
		}
		if c.ended() {
			continue // drain until the close handshake ends the read
		}
		if typ != websocket.MessageText {
			c.end(closeBadRequest, "Invalid message: binary frames are not part of the protocol")
			continue
		}
		c.handle(data)
	}
}

// cleanup cancels every operation and forgets the connection; after it the
// gauge no longer counts it.
func (c *wsConn) cleanup() {
	c.end(closeGoingAway, "")
	c.cancel()
	c.t.reg.remove(c)
	c.mu.Lock()
	counted := c.counted
	c.counted = false
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	if counted && c.t.metrics != nil {
		c.t.metrics.Websockets.Dec()
	}
}

func (c *wsConn) handle(data []byte) {
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.end(closeBadRequest, "Invalid message received")
		return
	}
	c.mu.Lock()
	acked, initSeen := c.acked, c.initSeen
	c.mu.Unlock()
	switch m.Type {
	case "connection_init":
		if initSeen {
			c.end(closeTooMany, "Too many initialisation requests")
			return
		}
		c.mu.Lock()
		c.initSeen = true
		c.mu.Unlock()
		c.init(m.Payload)
	case "ping":
		c.send(wsMessage{Type: "pong"})
	case "pong":
	case "subscribe":
		if !acked {
			c.end(closeUnauthorized, "Unauthorized")
			return
		}
		if m.ID == "" || len(m.Payload) == 0 || string(m.Payload) == "null" {
			c.end(closeBadRequest, "Invalid message: subscribe needs id and payload")
			return
		}
		c.subscribe(m.ID, m.Payload)
	case "complete":
		if m.ID == "" {
			c.end(closeBadRequest, "Invalid message: complete needs an id")
			return
		}
		c.mu.Lock()
		op := c.ops[m.ID]
		c.mu.Unlock()
		if op != nil {
			op.byPeer.Store(true)
			op.cancel()
		}
	default:
		c.end(closeBadRequest, "Invalid message type "+fmt.Sprintf("%q", m.Type))
	}
}

// init makes the access decision once: the token is verified, the
// connection registered (so revocations from now on reach it), and the
// caller resolved with the session checked, then acknowledged.
func (c *wsConn) init(payload json.RawMessage) {
	var p map[string]any
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			c.end(closeBadRequest, "Invalid message: connection_init payload must be an object")
			return
		}
	}
	tok, _ := p["Authorization"].(string)
	if tok == "" {
		tok, _ = p["authorization"].(string)
	}
	tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
	if tok == "" {
		tok, _ = p["accessToken"].(string)
	}
	claims, err := c.t.tokens.Verify(tok)
	if err != nil || claims.ExpiresAt == nil {
		c.end(closeForbidden, "Forbidden")
		return
	}
	c.id = auth.Identity{Kind: claims.Kind, Subject: claims.Subject, Session: claims.Session}
	c.expires = claims.ExpiresAt.Time
	if !c.t.reg.add(c, c.t.lim.ConnectionsPerUser) {
		// 4429, not 4403: the reference client does not retry it, so an app
		// leaking sockets does not hammer the server.
		c.end(closeTooMany, "Too many connections for this user")
		return
	}
	cl := c.t.reg.siblingDecision(c)
	if cl == nil {
		cl, err = c.t.r.sessionCaller(c.ctx, c.id)
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.Unauthenticated || apperr.CodeOf(err) == apperr.Forbidden {
			c.end(closeForbidden, "Forbidden")
		} else {
			c.t.log.Error("websocket: resolve caller", "err", err)
			c.end(closeInternal, "internal error")
		}
		return
	}
	c.kept.Store(cl)
	c.ctx = auth.WithIdentity(c.ctx, c.id)
	c.ctx = access.WithLazyCaller(c.ctx, func() (*access.Caller, error) { return c.keptCaller(c.ctx) })
	c.ctx = context.WithValue(c.ctx, wsConnKey{}, c)

	c.mu.Lock()
	if c.revoked.Load() || c.ended() {
		c.mu.Unlock()
		c.end(closeForbidden, "Forbidden")
		return
	}
	c.acked, c.counted = true, true
	c.expiry = time.AfterFunc(c.expires.Sub(c.t.now()), func() { c.end(closeForbidden, "Access token expired") })
	changed := c.fresh != nil // access changed while the caller was resolved
	c.mu.Unlock()
	if c.t.metrics != nil {
		c.t.metrics.Websockets.Inc()
	}
	if changed {
		c.refresh()
	}
	c.send(wsMessage{Type: "connection_ack"})
}

// subscribe starts one operation, as gqlgen's own transport does, within
// the per-connection and per-user limits.
func (c *wsConn) subscribe(id string, payload json.RawMessage) {
	start := graphql.Now()
	c.mu.Lock()
	if _, dup := c.ops[id]; dup {
		c.mu.Unlock()
		c.end(closeDuplicateID, "Subscriber for "+id+" already exists")
		return
	}
	tooMany := len(c.ops) >= c.t.lim.SubscriptionsPerConnection
	c.mu.Unlock()
	var params graphql.RawParams
	if err := json.Unmarshal(payload, &params); err != nil {
		c.end(closeBadRequest, "Invalid message: subscribe payload")
		return
	}
	if tooMany || !c.t.reg.reserve(c.id.Subject, c.t.lim.SubscriptionsPerUser) {
		c.sendErrors(id, gqlerror.List{c.t.presentF(c.ctx, apperr.New(apperr.RateLimited, "ws.too_many_subscriptions"))})
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = c.headers
	ctx := withLiveSlot(graphql.StartOperationTrace(c.ctx))
	rc, errs := c.exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		c.t.reg.release(c.id.Subject)
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.sendErrors(id, resp.Errors)
		return
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	op := &wsOp{cancel: cancel}
	c.mu.Lock()
	c.ops[id] = op
	c.mu.Unlock()

	go func() {
		defer func() {
			v := recover()
			// Free the id and the slots before telling the client, so it may
			// reuse both as soon as it hears the operation ended.
			c.mu.Lock()
			delete(c.ops, id)
			c.mu.Unlock()
			cancel()
			c.t.reg.release(c.id.Subject)
			if v != nil {
				err := rc.Recover(ctx, v)
				var ge *gqlerror.Error
				if !errors.As(err, &ge) {
					ge = c.t.presentF(ctx, apperr.ErrInternal)
				}
				c.sendErrors(id, gqlerror.List{ge})
			} else if !op.byPeer.Load() {
				c.send(wsMessage{ID: id, Type: "complete"})
			}
		}()
		prefix := nextPrefix(id)
		responses, ctx := c.exec.DispatchOperation(ctx, rc)
		for {
			resp := responses(ctx)
			if resp == nil || op.byPeer.Load() {
				// Nothing more for an operation the client completed, not
				// even the resolver's "context canceled".
				return
			}
			b, err := json.Marshal(resp)
			if err != nil {
				panic(err)
			}
			c.sendNext(prefix, b)
		}
	}()
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"ws.too_many_subscriptions": {ZH: "订阅太多，请先取消不用的订阅", EN: "Too many subscriptions; complete unused ones first"},
	})
}

// newWSTransport builds the websocket transport and starts applying control
// events from the spine until o.Shutdown is done.
func newWSTransport(r *Resolver, o HandlerOptions, present graphql.ErrorPresenterFunc) *wsTransport {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	t := &wsTransport{
		r: r, tokens: o.Tokens, now: now, metrics: o.Metrics, log: log,
		lim: o.Websockets.withDefaults(), reg: newWSRegistry(), presentF: present,
	}
	if r.Svc.Events != nil {
		ctx := o.Shutdown
		if ctx == nil {
			ctx = context.Background()
		}
		go t.reg.watch(ctx, r.Svc.Events, log)
	}
	return t
}
