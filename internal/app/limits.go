package app

import (
	"context"
	"net"
	"net/http"
	"time"

	"qinqing/graph"
	"qinqing/internal/platform/config"
)

// limits carries the configured request limits to the GraphQL handler.
func limits(cfg *config.Config) graph.Limits {
	return graph.Limits{
		MaxDepth: cfg.MaxDepth, MaxComplexity: cfg.MaxComplexity, MaxResponseBytes: cfg.MaxResponseBytes,
		OperationTimeout: cfg.OperationTimeout, MaxBodyBytes: cfg.MaxBodyBytes, MaxUploadBytes: cfg.MaxUploadBytes,
		BodyReadTimeout: cfg.BodyReadTimeout,
	}
}

// httpServer is the API's server. A slow sender is cut off: headers must
// arrive within ReadHeaderTimeout, the body within BodyReadTimeout (set per
// request by the GraphQL handler, since http.Server's ReadTimeout would
// also bound websockets, which outlive any read deadline), and an idle
// keep-alive connection is closed after IdleTimeout. No WriteTimeout: a
// long operation is bounded by its own deadline, and a websocket by none.
func (a *App) httpServer() *http.Server {
	return &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: orDefault(a.Cfg.ReadHeaderTimeout, 10*time.Second),
		IdleTimeout:       orDefault(a.Cfg.IdleTimeout, 120*time.Second),
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// serveMetrics serves /metrics on METRICS_ADDR, apart from the API, so it
// can stay on a private interface; it is not served at all without one.
func (a *App) serveMetrics() (stop func(), err error) {
	// "off" as well as empty: the config library gives an empty variable
	// its default, so METRICS_ADDR= alone cannot switch metrics off.
	if a.Cfg.MetricsAddr == "" || a.Cfg.MetricsAddr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.Cfg.MetricsAddr)
	if err != nil {
		return nil, err
	}
	a.metricsAddr.Store(ln.Addr().String())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// MetricsAddr is where /metrics is served ("" if nowhere or not yet).
func (a *App) MetricsAddr() string {
	s, _ := a.metricsAddr.Load().(string)
	return s
}
