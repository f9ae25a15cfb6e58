// Package app wires configuration, database and services into a running
// server. main uses it, and so do the end-to-end tests, which start real
// servers exactly as production does.
package app

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"qinqing/graph"
	"qinqing/internal/access"
	"qinqing/internal/activity"
	"qinqing/internal/announce"
	"qinqing/internal/archive"
	"qinqing/internal/catalog"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/dunning"
	"qinqing/internal/enquiry"
	"qinqing/internal/facility"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/freeservice"
	"qinqing/internal/greeting"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/incident"
	"qinqing/internal/inspection"
	"qinqing/internal/kpi"
	"qinqing/internal/moving"
	"qinqing/internal/notify"
	"qinqing/internal/outcome"
	"qinqing/internal/patrol"
	"qinqing/internal/payment"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/explorer"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/httpserver"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/ratelimit"
	"qinqing/internal/platform/sms"
	"qinqing/internal/platform/wechat"
	"qinqing/internal/platform/wechatpay"
	"qinqing/internal/renovation"
	"qinqing/internal/repair"
	"qinqing/internal/review"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
	"qinqing/internal/survey"
	"qinqing/internal/tasks"
)

// Deps are the outside parts a server talks to; tests replace the senders'
// endpoints with local fakes through config, and the clock here.
type Deps struct {
	DB  *mongo.DB
	Log *slog.Logger
	Now func() time.Time
	// SMS overrides the sender chosen from config (SMS_BASE_URL or the log).
	SMS sms.Sender
	// WechatPay overrides the WeChat Pay client built from config
	// (WECHATPAY_*); New builds it when nil. Nil in NewServices: WeChat Pay off.
	WechatPay *wechatpay.Client
}

// App is a wired server.
type App struct {
	Cfg      *config.Config
	Services *graph.Services
	Metrics  *httpserver.Metrics
	Handler  http.Handler
	Deps     Deps

	shutdown    context.CancelFunc
	baseCtx     context.Context
	bg          *background
	metricsAddr atomic.Value // string, once serving
}

// SensitiveFlagNames lists the archive's sensitive flags as strings for the
// household register's filter rule.
func SensitiveFlagNames() []string {
	out := make([]string, len(archive.SensitiveFlags))
	for i, f := range archive.SensitiveFlags {
		out[i] = string(f)
	}
	return out
}

// NewServices builds the domain services over db.
func NewServices(cfg *config.Config, d Deps, tokens *auth.Tokens) *graph.Services {
	svc, _ := newServices(cfg, d, tokens)
	return svc
}

// background is what runs beside the HTTP server.
type background struct {
	outbox    *notify.Outbox
	triggers  *notify.Triggers
	reminders *notify.Reminders
}

func newServices(cfg *config.Config, d Deps, tokens *auth.Tokens) (*graph.Services, *background) {
	now := d.Now
	communities := community.NewService(d.DB, cfg.CompanyID, now)
	auditor := &lateAuditor{}
	households := household.NewService(d.DB, communities, SensitiveFlagNames(), auditor, now)
	fileStore := files.NewStore(d.DB, now)
	households.UseFiles(fileStore)
	arch := archive.NewService(d.DB, households, now)
	auditor.a = arch
	staffSvc := staff.NewService(d.DB, cfg.CompanyID, communities, households, now)
	sender := d.SMS
	if sender == nil {
		if cfg.SMSBaseURL != "" {
			sender = &sms.HTTPSender{BaseURL: cfg.SMSBaseURL, APIKey: cfg.SMSAPIKey}
			d.Log.Info("SMS gateway is on", "host", hostOf(cfg.SMSBaseURL))
		} else {
			sender = sms.LogSender{Log: d.Log}
			d.Log.Info("SMS gateway is off: SMS_BASE_URL is not set; login codes and texts go to this log")
		}
	}
	wx := &wechat.Client{BaseURL: cfg.WechatBaseURL, AppID: cfg.WechatAppID, Secret: cfg.WechatAppSecret}
	icfg := identity.DefaultConfig()
	icfg.RefreshTTL = cfg.RefreshTTL
	icfg.CodeSecret = []byte(cfg.CodeSecret)
	if len(icfg.CodeSecret) == 0 {
		icfg.CodeSecret = []byte(cfg.JWTSecret) // stable across restarts, secret all the same
	}
	icfg.RefreshReuseGrace = interval(cfg.RefreshReuseGrace, icfg.RefreshReuseGrace)
	bus := events.NewBus(d.DB, d.Log)
	ident := identity.NewService(d.DB, icfg, tokens, sender, wx, staffSvc, households, bus, now, d.Log)
	staffSvc.UseSessions(ident) // deactivating a staff member ends their sessions
	devices := notify.NewDevices(d.DB, now)
	smsCh := &notify.SMS{Sender: sender, Phones: households, Devices: devices}
	senders := []notify.Sender{smsCh}
	fcm, err := notify.NewFCM(context.Background(), notify.FCMConfig{CredentialsFile: cfg.FCMCredentialsFile, ProjectID: cfg.FCMProjectID, Endpoint: cfg.FCMEndpoint}, devices, d.Log)
	switch {
	case err != nil:
		d.Log.Error("FCM channel is off: bad credentials", "err", err)
	case fcm == nil:
		d.Log.Info("FCM channel is off: FCM_CREDENTIALS_FILE is not set (the inbox still works)")
	default:
		senders = append(senders, fcm)
		d.Log.Info("FCM channel is on", "project", fcm.Project(), "endpoint", hostOf(cfg.FCMEndpoint))
	}
	wcfg := notify.WechatConfig{Templates: map[notify.Kind]string{}, Page: cfg.WechatPage, Now: now}
	for k, id := range cfg.WechatTemplates {
		if _, ok := notify.Specs[notify.Kind(k)]; !ok {
			d.Log.Error("WECHAT_TEMPLATES names an unknown message kind; ignored", "kind", k)
			continue
		}
		wcfg.Templates[notify.Kind(k)] = id
	}
	grants := notify.NewWechatGrants(d.DB, wcfg)
	if cfg.WechatAppID != "" && len(wcfg.Templates) > 0 {
		senders = append(senders, notify.NewWechat(wx, nil, d.DB, wcfg, d.Log))
		smsCh.Grants, smsCh.Templates = grants, wcfg.Templates // the mini program reaches its users: no text on top
	}
	logWechat(d.Log, cfg, wcfg.Templates)
	channels := make([]string, len(senders))
	for i, s := range senders {
		channels[i] = s.Channel()
	}
	zones := &zoneCache{communities: communities, m: map[string]*time.Location{}}
	engine := notify.NewEngine(notify.EngineConfig{DB: d.DB, Bus: bus, Zone: zones.get, Channels: channels, Log: d.Log, Now: now})
	households.UseNotifier(invitationNotices{engine})
	households.UseLimiter(ratelimit.New(d.DB, now))
	ident.UseAlerts(notify.LoginAlerts{Engine: engine, Staff: staffSvc}) // staff accounts under attack
	svc := &graph.Services{
		Identity: ident, Communities: communities, Households: households, Archive: arch, Staff: staffSvc,
		Events: bus, Files: fileStore, Now: now,
		Repairs:    repair.NewService(d.DB, households, staffSvc, fileStore, bus, d.Log, now).WithPlaces(communities),
		Complaints: complaint.NewService(d.DB, households, fileStore, bus, d.Log, now).WithStaff(staffSvc),
		Notify:     engine, Devices: devices, WechatGrants: grants,
	}
	svc.Announcements = announce.NewService(d.DB, households, communities, fileStore, engine, d.Log, now).WithAuditor(arch).WithInbox(engine)
	engine.OnRead(announce.InboxKeyPrefix, svc.Announcements.InboxRead) // one read state, both ways
	svc.Greetings = greeting.NewService(greeting.Config{DB: d.DB, Communities: communities, Members: households,
		Profiles: arch, Audit: arch, Sender: engine, Zones: zones.get, Log: d.Log, Now: now})
	svc.Catalog = catalog.NewService(d.DB, communities, now)
	svc.Fees = fee.NewService(d.DB, now).WithRegister(communities, households).WithNotices(engine)
	svc.ServiceOrders = serviceorder.NewService(serviceorder.Config{DB: d.DB, Households: households, Catalog: svc.Catalog,
		Staff: staffSvc, Sender: engine, Bus: bus, Zones: zones.get, Log: d.Log, Now: now})
	callbackAfter := interval(cfg.CallbackDueAfter, 24*time.Hour)
	svc.Tasks = tasks.NewService(d.DB, households, staffSvc, now,
		tasks.RepairCallbacks{Repairs: svc.Repairs, After: callbackAfter},
		tasks.OrderCallbacks{Orders: svc.ServiceOrders, After: callbackAfter},
		tasks.VisitFollowUps{Visits: arch, Zone: zones.get})
	svc.Renovations = renovation.NewService(renovation.Config{DB: d.DB, Households: households, Files: fileStore, Bus: bus,
		Sender: engine, Cleaning: svc.ServiceOrders, Zone: zones.get, Log: d.Log, Now: now})
	svc.Moves = moving.NewService(moving.Config{DB: d.DB, Households: households, Buildings: communities, Bus: bus,
		Sender: engine, Tasks: svc.Tasks, Zone: zones.get, Log: d.Log, Now: now})
	// One notification mechanism, one source per kind of followed job.
	sources := []notify.Source{notify.RepairSource(svc.Repairs), notify.ServiceOrderSource(svc.ServiceOrders), notify.ComplaintSource(), notify.EnquirySource()}
	svc.FreeServices = freeservice.NewService(freeservice.Config{DB: d.DB, Communities: communities, Households: households,
		Repairs: svc.Repairs, Files: fileStore, Sender: engine, Bus: bus, Log: d.Log, Now: now})
	// Anonymous survey responses are keyed by an HMAC of the respondent
	// under this secret (stable across restarts; see survey.Config).
	svc.Surveys = survey.NewService(survey.Config{DB: d.DB, Households: households, Communities: communities,
		Sender: engine, Bus: bus, Zone: zones.get, Secret: icfg.CodeSecret, Log: d.Log, Now: now})
	svc.Activity = activity.NewService(activity.Config{DB: d.DB, Communities: communities, Households: households,
		Files: fileStore, Sender: engine, Bus: bus, Log: d.Log, Now: now})
	svc.Calls = newHotline(svc, d, staffSvc)
	svc.Enquiries = enquiry.NewService(enquiry.Config{DB: d.DB, Households: households, Staff: staffSvc, Sender: engine, Bus: bus, Zone: zones.get, Log: d.Log, Now: now})
	svc.Tasks.AddSource(tasks.OverdueEnquiries{Enquiries: svc.Enquiries})
	font := documentFont(cfg, d.Log)
	svc.Dunning = dunning.NewService(dunning.Config{DB: d.DB, Arrears: feeArrears{svc.Fees}, Communities: communityIDs{communities},
		Holds: []dunning.Holds{complaintHolds{svc.Complaints}, reliefHolds{svc.Fees}}, Households: households, Sender: engine, Zone: zones.get, Now: now,
		Facts: noticeFacts{company: cfg.CompanyName, communities: communities, households: households, fees: svc.Fees, staff: staffSvc},
		Font:  font, Log: d.Log})
	svc.Tasks.AddSource(tasks.FeeCalls{Dunning: svc.Dunning})
	// Open accounts (收支公示), with the collection rate from the bills.
	svc.Finance = finance.NewService(finance.Config{DB: d.DB, Places: communities, Residents: households, Sender: engine, Zone: zones.get, Log: d.Log, Now: now,
		Collection: svc.Fees})
	svc.Committee = committee.NewService(committee.Config{DB: d.DB, Owners: households, Places: communities, Zone: zones.get, Now: now})
	svc.Payments = payment.NewService(payment.Config{DB: d.DB, Fees: svc.Fees, Households: households,
		Communities: communities, Staff: staffSvc, Sender: engine, Wechat: d.WechatPay, Tenants: svc.Fees.TenantsSeeBills, Log: d.Log, Now: now})
	svc.Patrols = patrol.NewService(patrol.Config{DB: d.DB, Staff: staffSvc, Sender: engine, Zone: zones.get, Log: d.Log, Now: now})
	svc.Inspections = inspection.NewService(d.DB, staffSvc, fileStore, engine, d.Log, now).WithZone(zones.get)
	svc.Tasks.AddSource(tasks.CorrectiveTasks{Inspections: svc.Inspections})
	svc.Tasks.AddSource(tasks.DueInspections{Inspections: svc.Inspections})
	svc.Reviews = review.NewService(review.Config{DB: d.DB, Staff: staffSvc, Repairs: svc.Repairs, Orders: svc.ServiceOrders,
		Tasks: svc.Inspections, Patrols: svc.Patrols, Visits: arch, Complaints: svc.Complaints, Zone: zones.get, Log: d.Log, Now: now})
	svc.Facilities = facility.NewService(facility.Config{DB: d.DB, Buildings: communities, Files: fileStore, Sender: engine, Residents: households,
		Zone: zones.get, Log: d.Log, Now: now})
	svc.Incidents = incident.NewService(incident.Config{DB: d.DB, Places: communities, Households: households, Staff: staffSvc,
		Announcements: svc.Announcements, Repairs: svc.Repairs, Sender: engine, Zone: zones.get, Log: d.Log, Now: now})
	svc.KPIs = kpi.NewService(kpi.Config{DB: d.DB, Repairs: svc.Repairs, Complaints: svc.Complaints, Orders: svc.ServiceOrders,
		Surveys: svc.Surveys, Activities: svc.Activity, Calls: svc.Calls, Enquiries: svc.Enquiries, Campaigns: svc.FreeServices, Moves: svc.Moves, Fees: svc.Fees,
		Inspections: svc.Inspections, Patrols: svc.Patrols, Maintenance: svc.Facilities, Incidents: svc.Incidents,
		Communities: communities, Staff: staffSvc, Sender: engine, Committee: svc.Committee, Log: d.Log, Now: now})
	wireFacilities(svc, now)
	// Published outcomes (处理结果公示): counts from complaints and enquiries, surveys' improve-first items.
	svc.Outcomes = outcome.NewService(outcome.Config{DB: d.DB, Places: communities, Complaints: svc.Complaints, Enquiries: svc.Enquiries,
		Surveys: svc.Surveys, Residents: households, Sender: engine, Zone: zones.get, Log: d.Log, Now: now})
	wireVotes(svc, d, communities, households, engine, zones.get, svc.Committee)
	svc.MgmtReports = newReports(svc, communities, households, engine, zones.get, font, cfg.CompanyName, d, now)
	wireMeetings(svc, d.DB, svc.Committee, zones.get, now)
	return svc, &background{
		outbox:   notify.NewOutbox(d.DB, notify.OutboxConfig{Senders: senders, Log: d.Log, Now: now, Bus: bus}),
		triggers: notify.NewTriggers(engine, bus, households, sources, d.Log).WithContactHours(arch),
		reminders: notify.NewReminders(engine, sources, staffSvc, notify.ReminderConfig{
			RatePromptAfter: cfg.RatePromptAfter, CallbackDueAfter: cfg.CallbackDueAfter, OverdueAfter: cfg.CallbackOverdue}, d.Log).WithContactHours(arch),
	}
}

// zoneCache remembers each community's time zone for quiet hours.
type zoneCache struct {
	communities *community.Service
	mu          sync.Mutex
	m           map[string]*time.Location
}

func (z *zoneCache) get(id string) *time.Location {
	z.mu.Lock()
	loc, ok := z.m[id]
	z.mu.Unlock()
	if ok {
		return loc
	}
	loc, _ = time.LoadLocation(community.DefaultTimeZone)
	if cs, err := z.communities.ByIDs(context.Background(), []string{id}); err == nil && cs[id] != nil {
		loc = cs[id].Location()
	}
	z.mu.Lock()
	z.m[id] = loc
	z.mu.Unlock()
	return loc
}

// lateAuditor breaks the construction cycle: households audit sensitive
// filters through the archive, which is built on households.
type lateAuditor struct{ a *archive.Service }

func (l *lateAuditor) RecordFilter(ctx context.Context, c *access.Caller, communityID, flag string) error {
	return l.a.RecordFilter(ctx, c, communityID, flag)
}

// New wires a server over an open database.
func New(cfg *config.Config, d Deps) (*App, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	tokens, err := auth.NewTokens([]byte(cfg.JWTSecret), cfg.AccessTTL, d.Now)
	if err != nil {
		return nil, err
	}
	if d.WechatPay == nil {
		if d.WechatPay, err = wechatpay.FromConfig(cfg, d.Log); err != nil {
			return nil, err
		}
	}
	a := &App{Cfg: cfg, Deps: d, Metrics: httpserver.NewMetrics()}
	a.baseCtx, a.shutdown = context.WithCancel(context.Background())
	a.Services, a.bg = newServices(cfg, d, tokens)
	if a.Services.FileURLs, err = fileSigner(cfg, d.Now); err != nil {
		return nil, err
	}
	logFileURLs(d.Log, cfg)
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHandler(a.Services, graph.HandlerOptions{
		Tokens: tokens, Metrics: a.Metrics, Log: d.Log, Introspection: cfg.IntrospectionOn(), Shutdown: a.baseCtx,
		TrustedProxies: cfg.TrustedPrefixes(), Limits: limits(cfg), Now: d.Now, LoaderWait: cfg.LoaderWait, Websockets: graph.WSLimits{
			InitTimeout: cfg.WSInitTimeout, SubscriptionsPerConnection: cfg.WSSubsPerConnection,
			SubscriptionsPerUser: cfg.WSSubsPerUser, ConnectionsPerUser: cfg.WSConnectionsPerUser, SendQueue: cfg.WSSendQueue,
		},
	}))
	mux.Handle("GET /files/{id}", graph.FilesHandler(a.Services, tokens))
	mux.Handle("GET /reports/surveys/{id}/results.csv", graph.SurveyReportHandler(a.Services, tokens, "csv"))
	mux.Handle("GET /reports/surveys/{id}/quadrant.svg", graph.SurveyReportHandler(a.Services, tokens, "svg"))
	mux.Handle("GET /reports/finance/{file}", graph.FinanceReportHandler(a.Services, tokens))               // {id}.csv, {id}.xlsx
	mux.Handle("GET /documents/dunning/{household}/{file}", graph.DunningNoticeHandler(a.Services, tokens)) // {number}.pdf

	// {id}.pdf of a management report version.
	mux.Handle("GET /documents/management-reports/{file}", graph.ManagementReportHandler(a.Services, tokens))
	if d.WechatPay != nil {
		mux.Handle("POST /pay/wechat/notify", wechatNotify(d.WechatPay, a.Services.Payments, d.Log))
		mux.Handle("POST /pay/wechat/refund-notify", wechatRefundNotify(d.WechatPay, a.Services.Payments, d.Log))
	}
	httpserver.Health(mux, d.DB.Ping)
	// /metrics is on its own address (METRICS_ADDR), never on the API's.
	sec := httpserver.SecurityOptions{HSTS: cfg.Production()}
	if cfg.PlaygroundOn() {
		explorer.Register(mux, "亲情物业 Qinqing GraphQL", "/graphql", cfg.ExplorerCDN)
		if cfg.ExplorerCDN != "" {
			sec.PlaygroundPath = "/" // GraphiQL from the mirror; the embedded page sets its own policy
		}
	}
	a.Handler = logRequests(d.Log, httpserver.SecurityHeaders(mux, sec))
	return a, nil
}

// Run serves on ln, tails the event spine, and sweeps expired login state,
// until ctx is cancelled; then it drains requests and closes websockets.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	stopMetrics, err := a.serveMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBus()
	go func() { _ = a.Services.Events.Run(busCtx) }()
	go a.sweep(busCtx)
	go a.bg.triggers.Run(busCtx)
	go a.bg.outbox.Run(busCtx, a.Cfg.OutboxInterval)
	go a.bg.reminders.Run(busCtx, interval(a.Cfg.ScheduleInterval, time.Minute), a.Deps.Now)
	go a.schedules(busCtx)
	return httpserver.Serve(ctx, a.httpServer(), ln, a.Cfg.ShutdownWait, a.shutdown, a.Deps.Log)
}

// Ready is closed once the event spine is tailing.
func (a *App) Ready() <-chan struct{} { return a.Services.Events.Ready() }

func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Services.Identity.SweepExpired(ctx); err != nil {
				a.Deps.Log.Warn("sweep expired login state", "err", err)
			}
			if err := a.bg.outbox.SweepClaims(ctx, a.Deps.Now()); err != nil {
				a.Deps.Log.Warn("sweep delivery claims", "err", err)
			}
		}
	}
}

// OpenDatabase connects to MONGODB_URI or starts the embedded FerretDB, and
// creates indexes. stop releases what it opened.
func OpenDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (db *mongo.DB, stop func(), err error) {
	uri := cfg.MongoURI
	var emb *mongo.Embedded
	if uri == "" {
		emb, err = mongo.StartEmbeddedAt(ctx, cfg.DataDir, cfg.EmbeddedDBAddr, log)
		if err != nil {
			return nil, nil, err
		}
		uri = emb.URI
		log.Info("using the embedded development database (FerretDB on SQLite); set MONGODB_URI for MongoDB",
			"dataDir", cfg.DataDir, "addr", emb.Addr, "attach", "MONGODB_URI=mongodb://"+emb.Addr+"/")
	}
	if emb == nil {
		log.Info("using the database at MONGODB_URI", "hosts", hostOf(uri), "database", cfg.MongoDB)
	}
	db, err = mongo.Connect(ctx, uri, cfg.MongoDB, mongo.Options{})
	if err != nil {
		if emb != nil {
			emb.Stop()
		}
		return nil, nil, err
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		_ = db.Close(ctx)
		if emb != nil {
			emb.Stop()
		}
		return nil, nil, fmt.Errorf("create indexes: %w", err)
	}
	return db, func() {
		_ = db.Close(context.Background())
		if emb != nil {
			emb.Stop()
		}
	}, nil
}

func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

// Unwrap lets websockets hijack the connection through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack passes websocket upgrades through the wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer cannot hijack")
	}
	return h.Hijack()
}

// Flush supports streaming transports.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func interval(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// schedules runs the time-driven jobs (greetings, announcement fan-outs cut
// short, butler task reminders, renovation, move and free-service schedules);
// every process runs them, the database makes each once.
func (a *App) schedules(ctx context.Context) {
	t := time.NewTicker(interval(a.Cfg.ScheduleInterval, time.Minute))
	defer t.Stop()
	svc := a.Services
	// Each fires what is due at now once across servers (see each Tick).
	jobs := []struct {
		name string
		tick func(context.Context, time.Time) error
	}{
		{"greeting scheduler", svc.Greetings.Tick},
		{"announcement fan-out", func(ctx context.Context, _ time.Time) error {
			_, err := svc.Announcements.ResumePending(ctx)
			return err
		}},
		{"butler task reminders", func(ctx context.Context, now time.Time) error {
			return svc.Tasks.Remind(ctx, now, svc.Notify, svc.Staff)
		}},
		{"renovation scheduler", svc.Renovations.Tick},
		{"move scheduler", svc.Moves.Tick},
		{"free-service scheduler", svc.FreeServices.Tick},
		{"weekly KPI report", svc.KPIs.Tick},
		{"survey scheduler", svc.Surveys.Tick},
		{"community event scheduler", svc.Activity.Tick},
		{"enquiry escalation", svc.Enquiries.Escalate},
		{"fee reminders", svc.Dunning.TickAll},
		{"finance statement notices", svc.Finance.Tick},
		{"management report notices", svc.MgmtReports.Tick},
		{"outcome notices", svc.Outcomes.Tick},
		{"payment settling sweeper", svc.Payments.Tick},
		{"maintenance scheduler", svc.Facilities.Tick},
		{"missed patrol checkpoints", svc.Patrols.Tick},
		{"owners' votes closing", svc.Votes.Tick},
	}
	for {
		for _, j := range jobs {
			if err := j.tick(ctx, a.Deps.Now()); err != nil && ctx.Err() == nil {
				a.Deps.Log.Warn(j.name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
