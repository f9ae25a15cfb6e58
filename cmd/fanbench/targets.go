package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/cmd/fanbench/bare"
	"qinqing/internal/access"
	"qinqing/internal/app"
	"qinqing/internal/identity"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/seed"
	"qinqing/internal/staff"
)

type bareTarget struct {
	r   *bare.Resolver
	srv *http.Server
	u   string
}

func startBare() (*bareTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &bareTarget{r: &bare.Resolver{}, u: "ws://" + ln.Addr().String() + "/graphql"}
	t.srv = &http.Server{Handler: bare.NewHandler(t.r), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *bareTarget) name() string               { return "bare" }
func (t *bareTarget) url() string                { return t.u }
func (t *bareTarget) tokens() []string           { return []string{"none"} }
func (t *bareTarget) variables() map[string]any  { return map[string]any{"id": "h1"} }
func (t *bareTarget) commands() map[string]int64 { return map[string]int64{} }
func (t *bareTarget) close()                     { _ = t.srv.Close() }
func (t *bareTarget) fire() error {
	t.r.Broadcast(&bare.HouseholdEvent{HouseholdID: "h1", Type: "household.updated", At: time.Now(),
		Household: &bare.Household{ID: "h1", Unit: "2", Room: "1502", Label: "3栋2单元1502"}})
	return nil
}

// commandCounter counts the driver's commands by name and collection.
type commandCounter struct {
	mu sync.Mutex
	n  map[string]int64
}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		coll := ""
		if el, err := e.Command.IndexErr(0); err == nil {
			coll, _ = el.Value().StringValueOK()
		}
		c.mu.Lock()
		c.n[e.CommandName+" "+coll]++
		c.mu.Unlock()
	}}
}

func (c *commandCounter) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

type qinqingTarget struct {
	app         *app.App
	stop        func()
	u           string
	toks        []string
	household   string
	communityID string
	counter     *commandCounter
	db          *database
}

// startQinqing runs the server as `go run .` would, on a fresh embedded
// database (or a fresh database on MONGODB_URI), with the demo seed and
// nStaff supervisors of its first community, each signed in once.
func startQinqing(nStaff int) (*qinqingTarget, error) {
	dir, err := os.MkdirTemp("", "fanbench-")
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"DATA_DIR": dir, "METRICS_ADDR": "", "LOG_LEVEL": "error", "ACCESS_TOKEN_TTL": "2h",
		// One staff member's sockets stand for many residents' here.
		"WS_MAX_CONNECTIONS_PER_USER": "100000", "WS_MAX_SUBSCRIPTIONS_PER_USER": "100000",
	} {
		os.Setenv(k, v)
	}
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	cfg.MetricsAddr = ""
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	uri, dbName := cfg.MongoURI, cfg.MongoDB
	var emb *database
	if uri == "" {
		if emb, err = startDatabase(dir); err != nil {
			return nil, err
		}
		uri = emb.uri
	} else {
		dbName = fmt.Sprintf("fanbench_%d", time.Now().UnixNano())
	}
	counter := &commandCounter{n: map[string]int64{}}
	db, err := mongo.Connect(ctx, uri, dbName, mongo.Options{Monitor: counter.monitor()})
	if err != nil {
		return nil, err
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	a, err := app.New(cfg, app.Deps{DB: db, Log: log, Now: time.Now})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = a.Run(runCtx, ln); close(done) }()
	<-a.Ready()
	t := &qinqingTarget{app: a, u: "ws://" + ln.Addr().String() + "/graphql", counter: counter, db: emb}
	t.stop = func() {
		cancel()
		<-done
		if uri != cfg.MongoURI {
			_ = db.Close(ctx)
			emb.stop()
		} else {
			_ = db.Database.Drop(ctx)
			_ = db.Close(ctx)
		}
		_ = os.RemoveAll(dir)
	}
	if err := t.seed(ctx, nStaff); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

func (t *qinqingTarget) seed(ctx context.Context, nStaff int) error {
	s := t.app.Services
	res, err := seed.Run(ctx, seed.Deps{DB: t.app.Deps.DB, Communities: s.Communities, Households: s.Households, Archive: s.Archive, Staff: s.Staff, Now: time.Now}, seed.Options{Households: 10})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	t.communityID = res.Communities[0].ID
	var h struct {
		ID string `bson:"_id"`
	}
	if err := t.app.Deps.DB.Collection("households").FindOne(ctx, bson.D{{Key: "communityId", Value: t.communityID}}).Decode(&h); err != nil {
		return fmt.Errorf("find a household: %w", err)
	}
	t.household = h.ID
	hash, err := identity.HashPassword(seed.DemoPassword)
	if err != nil {
		return err
	}
	for i := 0; i < nStaff; i++ {
		acct := fmt.Sprintf("fanbench%04d", i)
		if _, err := s.Staff.Upsert(ctx, &staff.Staff{Account: acct, PasswordHash: hash, Name: "主管" + acct[8:],
			Roles: []access.Role{access.Supervisor}, CommunityIDs: []string{t.communityID}}); err != nil {
			return err
		}
		// A distinct address per login: the login throttle counts per address.
		sess, err := s.Identity.StaffLogin(ctx, acct, seed.DemoPassword, fmt.Sprintf("10.77.%d.%d", i/250, i%250+1))
		if err != nil {
			return fmt.Errorf("login %s: %w", acct, err)
		}
		t.toks = append(t.toks, sess.AccessToken)
	}
	return nil
}

func (t *qinqingTarget) name() string               { return "qinqing" }
func (t *qinqingTarget) url() string                { return t.u }
func (t *qinqingTarget) tokens() []string           { return t.toks }
func (t *qinqingTarget) variables() map[string]any  { return map[string]any{"id": t.household} }
func (t *qinqingTarget) commands() map[string]int64 { return t.counter.snapshot() }
func (t *qinqingTarget) close()                     { t.stop() }
func (t *qinqingTarget) dbCPU() time.Duration       { return t.db.cpu() }
func (t *qinqingTarget) fire() error {
	return t.app.Services.Events.Publish(context.Background(), events.Event{Type: "household.updated",
		HouseholdID: t.household, CommunityID: t.communityID, SubjectID: t.household})
}

func (t *bareTarget) dbCPU() time.Duration { return 0 }
